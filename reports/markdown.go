package reports

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/layerwise/parity/diff"
)

// Markdown writes d for a pull-request comment (GitHub-flavoured
// markdown): the headline, the first divergence with its numbers, a
// per-layer table of the key metric with sparklines, teacher forcing's
// attribution, the sample-parity decisions, the full tables folded in
// <details>, the command that reproduces the result, and the tool and
// model hashes. No images: GitHub strips inline SVG and data: URLs.
//
// Every string that comes from a trace or model file goes through md,
// which escapes what markdown would interpret, so a model name can
// neither inject HTML nor break a table.
func Markdown(w io.Writer, d *Document) error {
	var b strings.Builder
	r, s := d.Result, &d.Summary
	fmt.Fprintf(&b, "### %s %s\n\n", icon(s.Verdict), md(s.Headline))
	c := r.Counts
	fmt.Fprintf(&b, "**%s** · %s: %d PASS, %d WARN, %d FAIL, %d REFUSED · profile `%s` · align `%s`",
		s.Verdict, count(len(r.Pairs), "pair"), c.Pass, c.Warn, c.Fail, c.Refused, r.Profile, r.Align)
	if c.Weak > 0 {
		fmt.Fprintf(&b, " · %d judged on summaries or printed values only (weak evidence)", c.Weak)
	}
	b.WriteString("\n\n")
	mdCallout(&b, d)
	mdDepth(&b, d)
	mdDecode(&b, d)
	mdAttribution(&b, d)
	mdSampleParity(&b, d)
	if len(r.Pairs) > 0 {
		fmt.Fprintf(&b, "<details><summary>All %s</summary>\n\n", count(len(r.Pairs), "pair"))
		mdTable(&b, []string{"step", "layer", "slot", "positions", "N_a", "N_b", "std_a", "std_b", "ratio", "cosine", "NMSE", "budget", "verdict", "note"},
			"---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---", len(r.Pairs), func(i int) []string { return mdPairRow(&r.Pairs[i]) })
		b.WriteString("\n</details>\n\n")
	}
	fmt.Fprintf(&b, "<details><summary>Thresholds (profile %s; WARN up to %g× the budget)</summary>\n\n", r.Profile, r.WarnFactor)
	mdTable(&b, []string{"slot", "NMSE budget", "source"}, "---|---:|---", len(r.Thresholds), func(i int) []string {
		t := &r.Thresholds[i]
		return []string{"`" + t.Slot.String() + "`", num(t.NMSE, 'e', 1), md(t.Source)}
	})
	b.WriteString("\n</details>\n\n")
	mdProvenance(&b, d)
	_, err := io.WriteString(w, b.String())
	return err
}

// mdCallout writes the first divergence (or the refusal) as a GitHub alert.
func mdCallout(b *strings.Builder, d *Document) {
	r, s := d.Result, &d.Summary
	switch {
	case s.First != nil:
		p := &r.Pairs[s.First.Pair]
		fmt.Fprintf(b, "> [!CAUTION]\n> **First divergence: %s**\n>\n> %s\n", mdKey(s.First.Key), mdPairNumbers(p))
		fmt.Fprintf(b, ">\n> %s\n", md(p.Reason))
		if op := s.Culprit; op != nil {
			fmt.Fprintf(b, ">\n> **Culprit op (teacher forcing): %s** adds NMSE %s by itself when fed A's inputs (budget %s, max |Δ| %s)",
				mdKey(keyOf(op.Key())), num(op.NMSE, 'e', 2), num(op.Threshold.NMSE, 'e', 2), num(op.MaxAbs, 'g', 3))
			if l := s.CulpritLayer; l != nil {
				fmt.Fprintf(b, "; layer %d is the first layer that fails on A's input", l.Layer)
			}
			b.WriteString(".\n")
		}
		if ref := d.Reference; ref != nil {
			fmt.Fprintf(b, ">\n> **Reference %s:** A %s, B %s — %s\n", md(ref.Engine), ref.AVerdict, ref.BVerdict, md(sentence(ref.Statement)))
			if ref.Note != "" {
				fmt.Fprintf(b, "> %s\n", md(sentence(ref.Note)))
			}
		}
		if r.Verdict == diff.Refused {
			fmt.Fprintf(b, ">\n> **Refused:** %s\n", md(r.Reason))
		}
		b.WriteByte('\n')
	case r.Verdict == diff.Refused:
		fmt.Fprintf(b, "> [!WARNING]\n> **Refused:** %s\n", md(r.Reason))
		if r.Fix != "" {
			fmt.Fprintf(b, ">\n> **Fix:** %s\n", md(r.Fix))
		}
		b.WriteByte('\n')
	}
}

// mdPairNumbers is a pair's ledger in one line.
func mdPairNumbers(p *diff.Pair) string {
	m := p.Metrics
	if m == nil {
		return "REFUSED: no numbers (different samples)"
	}
	var parts []string
	if e := errorOf(p); e != nil {
		parts = append(parts, fmt.Sprintf("**%s** against a budget of %s (WARN limit %s)",
			errorText(e), num(e.Budget, 'e', 2), num(diff.Float(m.Threshold.Warn()), 'e', 2)))
	}
	if t := m.Tensor; t != nil {
		parts = append(parts, "cosine "+num(t.Cosine, 'f', 6), "SQNR "+num(t.SQNR, 'f', 1)+" dB",
			fmt.Sprintf("max |Δ| %s at position %d, element %d", num(t.MaxAbsDiff, 'g', 3), t.MaxAbsPos, t.MaxAbsElem))
	}
	if st := m.Stats; st != nil {
		parts = append(parts, fmt.Sprintf("std_a %s → std_b %s (ratio %s)", num(st.A.Std, 'g', 4), num(st.B.Std, 'g', 4), num(st.StdRatio, 'f', 4)))
	}
	parts = append(parts, fmt.Sprintf("positions %s, N = %d (%s evidence)", md(m.Positions), m.N, m.Evidence))
	return strings.Join(parts, " · ")
}

// mdDepth writes the per-layer table of the focus step.
func mdDepth(b *strings.Builder, d *Document) {
	s := &d.Summary
	var rows []*LayerRow
	for i := range s.Layers {
		if s.Layers[i].Step == s.FocusStep {
			rows = append(rows, &s.Layers[i])
		}
	}
	if len(rows) == 0 {
		return
	}
	fmt.Fprintf(b, "#### Error by depth (step %d)\n\n", s.FocusStep)
	for _, dl := range s.Depth {
		if dl.Step == s.FocusStep {
			fmt.Fprintf(b, "Worst error of each layer, embed → head: `%s` (log scale %s … %s)\n\n", dl.Sparkline, num(s.Scale.Lo, 'e', 1), num(s.Scale.Hi, 'e', 1))
		}
	}
	mdTable(b, []string{"layer", "worst slot", "NMSE", "budget", "verdict", "each slot ▁…█"}, "---:|---|---:|---:|---|---", len(rows), func(i int) []string {
		row := rows[i]
		e, budget := "–", "–"
		if row.Error != nil {
			e, budget = mdError(row.Error), num(row.Error.Budget, 'e', 1)
		}
		return []string{row.Label, "`" + row.WorstKey.Slot.String() + "`", e, budget, mdVerdict(row.Verdict), "`" + row.Sparkline + "`"}
	})
	b.WriteString("\n")
	if len(s.Depth) > 1 {
		b.WriteString("<details><summary>Depth profile of every step</summary>\n\n")
		for _, dl := range s.Depth {
			fmt.Fprintf(b, "- step %d: `%s`\n", dl.Step, dl.Sparkline)
		}
		b.WriteString("\n</details>\n\n")
	}
}

// mdDecode writes the decode summary: the logits of every step, the top-1
// agreement with its interval, and the first token that would differ.
func mdDecode(b *strings.Builder, d *Document) {
	r := d.Result
	dc := r.Decode
	if dc == nil {
		return
	}
	b.WriteString("#### Decode steps\n\nLogits at each step's last position: KL(A‖B) in nats, the argmax of each side, the top-5 overlap.\n\n")
	if line, sc := klSparkline(dc); line != "" {
		fmt.Fprintf(b, "KL per step, step 0 → %d: `%s` (log scale %s … %s)\n\n", len(dc.Steps)-1, line, num(sc.Lo, 'e', 1), num(sc.Hi, 'e', 1))
	}
	mdTable(b, []string{"step", "position", "verdict", "KL", "top-1 A", "top-1 B", "top-5", "first failing tensor"}, "---:|---:|---|---:|---:|---:|---:|---",
		len(dc.Steps), func(i int) []string {
			st := &dc.Steps[i]
			row := []string{strconv.Itoa(st.Step), strconv.Itoa(st.Position), mdVerdict(st.Verdict), "–", "–", "–", "–", "–"}
			if lm := st.Logits; lm != nil {
				row[3], row[4], row[5], row[6] = num(lm.KL, 'e', 1), strconv.Itoa(lm.Top1A), strconv.Itoa(lm.Top1B), strconv.Itoa(lm.Top5)+"/5"
				if !st.Agree() {
					row[5] = "**" + row[5] + "**"
				}
			}
			if f := st.First; f != nil {
				row[7] = mdKey(Key{Step: f.Step, Layer: f.Layer, Slot: f.Slot})
			}
			return row
		})
	b.WriteByte('\n')
	if ag := dc.Agreement; ag != nil {
		fmt.Fprintf(b, "Top-1 agreement: %d of %d steps; divergence rate %s (%s%% Wilson interval %s–%s); max KL %s at step %d.\n\n",
			ag.N-ag.K, ag.N, num(ag.Rate, 'f', 3), num(ag.Confidence*100, 'f', 0), num(ag.Low, 'f', 3), num(ag.High, 'f', 3), num(dc.MaxKL, 'e', 2), dc.MaxKLStep)
	}
	if f := dc.FirstFlip; f != nil {
		fmt.Fprintf(b, "**First differing token:** step %d, the token for position %d: A %s, B %s", f.Step, f.Position, mdToken(f.A, f.TextA), mdToken(f.B, f.TextB))
		if st := &dc.Steps[f.Step]; st.First != nil {
			fmt.Fprintf(b, "; first failing tensor at that step: %s.\n\n", mdKey(Key{Step: st.First.Step, Layer: st.First.Layer, Slot: st.First.Slot}))
		} else {
			b.WriteString("; no tensor fails at that step (a near-tie within the budgets).\n\n")
		}
	}
}

// mdToken is a token id followed by its text, quoted and escaped, when
// the caller decoded it.
func mdToken(id int32, text string) string {
	if text == "" {
		return strconv.Itoa(int(id))
	}
	return strconv.Itoa(int(id)) + " " + md(strconv.Quote(text))
}

func mdAttribution(b *strings.Builder, d *Document) {
	at := d.Attribution
	if at == nil {
		if d.AttributionSkipped != "" && d.Summary.First != nil {
			fmt.Fprintf(b, "#### Teacher forcing\n\nNot run: %s\n\n", md(d.AttributionSkipped))
		}
		return
	}
	b.WriteString("#### Teacher forcing\n\nEach layer of B run on A's input to it: what the layer adds by itself, with everything inherited removed.\n\n")
	mdTable(b, []string{"layer", "worst slot", "added NMSE", "budget", "verdict"}, "---:|---|---:|---:|---", len(at.Layers), func(i int) []string {
		l := &at.Layers[i]
		return []string{strconv.Itoa(l.Layer), "`" + l.Slot.String() + "`", num(l.NMSE, 'e', 2), num(l.Threshold.NMSE, 'e', 1), mdVerdict(l.Verdict)}
	})
	b.WriteByte('\n')
	if op := d.Summary.Culprit; op != nil {
		fmt.Fprintf(b, "**Culprit op:** %s, the first operation that fails when fed A's inputs.\n\n", mdKey(keyOf(op.Key())))
	}
	if at.Note != "" {
		fmt.Fprintf(b, "%s\n\n", md(at.Note))
	}
	if len(at.Ops) > 0 {
		fmt.Fprintf(b, "<details><summary>Layer %d, each operation of B on A's inputs to it</summary>\n\n", at.CulpritLayer)
		mdTable(b, []string{"op (slot)", "added NMSE", "max abs diff", "budget", "verdict"}, "---|---:|---:|---:|---", len(at.Ops), func(i int) []string {
			op := &at.Ops[i]
			return []string{"`" + op.Slot.String() + "`", num(op.NMSE, 'e', 2), num(op.MaxAbs, 'e', 2), num(op.Threshold.NMSE, 'e', 1), mdVerdict(op.Verdict)}
		})
		b.WriteString("\n</details>\n\n")
	}
}

// maxListed is how many pairs a refusal lists by name.
const maxListed = 8

func mdSampleParity(b *strings.Builder, d *Document) {
	r, s := d.Result, &d.Summary
	b.WriteString("#### Sample parity\n\n")
	if r.Tokens.Match {
		fmt.Fprintf(b, "- Tokens: %d prompt ids identical (sha256 `%s…`); steps 0–%d compared", r.A.PromptLen, md(short(r.A.TokensSHA256)), r.Tokens.Steps)
		if r.Tokens.Differ != nil {
			fmt.Fprintf(b, "; %s", md(r.Tokens.Reason))
		}
		b.WriteString(".\n")
	} else {
		fmt.Fprintf(b, "- Tokens: **REFUSED** — %s.\n", md(r.Tokens.Reason))
	}
	for _, n := range s.Alignment {
		fmt.Fprintf(b, "- Alignment: %s (%s)\n", md(n.Note), count(n.Pairs, "pair"))
	}
	for _, n := range r.Notes {
		fmt.Fprintf(b, "- Note: %s\n", md(sentence(n)))
	}
	if r.OnlyA > 0 || r.OnlyB > 0 {
		fmt.Fprintf(b, "- Unpaired records: %d only in A, %d only in B.\n", r.OnlyA, r.OnlyB)
	}
	for _, f := range s.Refusals {
		fmt.Fprintf(b, "- **REFUSED** (%s): %s", count(len(f.Pairs), "pair"), md(f.Reason))
		if f.Fix != "" {
			fmt.Fprintf(b, " — fix: %s", md(f.Fix))
		}
		var keys []string
		for _, k := range f.Pairs[:min(len(f.Pairs), maxListed)] {
			keys = append(keys, mdKey(k))
		}
		fmt.Fprintf(b, " — %s", strings.Join(keys, ", "))
		if n := len(f.Pairs) - maxListed; n > 0 {
			fmt.Fprintf(b, " and %d more", n)
		}
		b.WriteString(".\n")
	}
	b.WriteByte('\n')
}

func mdProvenance(b *strings.Builder, d *Document) {
	r := d.Result
	if d.Reproduce != "" {
		fence := codeFence(d.Reproduce)
		fmt.Fprintf(b, "#### Reproduce\n\n%ssh\n%s\n%s\n\n", fence, d.Reproduce, fence)
	}
	if len(d.Traces) > 0 {
		var names []string
		for _, t := range d.Traces {
			names = append(names, "`"+md(t)+"`")
		}
		fmt.Fprintf(b, "Traces beside this report: %s; `parity diff` re-judges them offline.\n\n", strings.Join(names, ", "))
	}
	b.WriteString("#### Models\n\n")
	mdTable(b, []string{"", "runtime", "engine", "model", "bytes", "arch", "sha256"}, "---|---|---|---|---:|---|---", 2, func(i int) []string {
		sd, name := &r.A, "A"
		if i == 1 {
			sd, name = &r.B, "B"
		}
		return []string{name, md(sd.Runtime), md(sd.Engine), md(sd.Model.Path), strconv.FormatInt(sd.Model.Size, 10), md(sd.Model.Arch), md(sd.Model.SHA256)}
	})
	b.WriteByte('\n')
	var foot []string
	if d.Tool != "" {
		foot = append(foot, md(d.Tool))
	}
	if d.Created != nil {
		foot = append(foot, d.Created.Format("2006-01-02 15:04:05 MST"))
	}
	foot = append(foot, fmt.Sprintf("report format %s v%d", ReportFormat, ReportVersion))
	fmt.Fprintf(b, "<sub>%s</sub>\n", strings.Join(foot, " · "))
}

// mdTable writes a GitHub table: header, the alignment row, n rows.
func mdTable(b *strings.Builder, header []string, align string, n int, row func(int) []string) {
	fmt.Fprintf(b, "| %s |\n|%s|\n", strings.Join(header, " | "), align)
	for i := range n {
		fmt.Fprintf(b, "| %s |\n", strings.Join(row(i), " | "))
	}
}

func mdPairRow(p *diff.Pair) []string {
	layer := strconv.Itoa(p.Layer)
	if p.Layer < 0 {
		layer = "–"
	}
	row := []string{strconv.Itoa(p.Step), layer, "`" + p.Slot.String() + "`"}
	note := p.Reason
	if p.Note != "" {
		note = strings.TrimPrefix(note+"; "+p.Note, "; ")
	}
	m := p.Metrics
	if m == nil {
		return append(row, "A "+md(p.PositionsA)+" / B "+md(p.PositionsB), strconv.FormatInt(p.CountA, 10), strconv.FormatInt(p.CountB, 10),
			"–", "–", "–", "–", "–", "–", mdVerdict(p.Verdict), md(note))
	}
	n := strconv.FormatInt(m.N, 10)
	row = append(row, md(m.Positions), n, n)
	if st := m.Stats; st != nil {
		row = append(row, num(st.A.Std, 'g', 4), num(st.B.Std, 'g', 4), num(st.StdRatio, 'f', 4))
	} else {
		row = append(row, "–", "–", "–")
	}
	cos, e := "–", "–"
	if m.Tensor != nil {
		cos = num(m.Tensor.Cosine, 'f', 6)
	}
	if x := errorOf(p); x != nil {
		e = mdError(x)
	}
	verdict := mdVerdict(p.Verdict)
	if m.Weak && p.Verdict == diff.Pass {
		verdict += " (weak)"
		note = strings.TrimPrefix(note+"; "+string(m.Evidence)+" evidence", "; ")
	}
	return append(row, cos, e, num(m.Threshold.NMSE, 'e', 1), verdict, md(note))
}

func mdError(e *Error) string {
	if e.Kind == "nmse_bound" {
		return "≥" + num(e.Value, 'e', 2)
	}
	return num(e.Value, 'e', 2)
}

func mdKey(k Key) string {
	if k.Layer < 0 {
		return fmt.Sprintf("step %d `%s`", k.Step, k.Slot)
	}
	return fmt.Sprintf("step %d · layer %d · `%s`", k.Step, k.Layer, k.Slot)
}

func mdVerdict(v diff.Verdict) string { return icon(v) + " " + v.String() }

func icon(v diff.Verdict) string {
	switch v {
	case diff.Pass:
		return "✅"
	case diff.Warn:
		return "⚠️"
	case diff.Fail:
		return "❌"
	}
	return "⛔"
}

// md escapes s for markdown text and table cells: it is cleaned of
// control characters and line breaks (a newline would end a table row),
// and every character GitHub-flavoured markdown could read as syntax
// mid-line is backslash-escaped — emphasis, code, links and images,
// raw HTML and entities, table pipes, strikethrough, math, and a heading's
// closing #. Line-start syntax (lists, headings) cannot arise: md's text
// never starts a line.
func md(s string) string {
	s = clean(s)
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune("\\`*_[]<>|~&$!#", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// sentence ends s with a full stop unless it ends with punctuation.
func sentence(s string) string {
	if strings.HasSuffix(s, ".") || strings.HasSuffix(s, "…") || strings.HasSuffix(s, "!") || strings.HasSuffix(s, "?") {
		return s
	}
	return s + "."
}

// codeFence returns a backtick fence longer than any backtick run in s,
// so that s cannot close the code block it is put in.
func codeFence(s string) string {
	longest, run := 0, 0
	for _, r := range s {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return strings.Repeat("`", max(3, longest+1))
}

// klSparkline draws each decode step's logits KL on one log scale (at most
// six decades, like the layer sparklines); "·" marks a step whose logits
// were not compared in full. It returns "" when no step has a KL above 0.
func klSparkline(dc *diff.Decode) (string, Scale) {
	lo, hi := math.Inf(1), 0.0
	for i := range dc.Steps {
		if lm := dc.Steps[i].Logits; lm != nil {
			if v := float64(lm.KL); v > 0 && !math.IsInf(v, 0) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if hi == 0 {
		return "", Scale{}
	}
	sc := Scale{Lo: diff.Float(max(lo, hi/maxSpan)), Hi: diff.Float(max(hi, 10*lo))}
	var out []rune
	for i := range dc.Steps {
		lm := dc.Steps[i].Logits
		if lm == nil {
			out = append(out, '·')
			continue
		}
		out = append(out, sc.glyph(&Error{Value: lm.KL}))
	}
	return string(out), sc
}
