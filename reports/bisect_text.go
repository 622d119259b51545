package reports

import (
	"fmt"
	"io"
	"strconv"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
)

// Bisection writes a bisection for a terminal: the diff (Text), then
// teacher forcing's attribution — what each layer adds when fed A's input,
// and inside the culprit layer what each operation adds — and the
// reference's three-way verdict.
func Bisection(w io.Writer, bs *diff.Bisection, o TextOptions) error {
	var culprit *probes.Key
	if bs.Attribution != nil {
		culprit = bs.Attribution.Culprit
	}
	if err := writeText(w, bs.Result, culprit, o); err != nil {
		return err
	}
	p := o.Painter
	if at := bs.Attribution; at != nil {
		fmt.Fprintf(w, "\nteacher forcing: each layer of B on A's input to it (what the layer adds by itself)\n")
		t := NewTable(w, []string{"layer", "worst slot", "added NMSE", "budget", "verdict"}, 0, 2, 3)
		for i := range at.Layers {
			l := &at.Layers[i]
			t.Append(strconv.Itoa(l.Layer), l.Slot.String(), num(l.NMSE, 'e', 2), num(l.Threshold.NMSE, 'e', 1), paintVerdict(p, l.Verdict))
		}
		if err := t.Render(); err != nil {
			return err
		}
		if len(at.Ops) > 0 {
			fmt.Fprintf(w, "\nlayer %d, each operation of B on A's inputs to it\n", at.CulpritLayer)
			t := NewTable(w, []string{"op (slot)", "added NMSE", "max |diff|", "budget", "verdict"}, 1, 2, 3)
			for i := range at.Ops {
				op := &at.Ops[i]
				t.Append(op.Slot.String(), num(op.NMSE, 'e', 2), num(op.MaxAbs, 'e', 2), num(op.Threshold.NMSE, 'e', 1), paintVerdict(p, op.Verdict))
			}
			if err := t.Render(); err != nil {
				return err
			}
		}
		if at.Culprit != nil {
			fmt.Fprintf(w, "%s %s — the first operation that fails when fed A's inputs\n", p.Bad("culprit:"), *at.Culprit)
		}
		if at.Note != "" {
			fmt.Fprintf(w, "note: %s\n", clean(at.Note))
		}
	} else if bs.Skipped != "" && bs.Result.First != nil {
		fmt.Fprintf(w, "\nteacher forcing not run: %s\n", clean(bs.Skipped))
	}
	if r := bs.Reference; r != nil {
		fmt.Fprintf(w, "\nreference %s at %s: A %s, B %s — %s\n", clean(r.Engine), r.Key, r.AVerdict, r.BVerdict, clean(r.Statement))
		if r.Note != "" {
			fmt.Fprintf(w, "note: %s\n", clean(r.Note))
		}
	}
	return nil
}
