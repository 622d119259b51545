package probes

import (
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Policy says what a Recorder captures. The zero Policy captures every
// slot of every layer at every step and position, statistics only.
type Policy struct {
	Slots     []Slot    // slots to capture, in catalog order; empty = all
	Layers    []int     // layers to capture, ascending; empty = all (global slots ignore it)
	Steps     []int     // steps to capture, ascending; empty = all
	Positions Positions // token positions to keep within each step
	Mode      Mode      // statistics only, or full tensors too
	Head      int       // leading values kept per record (row-major over its positions)
}

// Mode says whether records keep full tensors.
type Mode uint8

const (
	ModeStats Mode = iota // per-position and aggregate statistics, plus Head values
	ModeFull              // also every value, stored in the trace's sidecar
)

func (m Mode) String() string {
	switch m {
	case ModeStats:
		return "stats"
	case ModeFull:
		return "full"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// MarshalText writes "stats" or "full".
func (m Mode) MarshalText() ([]byte, error) {
	if m > ModeFull {
		return nil, fmt.Errorf("probes: invalid mode %d", uint8(m))
	}
	return []byte(m.String()), nil
}

// UnmarshalText reads "stats" or "full".
func (m *Mode) UnmarshalText(b []byte) error {
	switch string(b) {
	case "stats":
		*m = ModeStats
	case "full":
		*m = ModeFull
	default:
		return fmt.Errorf("probes: unknown mode %q (want stats or full)", b)
	}
	return nil
}

// Positions selects token positions. The zero value selects all of them.
// Last selects, per step, the highest position captured (the last prompt
// token at step 0, the one new token at a decode step), which is what a
// llama.cpp trace covers from the last layer on and what a one-token decode
// covers anyway. List selects explicit positions.
type Positions struct {
	Last bool
	List []int // ascending, distinct; used when Last is false and List is non-empty
}

// String returns "all", "last" or the list in ParseInts syntax.
func (p Positions) String() string {
	switch {
	case p.Last:
		return "last"
	case len(p.List) == 0:
		return "all"
	}
	return FormatInts(p.List)
}

// MarshalText writes String().
func (p Positions) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads what ParsePositions accepts.
func (p *Positions) UnmarshalText(b []byte) error {
	v, err := ParsePositions(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ParsePositions parses "all", "last" or a list such as "0,3,5-9".
func ParsePositions(s string) (Positions, error) {
	switch strings.TrimSpace(s) {
	case "all", "":
		return Positions{}, nil
	case "last":
		return Positions{Last: true}, nil
	}
	l, err := ParseInts(s)
	if err != nil {
		return Positions{}, fmt.Errorf("probes: positions: %w", err)
	}
	return Positions{List: l}, nil
}

// MaxIndex bounds every position, layer and step a policy or trace may
// name: 2^24 positions is far beyond any context length.
const MaxIndex = 1 << 24

// MaxList bounds the length of a policy's layer, step and position lists,
// so a hostile "0-16777215" in a header costs at most 8 MiB, not 128.
const MaxList = 1 << 20

// ParseInts parses a comma-separated list of non-negative integers and
// inclusive ranges ("0-3,7,9-10") into an ascending list without
// duplicates. Spaces around items are allowed; the empty string gives an
// empty list. Values must be below MaxIndex and the list at most MaxList
// long.
func ParseInts(s string) ([]int, error) {
	l, err := parseRuns(s, MaxList)
	if err != nil {
		return nil, err
	}
	slices.Sort(l)
	return slices.Compact(l), nil
}

// FormatInts writes xs in the syntax ParseInts reads, in the given order:
// each run of consecutive ascending values as "a-b", single values as "a".
// Order is kept, so it also encodes lists that are not sorted.
func FormatInts(xs []int) string { return string(appendRuns(nil, xs)) }

func appendRuns(b []byte, xs []int) []byte {
	for i := 0; i < len(xs); {
		j := i
		for j+1 < len(xs) && xs[j+1] == xs[j]+1 {
			j++
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(xs[i]), 10)
		if j > i {
			b = append(b, '-')
			b = strconv.AppendInt(b, int64(xs[j]), 10)
		}
		i = j + 1
	}
	return b
}

// parseRuns parses the FormatInts syntax keeping order and duplicates. It
// rejects values ≥ MaxIndex and lists longer than limit before allocating
// them.
func parseRuns(s string, limit int) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return []int{}, nil
	}
	items := strings.Split(s, ",")
	type run struct{ a, b int }
	runs := make([]run, 0, len(items))
	n := 0
	for _, it := range items {
		it = strings.TrimSpace(it)
		lo, hi, isRange := strings.Cut(it, "-")
		a, err := parseIndex(lo)
		if err != nil {
			return nil, err
		}
		b := a
		if isRange {
			if b, err = parseIndex(hi); err != nil {
				return nil, err
			}
			if b < a {
				return nil, fmt.Errorf("probes: range %q runs backwards", it)
			}
		}
		if n += b - a + 1; n > limit {
			return nil, fmt.Errorf("probes: list %.40q has more than %d elements", s, limit)
		}
		runs = append(runs, run{a, b})
	}
	out := make([]int, 0, n)
	for _, r := range runs {
		for v := r.a; v <= r.b; v++ {
			out = append(out, v)
		}
	}
	return out, nil
}

func parseIndex(s string) (int, error) {
	// Digits only: no sign, no spaces inside, no base prefixes.
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("probes: %q is not a non-negative integer", s)
	}
	v, err := strconv.Atoi(s)
	if err != nil || v >= MaxIndex {
		return 0, fmt.Errorf("probes: %q is out of range [0, %d)", s, MaxIndex)
	}
	return v, nil
}

// ParseSlots parses a comma-separated list of slot patterns into slots in
// catalog order, without duplicates. A pattern is a canonical slot name, a
// path.Match glob over the names ("ffn_*", "?_rope"), "all", or a seed slot
// name ("qkv" = q,k,v; "output" = out; "ffn_silu_gate" = ffn_act;
// "ffn_swiglu_inner" = ffn_swiglu). A pattern matching nothing is an error
// that lists the valid names.
func ParseSlots(s string) ([]Slot, error) {
	var want [numSlots]bool
	for pat := range strings.SplitSeq(s, ",") {
		pat = strings.TrimSpace(pat)
		if pat == "" {
			continue
		}
		if pat == "all" {
			pat = "*"
		}
		matched := false
		for sl := Slot(1); sl < numSlots; sl++ {
			ok, err := path.Match(pat, catalog[sl].Name)
			if err != nil {
				return nil, fmt.Errorf("probes: bad slot pattern %q: %w", pat, err)
			}
			if ok {
				want[sl], matched = true, true
			}
		}
		if !matched {
			seed, ok := SeedSlot(pat)
			if !ok {
				return nil, fmt.Errorf("probes: no slot matches %q; slots are %s", pat, slotNameList())
			}
			for _, sl := range seed {
				want[sl] = true
			}
		}
	}
	var out []Slot
	for _, sl := range Slots() {
		if want[sl] {
			out = append(out, sl)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("probes: empty slot list")
	}
	return out, nil
}

func slotNameList() string {
	names := make([]string, 0, numSlots)
	for _, s := range Slots() {
		names = append(names, s.String())
	}
	return strings.Join(names, ", ")
}

// Validate checks that the policy is well-formed: known, distinct slots;
// ascending distinct layers, steps and positions below MaxIndex, at most
// MaxList of each; a known mode; 0 ≤ Head ≤ MaxHead.
func (p Policy) Validate() error {
	seen := [numSlots]bool{}
	for _, s := range p.Slots {
		if !s.Valid() || seen[s] {
			return fmt.Errorf("probes: policy: invalid or repeated slot %v", s)
		}
		seen[s] = true
	}
	for _, l := range []struct {
		name string
		list []int
	}{{"layers", p.Layers}, {"steps", p.Steps}, {"positions", p.Positions.List}} {
		if len(l.list) > MaxList {
			return fmt.Errorf("probes: policy: more than %d %s", MaxList, l.name)
		}
		for i, v := range l.list {
			if v < 0 || v >= MaxIndex || i > 0 && v <= l.list[i-1] {
				return fmt.Errorf("probes: policy: %s must be ascending, distinct and in [0, %d)", l.name, MaxIndex)
			}
		}
	}
	if p.Positions.Last && len(p.Positions.List) > 0 {
		return errors.New("probes: policy: positions are both last and a list")
	}
	if p.Mode > ModeFull {
		return fmt.Errorf("probes: policy: invalid mode %d", p.Mode)
	}
	if p.Head < 0 || p.Head > MaxHead {
		return fmt.Errorf("probes: policy: head %d outside [0, %d]", p.Head, MaxHead)
	}
	return nil
}

// MaxHead bounds Policy.Head: leading values are a peek, not a dump (use
// ModeFull for that).
const MaxHead = 1 << 16

// policyJSON is Policy's JSON form: lists in ParseInts syntax.
type policyJSON struct {
	Slots     []Slot    `json:"slots,omitempty"`
	Layers    string    `json:"layers,omitempty"`
	Steps     string    `json:"steps,omitempty"`
	Positions Positions `json:"positions"`
	Mode      Mode      `json:"mode"`
	Head      int       `json:"head"`
}

// MarshalJSON writes {"slots":[names],"layers":"0-3","steps":"0",
// "positions":"all","mode":"stats","head":8}, omitting empty lists.
func (p Policy) MarshalJSON() ([]byte, error) {
	return json.Marshal(policyJSON{p.Slots, FormatInts(p.Layers), FormatInts(p.Steps), p.Positions, p.Mode, p.Head})
}

// UnmarshalJSON reads MarshalJSON's form and validates it.
func (p *Policy) UnmarshalJSON(b []byte) error {
	var w policyJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("probes: policy: %w", err)
	}
	layers, err := parseRuns(w.Layers, MaxList)
	if err != nil {
		return err
	}
	steps, err := parseRuns(w.Steps, MaxList)
	if err != nil {
		return err
	}
	v := Policy{Slots: w.Slots, Layers: nilIfEmpty(layers), Steps: nilIfEmpty(steps),
		Positions: w.Positions, Mode: w.Mode, Head: w.Head}
	if err := v.Validate(); err != nil {
		return err
	}
	*p = v
	return nil
}

func nilIfEmpty(l []int) []int {
	if len(l) == 0 {
		return nil
	}
	return l
}
