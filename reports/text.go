package reports

import (
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
)

// TextOptions configure Text.
type TextOptions struct {
	Painter Painter
	// Verbose lists every pair. Otherwise the table is compact: per step
	// and layer the pair closest to (or furthest past) its budget, plus
	// every pair that is not PASS.
	Verbose bool
}

// Text writes a diff result for a terminal: a verdict banner, the two
// sides, the token check, notes, the first divergence, a per-layer
// table colored by verdict and, when the traces ran decode steps, the
// per-step section (decodeSteps). It computes nothing: every number is the
// Result's. Strings that come from trace or model files are cleaned of
// control characters first.
func Text(w io.Writer, r *diff.Result, o TextOptions) error {
	return writeText(w, r, nil, o)
}

// writeText writes Text's output; a bisection's culprit, when there is one,
// joins the first divergence under the banner.
func writeText(w io.Writer, r *diff.Result, culprit *probes.Key, o TextOptions) error {
	p := o.Painter
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s vs %s · profile %s · align %s\n", paintVerdict(p, r.Verdict), clean(r.A.Engine), clean(r.B.Engine), r.Profile, r.Align)
	for _, s := range []struct {
		name string
		side *diff.Side
	}{{"A", &r.A}, {"B", &r.B}} {
		fmt.Fprintf(&b, "  %s  %s\n", s.name, describeSide(s.side))
	}
	if !r.Tokens.Match {
		fmt.Fprintf(&b, "%s %s\n", p.Refused("tokens:"), clean(r.Tokens.Reason))
		if r.Fix != "" {
			fmt.Fprintf(&b, "fix: %s\n", clean(r.Fix))
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "tokens: %d prompt ids identical", r.A.PromptLen)
	if d := r.Tokens.Differ; d != nil {
		fmt.Fprintf(&b, "; %s (steps from %d refused)", clean(r.Tokens.Reason), d.Step)
	}
	fmt.Fprintf(&b, "; steps 0-%d compared\n", r.Tokens.Steps)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", clean(n))
	}
	for _, n := range alignmentNotes(r.Pairs) {
		fmt.Fprintf(&b, "alignment: %s (%s)\n", clean(n.Note), count(n.Pairs, "pair"))
	}
	c := r.Counts
	fmt.Fprintf(&b, "%s: %d PASS, %d WARN, %d FAIL, %d REFUSED", count(len(r.Pairs), "pair"), c.Pass, c.Warn, c.Fail, c.Refused)
	if c.Weak > 0 {
		fmt.Fprintf(&b, " (%d on statistics or printed values only: a PASS there is weak evidence)", c.Weak)
	}
	b.WriteByte('\n')
	if f := r.First; f != nil {
		fp := &r.Pairs[f.Index]
		fmt.Fprintf(&b, "%s %s: %s\n", p.Bad("first divergence:"), fp.Key(), clean(fp.Reason))
	}
	if culprit != nil {
		fmt.Fprintf(&b, "%s %s (teacher forcing: the first operation that fails on A's inputs)\n", p.Bad("culprit op:"), *culprit)
	}
	if r.Verdict == diff.Refused {
		fmt.Fprintf(&b, "%s %s\n", p.Refused("refused:"), clean(r.Reason))
		if r.Fix != "" {
			fmt.Fprintf(&b, "fix: %s\n", clean(r.Fix))
		}
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	if len(r.Pairs) == 0 {
		return nil
	}
	if err := pairTable(w, r, o); err != nil {
		return err
	}
	return decodeSteps(w, r, o)
}

func describeSide(s *diff.Side) string {
	var parts []string
	parts = append(parts, fmt.Sprintf("%-5s %s", clean(s.Engine), clean(filepath.Base(s.Model.Path))))
	if s.Model.SHA256 != "" {
		parts = append(parts, "sha256 "+clean(short(s.Model.SHA256))+"…")
	}
	parts = append(parts, fmt.Sprintf("%s (%s)", count(len(s.Tokens), "token"), count(s.Steps, "decode step")),
		fmt.Sprintf("positions %s", s.Policy.Positions), count(s.Records, "record"))
	if s.File != "" {
		parts = append(parts, clean(s.File))
	}
	return strings.Join(parts, " · ")
}

// alignmentNotes returns each distinct reconciliation note with the number
// of pairs it applies to, in order of first appearance.
func alignmentNotes(pairs []diff.Pair) []AlignmentNote {
	var out []AlignmentNote
	at := map[string]int{}
	for i := range pairs {
		s := pairs[i].Note
		if s == "" {
			continue
		}
		j, ok := at[s]
		if !ok {
			j = len(out)
			at[s] = j
			out = append(out, AlignmentNote{Note: s})
		}
		out[j].Pairs++
	}
	return out
}

func pairTable(w io.Writer, r *diff.Result, o TextOptions) error {
	multiStep := r.Tokens.Steps > 0
	header := []string{"layer", "slot", "positions", "N_a", "N_b", "std_a", "std_b", "ratio", "cosine", "NMSE", "verdict", "note"}
	right := []int{0, 3, 4, 5, 6, 7, 8, 9}
	if multiStep {
		header = append([]string{"step"}, header...)
		for i := range right {
			right[i]++
		}
		right = append(right, 0)
	}
	t := NewTable(w, header, right...)
	prev := ""
	for _, i := range selectRows(r.Pairs, o.Verbose) {
		row := pairRow(&r.Pairs[i], o.Painter)
		// A run of pairs refused or failed for the same reason (a whole
		// trace taken at other positions) repeats it once.
		switch n := &row[len(row)-1]; {
		case r.Pairs[i].Verdict == diff.Pass:
			prev = ""
		case *n != "" && *n == prev:
			*n = "〃"
		default:
			prev = *n
		}
		if multiStep {
			row = append([]string{strconv.Itoa(r.Pairs[i].Step)}, row...)
		}
		if err := t.Append(toAny(row)...); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}
	if !o.Verbose {
		_, err := fmt.Fprintln(w, "(compact: the worst pair of each layer and every pair that is not PASS; --verbose lists all)")
		return err
	}
	return nil
}

// selectRows picks the pairs to show, in execution order.
func selectRows(pairs []diff.Pair, verbose bool) []int {
	if verbose {
		out := make([]int, len(pairs))
		for i := range out {
			out[i] = i
		}
		return out
	}
	type group struct{ step, layer int }
	worst := map[group]int{}
	for i := range pairs {
		g := group{pairs[i].Step, pairs[i].Layer}
		if j, ok := worst[g]; !ok || worse(&pairs[i], &pairs[j]) {
			worst[g] = i
		}
	}
	var out []int
	for i := range pairs {
		if pairs[i].Verdict != diff.Pass || worst[group{pairs[i].Step, pairs[i].Layer}] == i {
			out = append(out, i)
		}
	}
	return out
}

// worse orders pairs by verdict, then by how close they come to their
// budget.
func worse(a, b *diff.Pair) bool {
	if a.Verdict != b.Verdict {
		return a.Verdict > b.Verdict
	}
	return score(a) > score(b)
}

// score is a pair's measured error over its budget (0 when it has none).
func score(p *diff.Pair) float64 {
	m := p.Metrics
	if m == nil {
		return 0
	}
	var x, budget float64
	switch {
	case m.Tensor != nil:
		x, budget = float64(m.Tensor.NMSE), float64(m.Threshold.NMSE)
	case m.Stats != nil:
		x, budget = float64(m.Stats.NMSEBound), float64(m.Threshold.NMSE)
	case m.Partial != nil && m.Partial.Known > 0:
		x, budget = float64(m.Partial.MaxAbsDiff), float64(m.Partial.Tolerance)
	}
	switch {
	case x == 0 || math.IsNaN(x):
		return 0
	case budget == 0:
		return math.Inf(1)
	}
	return x / budget
}

func pairRow(p *diff.Pair, paint Painter) []string {
	layer := strconv.Itoa(p.Layer)
	if p.Layer < 0 {
		layer = "-"
	}
	const none = "–"
	row := []string{layer, p.Slot.String()}
	m := p.Metrics
	if m == nil {
		row = append(row, "A "+clean(p.PositionsA)+" / B "+clean(p.PositionsB),
			strconv.FormatInt(p.CountA, 10), strconv.FormatInt(p.CountB, 10), none, none, none, none, none)
	} else {
		n := strconv.FormatInt(m.N, 10)
		row = append(row, clean(m.Positions), n, n)
		if s := m.Stats; s != nil {
			row = append(row, num(s.A.Std, 'g', 4), num(s.B.Std, 'g', 4), num(s.StdRatio, 'f', 4))
		} else {
			row = append(row, none, none, none)
		}
		switch {
		case m.Tensor != nil:
			row = append(row, num(m.Tensor.Cosine, 'f', 6), num(m.Tensor.NMSE, 'e', 2))
		case m.Stats != nil:
			row = append(row, none, "≥"+num(m.Stats.NMSEBound, 'e', 2))
		default:
			row = append(row, none, none)
		}
	}
	verdict := paintVerdict(paint, p.Verdict)
	noteText := clean(p.Reason)
	// Only a PASS is weak: a WARN or FAIL on summaries or printed values
	// rests on a bound the tensors cannot escape (see package diff).
	if m != nil && m.Weak && p.Verdict == diff.Pass {
		verdict += paint.Dim(" weak")
		noteText = string(m.Evidence)
		if pm := m.Partial; pm != nil {
			noteText = partialNote(pm)
		}
	}
	return append(row, verdict, noteText)
}

// partialNote summarises what a passing partial record was checked on.
func partialNote(pm *diff.PartialMetrics) string {
	var parts []string
	if pm.Known > 0 {
		parts = append(parts, fmt.Sprintf("%s, max |Δ| %s ≤ %s", count(pm.Known, "printed value"), num(pm.MaxAbsDiff, 'g', 2), num(pm.Tolerance, 'g', 2)))
	}
	if pm.HasSum {
		parts = append(parts, fmt.Sprintf("mean %s vs %s", num(pm.MeanPartial, 'g', 5), num(pm.MeanOther, 'g', 5)))
	}
	return "partial " + pm.Side + ": " + strings.Join(parts, "; ")
}

// short is the first 12 characters of a hex hash.
func short(h string) string { return h[:min(12, len(h))] }

// count writes n and the noun, plural unless n is 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

// num formats a metric; non-finite values print as NaN, +Inf, -Inf.
func num(f diff.Float, format byte, prec int) string {
	v := float64(f)
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v == 0:
		return "0"
	}
	return strconv.FormatFloat(v, format, prec, 64)
}

func paintVerdict(p Painter, v diff.Verdict) string {
	s := v.String()
	switch v {
	case diff.Pass:
		return p.Good(s)
	case diff.Warn:
		return p.Warn(s)
	case diff.Fail:
		return p.Bad(s)
	}
	return p.Refused(s)
}
