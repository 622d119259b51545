package llamacpp

import (
	"errors"
	"fmt"

	"github.com/layerwise/parity/probes"
)

// Pair is one record of an engine's trace lined up with the llama.cpp
// tensor that holds the same slot at the same layer and step.
type Pair struct {
	Record probes.Record
	Entry  *Entry    // the dump row the reference values come from
	Ref    []float32 // llama.cpp's values for exactly Record.Positions, laid out like Record.Full
}

// Positions returns the token positions a step of the dump covers: the
// prompt (0..len(Prompt)−1) for step 0, position len(Prompt)+n−1 for the
// n-th single-token decode.
func (d *Dump) Positions(step int) (first, n int) {
	if step == 0 {
		return 0, len(d.Prompt)
	}
	return len(d.Prompt) + step - 1, 1
}

// Pairs lines up full records (probes.ModeFull) of a run over the dump's
// tokens with the dump's tensors, using the llama.cpp node that
// probes.LlamaCppNode names for the slot and arch. Records of slots that
// llama.cpp does not materialise for arch (e.g. ffn_act, or qwen2's
// unnamed attn_out) are skipped.
//
// The reference is cut down to the record's positions, so a record of a
// subset of positions (probes.Positions.Last, a position list) is paired
// with exactly those rows. A node with fewer rows than its step has
// positions holds the step's last rows: the output rows llama.cpp selects
// before the last layer's FFN when it does not return every logit.
//
// Records that cannot be paired (node absent from the dump, a position the
// node does not hold, sizes that disagree, no full tensor) are reported in
// the returned error, one line each; the pairs that could be made are
// returned all the same, in record order.
func (d *Dump) Pairs(records []probes.Record, arch string) ([]Pair, error) {
	var out []Pair
	var errs []error
	for _, r := range records {
		g, ok := probes.LlamaCppNode(r.Slot, arch)
		if !ok {
			continue
		}
		p, err := d.pair(r, g)
		if err != nil {
			errs = append(errs, fmt.Errorf("llamacpp: %v: %w", r.Key(), err))
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

func (d *Dump) pair(r probes.Record, g probes.GraphName) (Pair, error) {
	name := g.Name(r.Layer)
	e, ok := d.Find(r.Step, name, g.Ops)
	if !ok {
		return Pair{}, fmt.Errorf("node %s %v not in the dump", name, g.Ops)
	}
	if r.PerToken <= 0 || len(r.Full) != len(r.Positions)*r.PerToken {
		return Pair{}, fmt.Errorf("record holds %d values for %d positions of %d (not a full record)", len(r.Full), len(r.Positions), r.PerToken)
	}
	all, err := d.Load(e)
	if err != nil {
		return Pair{}, err
	}
	if len(all)%r.PerToken != 0 {
		return Pair{}, fmt.Errorf("%s holds %d values, not rows of %d", e.File, len(all), r.PerToken)
	}
	first, n := d.Positions(r.Step)
	rows := len(all) / r.PerToken
	if rows > n {
		return Pair{}, fmt.Errorf("%s has %d rows, step %d has %d positions", e.File, rows, r.Step, n)
	}
	first += n - rows // a short node holds the step's last rows
	ref := make([]float32, 0, len(r.Full))
	for _, p := range r.Positions {
		i := p - first
		if i < 0 || i >= rows {
			return Pair{}, fmt.Errorf("%s holds positions %d..%d, not %d", e.File, first, first+rows-1, p)
		}
		ref = append(ref, all[i*r.PerToken:(i+1)*r.PerToken]...)
	}
	return Pair{Record: r, Entry: e, Ref: ref}, nil
}
