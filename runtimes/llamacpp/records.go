package llamacpp

import (
	"errors"
	"fmt"

	"github.com/layerwise/parity/probes"
)

// Report says what a capture found besides the records it fed.
type Report struct {
	Records     int          // records offered to the recorder (before its policy)
	Derived     []probes.Key // records derived from two nodes (see Derivation)
	Unavailable []Missing    // wanted slots llama.cpp does not hold for the arch
	Unmapped    []string     // node names the adapter does not know (see Mapping)
}

// Nodes returns the dump's index rows as graph nodes.
func (d *Dump) Nodes() []Node {
	out := make([]Node, len(d.Entries))
	for i, e := range d.Entries {
		out[i] = Node{Step: e.Step, Name: e.Name, Op: e.Op, Ne: e.Ne}
	}
	return out
}

// Capture feeds the dump's slots for arch, at every step, into rec as
// complete records holding the whole tensors (rec summarises them and keeps
// what its policy asks for). dims gives each slot's elements per token;
// the rows a node holds give its positions (see RowPositions). Slots that
// rec does not want are not read from disk.
func (d *Dump) Capture(rec *probes.Recorder, arch string, dims probes.Dims) (Report, error) {
	nodes := d.Nodes()
	m := MapNodes(arch, nodes)
	rep := newReport(rec, arch, m)
	var errs []error
	for _, a := range m.Slots {
		if !rec.Wants(a.Key.Step, a.Key.Layer, a.Key.Slot) {
			continue
		}
		r, err := d.record(a.Key, a.Node, a.Rows, dims)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		r.Note = a.Note
		rec.Add(r)
		rep.Records++
	}
	for _, dv := range m.Derived {
		if !rec.Wants(dv.Key.Step, dv.Key.Layer, dv.Key.Slot) {
			continue
		}
		r, err := d.derive(dv, dims)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		rec.Add(r)
		rep.Records++
		rep.Derived = append(rep.Derived, dv.Key)
	}
	return rep, errors.Join(errs...)
}

// record loads one node as the slot's complete record.
func (d *Dump) record(k probes.Key, node int, rows probes.Rows, dims probes.Dims) (probes.Record, error) {
	e := &d.Entries[node]
	per := k.Slot.PerToken(dims)
	if per <= 0 {
		return probes.Record{}, fmt.Errorf("llamacpp: %v: the model dims give no size for %s", k, k.Slot)
	}
	data, err := d.Load(e)
	if err != nil {
		return probes.Record{}, err
	}
	pos, err := RowPositions(k.Step, len(d.Prompt), int64(len(data)), per, rows)
	if err != nil {
		return probes.Record{}, fmt.Errorf("llamacpp: %v (%s, %s): %w", k, e.Name, e.File, err)
	}
	return probes.Record{Step: k.Step, Layer: k.Layer, Slot: k.Slot, Positions: pos, PerToken: per,
		Count: int64(len(data)), Full: data}, nil
}

// derive computes minuend − subtrahend in float64, rounded once to
// float32, over the minuend's rows; the subtrahend's matching rows are its
// last ones (in the last layer the minuend holds only the output rows).
func (d *Dump) derive(dv Derivation, dims probes.Dims) (probes.Record, error) {
	r, err := d.record(dv.Key, dv.Minuend, probes.OutputRowsInLastLayer, dims)
	if err != nil {
		return r, err
	}
	sub := &d.Entries[dv.Subtrahend]
	b, err := d.Load(sub)
	if err != nil {
		return r, err
	}
	if len(b) < len(r.Full) || len(b)%r.PerToken != 0 {
		return r, fmt.Errorf("llamacpp: %v: %s holds %d values, cannot cover %d", dv.Key, sub.Name, len(b), len(r.Full))
	}
	b = b[len(b)-len(r.Full):]
	out := make([]float32, len(r.Full))
	for i, a := range r.Full {
		out[i] = float32(float64(a) - float64(b[i]))
	}
	r.Full, r.Derived, r.Note = out, true, dv.Note
	return r, nil
}

// Capture feeds the text's slots for arch into rec as partial records: the
// printed elements at their flat indices, llama.cpp's float32 running sum,
// positions from the rows of ne (see RowPositions). The stock tools run the
// prompt only, so every record is step 0 of a prompt of promptLen tokens.
// Header-only (quantized) nodes give no record.
func (t *Text) Capture(rec *probes.Recorder, arch string, dims probes.Dims, promptLen int) (Report, error) {
	nodes := make([]Node, len(t.Tensors))
	for i, x := range t.Tensors {
		nodes[i] = Node{Step: 0, Name: x.Name, Op: x.Op, Ne: x.Ne}
		if len(x.Src) > 0 {
			nodes[i].Src0 = x.Src[0].Name
		}
	}
	m := MapNodes(arch, nodes)
	m.Derived = nil // stock text prints the unnamed node itself; a difference of printed values would not be exact
	rep := newReport(rec, arch, m)
	var errs []error
	for _, a := range m.Slots {
		x := &t.Tensors[a.Node]
		if !rec.Wants(a.Key.Step, a.Key.Layer, a.Key.Slot) || !x.HasSum {
			continue
		}
		per := a.Key.Slot.PerToken(dims)
		if per <= 0 {
			errs = append(errs, fmt.Errorf("llamacpp: %v: the model dims give no size for %s", a.Key, a.Key.Slot))
			continue
		}
		count := x.Ne[0] * x.Ne[1] * x.Ne[2] * x.Ne[3]
		pos, err := RowPositions(0, promptLen, count, per, a.Rows)
		if err != nil {
			errs = append(errs, fmt.Errorf("llamacpp: %v (%s, line %d): %w", a.Key, x.Name, x.Line, err))
			continue
		}
		sum := x.Sum
		rec.Add(probes.Record{Step: 0, Layer: a.Key.Layer, Slot: a.Key.Slot, Positions: pos, PerToken: per,
			Count: count, Partial: true, Sum: &sum, Known: x.Known, Note: a.Note})
		rep.Records++
	}
	return rep, errors.Join(errs...)
}

func newReport(rec *probes.Recorder, arch string, m Mapping) Report {
	rep := Report{Unmapped: m.Unmapped}
	for _, u := range Unavailable(arch) {
		if rec.Wants(0, 0, u.Slot) || rec.Wants(0, -1, u.Slot) {
			rep.Unavailable = append(rep.Unavailable, u)
		}
	}
	return rep
}

// RowPositions returns the token positions of a node's rows, exactly as
// llama.cpp computed them. Step 0 covers the prompt, positions
// [0, promptLen); step n ≥ 1 decodes the one token at promptLen+n−1. A node
// of count elements holds count/perToken rows; a node with fewer rows
// than its step has tokens holds the step's last rows: the output rows
// that llama.cpp selects (GET_ROWS of inp_out_ids) before the last layer's
// FFN when it does not return every logit. The catalog's rows says where
// that may happen; a node it says holds all rows must.
func RowPositions(step, promptLen int, count int64, perToken int, rows probes.Rows) ([]int, error) {
	if perToken <= 0 || count <= 0 || count%int64(perToken) != 0 {
		return nil, fmt.Errorf("%d elements are not rows of %d", count, perToken)
	}
	first, tokens := 0, promptLen
	if step > 0 {
		first, tokens = promptLen+step-1, 1
	}
	n := count / int64(perToken)
	if n > int64(tokens) {
		return nil, fmt.Errorf("%d rows, but step %d has %d tokens", n, step, tokens)
	}
	if rows == probes.AllRows && n != int64(tokens) {
		return nil, fmt.Errorf("%d rows of %d tokens where llama.cpp computes every row", n, tokens)
	}
	pos := make([]int, n)
	for i := range pos {
		pos[i] = first + tokens - int(n) + i
	}
	return pos, nil
}
