package reports

import (
	"fmt"
	"io"
	"strconv"

	"github.com/layerwise/parity/diff"
)

// decodeSteps writes a result's decode summary (diff.Decode) for a
// terminal, at the end of Text: one table row per step — its verdict, the
// KL of the logits at its last position, both argmaxes, the top-5 overlap
// and the step's first failing tensor — then the top-1 agreement over the
// steps with its 95% interval and, when the argmaxes part, the first token
// that would differ, both ids decoded, and the tensor that fails first at
// that step. It writes nothing when the result has no decode summary.
//
// Token text comes from a model's vocabulary, so it is printed quoted
// (strconv.Quote), which shows control and formatting characters as
// escapes instead of sending them to the terminal.
func decodeSteps(w io.Writer, r *diff.Result, o TextOptions) error {
	d := r.Decode
	if d == nil {
		return nil
	}
	p := o.Painter
	fmt.Fprintf(w, "\ndecode steps: logits at each step's last position (KL(A‖B) in nats, argmax of each side)\n")
	t := NewTable(w, []string{"step", "position", "verdict", "KL", "top-1 A", "top-1 B", "top-5", "first failing tensor"}, 0, 1, 3, 4, 5, 6)
	for i := range d.Steps {
		st := &d.Steps[i]
		kl, a, b, top5 := "-", "-", "-", "-"
		if lm := st.Logits; lm != nil {
			kl, a, b, top5 = num(lm.KL, 'e', 1), strconv.Itoa(lm.Top1A), strconv.Itoa(lm.Top1B), strconv.Itoa(lm.Top5)+"/5"
			if !st.Agree() {
				b = p.Bad(b)
			}
		}
		first := "-"
		if st.First != nil {
			first = p.Bad(fmt.Sprintf("layer %d %s", st.First.Layer, st.First.Slot))
			if st.First.Layer < 0 {
				first = p.Bad(st.First.Slot.String())
			}
		}
		t.Append(strconv.Itoa(st.Step), strconv.Itoa(st.Position), paintVerdict(p, st.Verdict), kl, a, b, top5, first)
	}
	if err := t.Render(); err != nil {
		return err
	}
	if ag := d.Agreement; ag != nil {
		fmt.Fprintf(w, "top-1 agreement: %d of %d steps; divergence rate %s (95%% Wilson interval %s–%s); max KL %s at step %d\n",
			ag.N-ag.K, ag.N, num(ag.Rate, 'f', 3), num(ag.Low, 'f', 3), num(ag.High, 'f', 3), num(d.MaxKL, 'e', 2), d.MaxKLStep)
	} else {
		fmt.Fprintf(w, "top-1 agreement: no step's logits were compared in full\n")
	}
	f := d.FirstFlip
	if f == nil {
		return nil
	}
	fmt.Fprintf(w, "%s step %d, the token for position %d: A %s, B %s", p.Bad("first differing token:"),
		f.Step, f.Position, tokenText(f.A, f.TextA), tokenText(f.B, f.TextB))
	if st := &d.Steps[f.Step]; st.First != nil {
		fmt.Fprintf(w, "; first failing tensor at that step: %s\n", r.Pairs[st.First.Index].Key())
	} else {
		fmt.Fprintf(w, "; no tensor fails at that step (a near-tie within the budgets)\n")
	}
	return nil
}

// tokenText is an id, followed by its text quoted when the caller decoded it.
func tokenText(id int32, text string) string {
	if text == "" {
		return strconv.Itoa(int(id))
	}
	return strconv.Itoa(int(id)) + " " + strconv.Quote(text)
}
