package probes

import (
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/layerwise/parity/stats"
)

// Recorder is what an engine calls at every capture point. It applies a
// Policy, summarises what it keeps and accumulates Records.
//
// Engines call it unconditionally: a nil *Recorder is valid and records
// nothing, and Wants is a few comparisons, so a capture point that is not
// wanted costs next to nothing. An engine that must do extra work to
// produce a slot's tensor (copying a strided view, say) checks Wants first.
//
// Per record, each position (row) is summarised on its own and the
// aggregate Stats is the ordered merge of the per-position summaries
// (stats.MergeAll in row order), so the result does not depend on how the
// engine split its work across threads.
//
// Methods are safe for concurrent use, but records appear in the order
// Capture is called, so an engine that wants reproducible files captures
// from one goroutine in execution order.
type Recorder struct {
	policy Policy
	slots  [numSlots]bool
	layers []bool // nil: all layers
	steps  []bool // nil: all steps
	pos    []bool // nil: all positions (or Last)

	mu      sync.Mutex
	records []Record
	index   map[Key]int
	err     error
}

// NewRecorder returns a Recorder for the policy.
func NewRecorder(p Policy) (*Recorder, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	r := &Recorder{policy: p, index: make(map[Key]int)}
	if len(p.Slots) == 0 {
		for s := Slot(1); s < numSlots; s++ {
			r.slots[s] = true
		}
	}
	for _, s := range p.Slots {
		r.slots[s] = true
	}
	r.layers = bitmap(p.Layers)
	r.steps = bitmap(p.Steps)
	r.pos = bitmap(p.Positions.List)
	return r, nil
}

func bitmap(list []int) []bool {
	if len(list) == 0 {
		return nil
	}
	m := make([]bool, slices.Max(list)+1)
	for _, v := range list {
		m[v] = true
	}
	return m
}

func in(m []bool, v int) bool { return m == nil || v >= 0 && v < len(m) && m[v] }

// Policy returns the recorder's policy.
func (r *Recorder) Policy() Policy {
	if r == nil {
		return Policy{}
	}
	return r.policy
}

// Wants reports whether the policy captures the slot at this step and
// layer (layer is ignored for global slots). It is false for a nil
// Recorder.
func (r *Recorder) Wants(step, layer int, slot Slot) bool {
	if r == nil || slot >= numSlots || !r.slots[slot] || !in(r.steps, step) {
		return false
	}
	return catalog[slot].Scope == Global || in(r.layers, layer)
}

// Capture records data, a [nTok][perToken] row-major tensor whose row i is
// token position pos0+i, for the slot at this step and layer (−1 for
// global slots). The Recorder copies what it keeps, so the engine may
// reuse data as soon as Capture returns.
//
// A tensor of a key already captured (a prefill split into ubatches)
// extends that record with its positions. Misuse (bad sizes, a layer that
// does not fit the slot, a position captured twice, a PerToken that
// changes) records nothing and is reported by Err.
func (r *Recorder) Capture(step, layer int, slot Slot, pos0, perToken int, data []float32) {
	if !r.Wants(step, layer, slot) {
		return
	}
	if perToken <= 0 || len(data)%perToken != 0 || len(data) == 0 {
		r.fail(Key{step, layer, slot}, "%d values do not form rows of %d", len(data), perToken)
		return
	}
	n := len(data) / perToken
	positions := make([]int, n)
	for i := range positions {
		positions[i] = pos0 + i
	}
	r.capture(Key{step, layer, slot}, positions, perToken, data)
}

// CaptureAt is Capture with explicit positions: row i of data is token
// position positions[i]. Use it when the rows are not consecutive, e.g.
// the output rows of a last layer.
func (r *Recorder) CaptureAt(step, layer int, slot Slot, positions []int, perToken int, data []float32) {
	if !r.Wants(step, layer, slot) {
		return
	}
	if perToken <= 0 || len(data) != len(positions)*perToken || len(data) == 0 {
		r.fail(Key{step, layer, slot}, "%d values for %d positions of %d", len(data), len(positions), perToken)
		return
	}
	r.capture(Key{step, layer, slot}, slices.Clone(positions), perToken, data)
}

func (r *Recorder) capture(k Key, positions []int, perToken int, data []float32) {
	if k.Step < 0 || (k.Layer == -1) != k.Slot.Global() {
		r.fail(k, "bad step or layer for a %s slot", map[bool]string{true: "global", false: "per-layer"}[k.Slot.Global()])
		return
	}
	for _, p := range positions {
		if p < 0 || p >= MaxIndex {
			r.fail(k, "position %d outside [0, %d)", p, MaxIndex)
			return
		}
	}
	// Select the rows the policy keeps; rows[j] indexes data.
	var rows []int
	switch {
	case r.policy.Positions.Last:
		best := 0
		for i, p := range positions {
			if p > positions[best] {
				best = i
			}
		}
		rows = []int{best}
	default:
		for i, p := range positions {
			if in(r.pos, p) {
				rows = append(rows, i)
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	// Summarise outside the lock: this is the expensive part. Each row is
	// summarised on its own, so large captures (a prefill's FFN
	// activations, its logits) are spread over the CPUs without changing
	// a bit; the rows are still merged in order below.
	kept := make([]int, len(rows))
	per := make([]stats.Summary, len(rows))
	for j, i := range rows {
		kept[j] = positions[i]
	}
	summarise := func(j0, j1 int) {
		for j := j0; j < j1; j++ {
			i := rows[j]
			per[j].AddSlice(data[i*perToken : (i+1)*perToken])
		}
	}
	if workers := min(runtime.GOMAXPROCS(0), len(rows)*perToken/parallelValues, len(rows)); workers > 1 {
		var wg sync.WaitGroup
		chunk := (len(rows) + workers - 1) / workers
		for j0 := chunk; j0 < len(rows); j0 += chunk {
			wg.Add(1)
			go func(j0, j1 int) {
				defer wg.Done()
				summarise(j0, j1)
			}(j0, min(j0+chunk, len(rows)))
		}
		summarise(0, min(chunk, len(rows)))
		wg.Wait()
	} else {
		summarise(0, len(rows))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var have []int
	ri, exists := r.index[k]
	if exists {
		rec := &r.records[ri]
		if rec.PerToken != perToken {
			r.failLocked(k, "per_token %d, earlier %d", perToken, rec.PerToken)
			return
		}
		if r.policy.Positions.Last {
			switch old := rec.Positions[0]; {
			case kept[0] < old:
				return // an earlier chunk of the step; the record already has a later position
			case kept[0] > old:
				*rec = Record{Step: k.Step, Layer: k.Layer, Slot: k.Slot, PerToken: perToken}
			}
		}
		have = rec.Positions
	}
	if err := checkNew(have, kept); err != nil {
		r.failLocked(k, "%v", err)
		return
	}
	if !exists {
		ri = len(r.records)
		r.records = append(r.records, Record{Step: k.Step, Layer: k.Layer, Slot: k.Slot, PerToken: perToken})
		r.index[k] = ri
	}
	rec := &r.records[ri]
	for j, i := range rows {
		row := data[i*perToken : (i+1)*perToken]
		if need := r.policy.Head - len(rec.Head); need > 0 {
			rec.Head = append(rec.Head, row[:min(need, perToken)]...)
		}
		if r.policy.Mode == ModeFull {
			rec.Full = append(rec.Full, row...)
		}
		rec.Stats.Merge(per[j])
	}
	rec.Positions = append(rec.Positions, kept...)
	rec.PerPos = append(rec.PerPos, per...)
	rec.Count = int64(len(rec.Positions)) * int64(perToken)
}

// parallelValues is how many values a capture must hold per goroutine
// before its rows are summarised in parallel.
const parallelValues = 1 << 14

// checkNew reports a position of add that repeats one of have or of add.
func checkNew(have, add []int) error {
	seen := make(map[int]bool, len(have)+len(add))
	for _, p := range have {
		seen[p] = true
	}
	for _, p := range add {
		if seen[p] {
			return fmt.Errorf("position %d captured twice", p)
		}
		seen[p] = true
	}
	return nil
}

func (r *Recorder) fail(k Key, format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failLocked(k, format, args...)
}

func (r *Recorder) failLocked(k Key, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("probes: capture %v: %s", k, fmt.Sprintf(format, args...))
	}
}

// Err returns the first capture misuse, or nil.
func (r *Recorder) Err() error {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Records returns the records captured so far, in order of their first
// capture. The records share their slices with the Recorder: treat them as
// read-only, and take them after the run.
func (r *Recorder) Records() []Record {
	if r == nil {
		return nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.records)
}

// Trace returns the trace of the run: h with its Policy set to the
// recorder's, and the records. It fails if a capture was misused or the
// result does not validate against h (set h's tokens with SetTokens and
// its dims first).
func (r *Recorder) Trace(h Header) (*Trace, error) {
	if err := r.Err(); err != nil {
		return nil, err
	}
	h.Policy = r.Policy()
	t := &Trace{Header: h, Records: r.Records()}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return t, nil
}
