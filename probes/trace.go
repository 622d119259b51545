package probes

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"

	"github.com/layerwise/parity/stats"
)

// Trace is one run's capture: a header and the records in capture order.
type Trace struct {
	Header  Header
	Records []Record
}

// Header describes the run a trace was taken from. Every field is data of
// the run, nothing of the moment: Created is optional so that the same run
// can produce byte-identical files.
type Header struct {
	Runtime       string            `json:"runtime"`                  // "parity" or "llama.cpp <version>"
	Engine        string            `json:"engine"`                   // "apr", "gguf", "llamacpp-dump", …
	EngineOptions map[string]string `json:"engine_options,omitempty"` // written with sorted keys
	Model         Model             `json:"model"`

	// Tokens are the ids fed at positions 0, 1, …: the prompt, then one id
	// per decode step. Step 0 (prefill) covers positions [0, PromptLen);
	// step n ≥ 1 feeds Tokens[PromptLen+n−1] at that position.
	Tokens    []int32 `json:"tokens"`
	PromptLen int     `json:"prompt_len"`

	// TokensSHA256 is TokenHash(Tokens). Two traces whose hashes differ were
	// not run over the same input and must not be compared.
	TokensSHA256 string `json:"tokens_sha256"`

	Policy  Policy `json:"policy"`
	Tool    string `json:"tool,omitempty"`    // version of the program that wrote the trace
	Created string `json:"created,omitempty"` // optional RFC 3339 time; leave empty for reproducible files
}

// Model identifies the model file a trace was taken from.
type Model struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"` // hex of the file's SHA-256; empty if not computed
	Arch   string `json:"arch"`             // general.architecture
	Dims   Dims   `json:"dims"`
}

// TokenHash returns the hex SHA-256 of ids encoded as consecutive
// little-endian int32s (4 bytes per id, no length prefix).
func TokenHash(ids []int32) string {
	b := make([]byte, 4*len(ids))
	for i, id := range ids {
		binary.LittleEndian.PutUint32(b[4*i:], uint32(id))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// SetTokens sets Tokens, PromptLen and TokensSHA256 together.
func (h *Header) SetTokens(ids []int32, promptLen int) {
	h.Tokens = slices.Clone(ids)
	h.PromptLen = promptLen
	h.TokensSHA256 = TokenHash(ids)
}

// Record is one slot's capture at one step and layer.
//
// Data layout: the captured tensor is [len(Positions)][PerToken] row-major,
// row i belonging to token position Positions[i]. Count is the element
// count len(Positions)·PerToken.
//
// A complete record (Partial false) carries Stats over all Count elements,
// equal bit for bit to stats.MergeAll(PerPos) when PerPos is present (the
// Recorder always fills it), plus optional Head and Full values.
//
// A partial record holds what a runtime printed rather than what it
// computed in full, e.g. llama.cpp's stock eval-callback text: a few Known
// elements and a float32 running Sum. Its Stats is the zero Summary and it
// has no PerPos, so code that forgets to check Partial sees Stats.Count (0)
// differ from Count and refuses to compare instead of comparing nonsense.
type Record struct {
	Step      int
	Layer     int // -1 for global slots
	Slot      Slot
	Positions []int // token positions, in row order; distinct
	PerToken  int
	Count     int64

	Stats  stats.Summary   // aggregate over all elements (zero if Partial)
	PerPos []stats.Summary // one per position, same order as Positions
	Head   []float32       // the first min(Policy.Head, Count) elements
	Full   []float32       // all Count elements, or nil; stored in the sidecar

	Partial bool
	Sum     *float64 // partial records: sum of all elements as the runtime reported it
	Known   []Known  // partial records: the elements the runtime printed, by flat index

	Derived bool   // computed from other records or nodes rather than captured
	Note    string // free text, e.g. how a derived record was obtained
}

// Known is one element of a partial record: its flat row-major index in
// [0, Count) and its value.
type Known struct {
	Index int64
	Value float32
}

// Key returns the record's key.
func (r *Record) Key() Key { return Key{r.Step, r.Layer, r.Slot} }

// Mean returns the mean of the record's elements: Stats.Mean (finite
// elements) for a complete record, Sum/Count for a partial one. ok is
// false for a partial record without a sum.
func (r *Record) Mean() (mean float64, ok bool) {
	if !r.Partial {
		return r.Stats.Mean, r.Stats.Finite() > 0
	}
	if r.Sum == nil || r.Count == 0 {
		return 0, false
	}
	return *r.Sum / float64(r.Count), true
}

// Errors of the reconciliation helpers.
var (
	ErrNoPerPos        = errors.New("probes: record has no per-position statistics")
	ErrPositionMissing = errors.New("probes: position not in record")
	ErrNoFull          = errors.New("probes: record has no full tensor")
)

// Restrict returns the summary of the record's elements at exactly the
// given positions: the ordered merge (stats.MergeAll) of their per-position
// summaries in the order given. Passing r.Positions reproduces r.Stats bit
// for bit. It fails with ErrNoPerPos if the record has no per-position
// data and ErrPositionMissing if a position is absent or repeated; it
// never falls back to the aggregate, which covers other samples.
func (r *Record) Restrict(positions []int) (stats.Summary, error) {
	if len(r.PerPos) == 0 || len(r.PerPos) != len(r.Positions) {
		return stats.Summary{}, fmt.Errorf("%w: %v", ErrNoPerPos, r.Key())
	}
	idx, err := r.rows(positions)
	if err != nil {
		return stats.Summary{}, err
	}
	var s stats.Summary
	for _, i := range idx {
		s.Merge(r.PerPos[i])
	}
	return s, nil
}

// FullRows returns the full-tensor rows at the given positions, in the
// order given, as one [len(positions)][PerToken] row-major slice.
func (r *Record) FullRows(positions []int) ([]float32, error) {
	if r.Full == nil {
		return nil, fmt.Errorf("%w: %v", ErrNoFull, r.Key())
	}
	idx, err := r.rows(positions)
	if err != nil {
		return nil, err
	}
	out := make([]float32, 0, len(idx)*r.PerToken)
	for _, i := range idx {
		out = append(out, r.Full[i*r.PerToken:(i+1)*r.PerToken]...)
	}
	return out, nil
}

// rows maps positions to row indices, rejecting absent and repeated ones.
func (r *Record) rows(positions []int) ([]int, error) {
	at := make(map[int]int, len(r.Positions))
	for i, p := range r.Positions {
		at[p] = i
	}
	idx := make([]int, len(positions))
	seen := make(map[int]bool, len(positions))
	for k, p := range positions {
		i, ok := at[p]
		if !ok || seen[p] {
			return nil, fmt.Errorf("%w: %d in %v", ErrPositionMissing, p, r.Key())
		}
		seen[p] = true
		idx[k] = i
	}
	return idx, nil
}

// CommonPositions returns the positions present in both records, ascending:
// the sample two records can be compared over.
func CommonPositions(a, b *Record) []int {
	in := make(map[int]bool, len(a.Positions))
	for _, p := range a.Positions {
		in[p] = true
	}
	var out []int
	for _, p := range b.Positions {
		if in[p] {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}

// Find returns the record with the key, or nil. It scans; use Index for
// many lookups.
func (t *Trace) Find(k Key) *Record {
	for i := range t.Records {
		if t.Records[i].Key() == k {
			return &t.Records[i]
		}
	}
	return nil
}

// Index maps each key to its record. Keys are unique in a valid trace.
func (t *Trace) Index() map[Key]*Record {
	m := make(map[Key]*Record, len(t.Records))
	for i := range t.Records {
		m[t.Records[i].Key()] = &t.Records[i]
	}
	return m
}

// SortByOrder sorts the records into execution order (CompareOrder).
func (t *Trace) SortByOrder() {
	slices.SortStableFunc(t.Records, func(a, b Record) int { return CompareOrder(a.Key(), b.Key()) })
}
