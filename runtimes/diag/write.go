package diag

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// Write renders the embedding comparison: both tables, the whole-table
// check, then per prompt token each side's row statistics and their
// difference.
func (r *EmbeddingResult) Write(w io.Writer, o RenderOptions) error {
	t := &r.Table
	scope := "the prompt's rows"
	if r.Scope == "table" {
		scope = "the whole table"
	}
	d := doc{title: "compare-embedding: " + scope, verdict: r.Verdict}
	d.lines = append(d.lines,
		fmt.Sprintf("A  %s · %s %s %s", side(r.A), terminalSafe(t.NameA), t.EncodingA, shape(t.ShapeA)),
		fmt.Sprintf("B  %s · %s %s %s", side(r.B), terminalSafe(t.NameB), t.EncodingB, shape(t.ShapeB)),
		fmt.Sprintf("table: %s%s", t.Verdict, tableDetail(t)),
		fmt.Sprintf("table values: A %s; B %s", statsLine(t.A), statsLine(t.B)))
	if t.Note != "" {
		d.lines = append(d.lines, "note: "+t.Note)
	}
	if r.Worst >= 0 && !r.Rows[r.Worst].Diff.Zero() {
		x := &r.Rows[r.Worst]
		d.lines = append(d.lines, fmt.Sprintf("largest row difference: token %d %s at position %d, %s", x.Token, strconv.Quote(x.Piece), x.Pos, at(x.Diff)))
	}
	if len(r.Rows) > 0 {
		tb := table{caption: "prompt rows (std: population)",
			header: []string{"pos", "token", "piece", "side", "n", "mean", "std", "min", "max", "max |diff|", "at col: a → b", "RMS diff", "verdict"},
			right:  []int{0, 1, 4, 5, 6, 7, 8, 9, 11}}
		for i := range r.Rows {
			x := &r.Rows[i]
			diffAt := fmt.Sprintf("%d: %s → %s", x.Diff.Col, g(x.Diff.A), g(x.Diff.B))
			v := verdict(x.Verdict)
			if x.Diff.Zero() {
				diffAt = "–"
			}
			tb.rows = append(tb.rows,
				append([]cell{txt(strconv.Itoa(x.Pos)), txt(strconv.Itoa(int(x.Token))), name(x.Piece), txt("A")},
					append(statCells(x.A), txt(g(x.Diff.MaxAbs)), txt(diffAt), txt(g(x.Diff.RMS)), v)...),
				append([]cell{txt(""), txt(""), txt(""), txt("B")}, append(statCells(x.B), txt(""), txt(""), txt(""), txt(""))...))
		}
		d.tables = append(d.tables, tb)
	}
	return d.write(w, o)
}

func tableDetail(t *TableCheck) string {
	if t.Diff == nil {
		return ""
	}
	s := fmt.Sprintf(" · max |diff| %s at token %d col %d (a %s, b %s) · RMS %s · NMSE %s · %d rows differ",
		g(t.Diff.MaxAbs), t.Diff.Row, t.Diff.Col, g(t.Diff.A), g(t.Diff.B), g(t.Diff.RMS), g(t.Diff.NMSE), t.RowsDiffer)
	if len(t.DifferingRows) > 0 {
		ids := make([]string, len(t.DifferingRows))
		for i, r := range t.DifferingRows {
			ids[i] = strconv.Itoa(r)
		}
		more := ""
		if t.RowsDiffer > len(ids) {
			more = ", …"
		}
		s += " (" + strings.Join(ids, ", ") + more + ")"
	}
	return s
}

func statsLine(s RowStats) string {
	l := fmt.Sprintf("mean %s std %s [%s, %s]", g(s.Mean), g(s.Std), g(s.Min), g(s.Max))
	if s.Nonfinite > 0 {
		l += fmt.Sprintf(", %d NaN/Inf", s.Nonfinite)
	}
	return l
}

func statCells(s RowStats) []cell {
	return []cell{txt(strconv.FormatInt(s.N, 10)), txt(g(s.Mean)), txt(g(s.Std)), txt(g(s.Min)), txt(g(s.Max))}
}

// at describes where a difference is largest.
func at(d Diff) string {
	return fmt.Sprintf("max |diff| %s at col %d (a %s, b %s), RMS %s", g(d.MaxAbs), d.Col, g(d.A), g(d.B), g(d.RMS))
}

func side(m Model) string {
	return fmt.Sprintf("%-4s %s (%s)", m.Format, terminalSafe(filepath.Base(m.Path)), terminalSafe(m.Arch))
}

// Write renders the weights comparison: the tally, unpaired tensors, and
// a table of the pairs (all of them with Verbose, else those that are not
// bit-identical).
func (r *WeightsResult) Write(w io.Writer, o RenderOptions) error {
	d := doc{title: "compare-weights", verdict: r.Verdict}
	d.lines = append(d.lines,
		fmt.Sprintf("A  %s · %d tensors", side(r.A), r.A.Tensors),
		fmt.Sprintf("B  %s · %d tensors", side(r.B), r.B.Tensors))
	var tally []string
	for _, v := range weightRank {
		if n := r.Counts[v]; n > 0 {
			tally = append(tally, fmt.Sprintf("%d %s", n, v))
		}
	}
	d.lines = append(d.lines, fmt.Sprintf("%d pairs: %s", len(r.Tensors), strings.Join(tally, ", ")))
	for _, u := range []struct {
		side  string
		names []string
	}{{"A", r.UnpairedA}, {"B", r.UnpairedB}} {
		if len(u.names) > 0 {
			d.lines = append(d.lines, fmt.Sprintf("only in %s: %s", u.side, terminalSafe(strings.Join(u.names, ", "))))
		}
	}
	tb := table{header: []string{"tensor A", "tensor B", "encoding", "shape", "verdict", "NMSE", "max |diff|", "budget", "note"},
		right: []int{5, 6, 7}}
	for i := range r.Tensors {
		x := &r.Tensors[i]
		if x.Verdict == BitIdentical && !o.Verbose {
			continue
		}
		nameB, enc, shp := name(x.NameB), x.EncodingA, shape(x.ShapeA)
		if x.NameB == x.NameA {
			nameB = txt("=")
		}
		if x.EncodingB != x.EncodingA {
			enc += " → " + x.EncodingB
		}
		if sb := shape(x.ShapeB); sb != shp {
			shp += " vs " + sb
		}
		nmse, maxAbs, note := "–", "–", x.Note
		if x.Diff != nil {
			nmse, maxAbs = g(x.Diff.NMSE), g(x.Diff.MaxAbs)
		}
		if u := x.Undone; u != nil {
			note = joinNote(note, fmt.Sprintf("after undoing it: NMSE %s, max |diff| %s", g(u.NMSE), g(u.MaxAbs)))
		}
		tb.rows = append(tb.rows, []cell{name(x.NameA), nameB, txt(enc), txt(shp), verdict(x.Verdict), txt(nmse), txt(maxAbs),
			txt(g(x.Budget) + " (" + x.BudgetOf + ")"), txt(note)})
	}
	if !o.Verbose {
		tb.footer = "(tensors that are not bit-identical; --verbose lists all)"
	}
	if len(tb.rows) > 0 {
		d.tables = append(d.tables, tb)
	}
	return d.write(w, o)
}

// Write renders the operation comparison: what was replayed on which
// input, then per slot the overall difference and a per-position table.
func (r *OpResult) Write(w io.Writer, o RenderOptions) error {
	d := doc{title: fmt.Sprintf("compare-op %s, layer %d", r.Op, r.Layer), verdict: r.Verdict}
	d.lines = append(d.lines,
		fmt.Sprintf("A  engine %s on %s", r.EngineA, side(r.A)),
		fmt.Sprintf("B  engine %s on %s", r.EngineB, side(r.B)),
		"op: "+r.Meaning,
		fmt.Sprintf("input: %s, %d tokens; both engines replay the op on it, A is the reference", r.Input, len(r.Tokens)))
	for i := range r.Slots {
		s := &r.Slots[i]
		line := fmt.Sprintf("%s ← %s: %s · rel ‖b−a‖/‖a‖ %s · max |diff| %s at position %d col %d (a %s, b %s)",
			s.Slot, strings.Join(s.Inputs, ", "), s.Verdict, g(s.Diff.Rel), g(s.Diff.MaxAbs), s.Diff.Row, s.Diff.Col, g(s.Diff.A), g(s.Diff.B))
		if tc := s.TraceCheck; tc != nil {
			if tc.Zero() {
				line += " · A's replay reproduces its recorded output bit for bit"
			} else {
				line += fmt.Sprintf(" · A's replay differs from its recorded output by rel %s", g(tc.Rel))
			}
		}
		d.lines = append(d.lines, line)
		tb := table{caption: s.Slot.String() + " per position (std: population)",
			header: []string{"pos", "token", "max |diff|", "rel", "std A", "std B", "std B/A"}, right: []int{0, 1, 2, 3, 4, 5, 6}}
		for _, p := range s.Positions {
			ratio := "–"
			if p.StdA != 0 {
				ratio = strconv.FormatFloat(float64(p.StdB/p.StdA), 'f', 6, 64)
			}
			tb.rows = append(tb.rows, []cell{txt(strconv.Itoa(p.Pos)), txt(strconv.Itoa(int(p.Token))), txt(g(p.MaxAbs)), txt(g(p.Rel)),
				txt(g(p.StdA)), txt(g(p.StdB)), txt(ratio)})
		}
		d.tables = append(d.tables, tb)
	}
	return d.write(w, o)
}
