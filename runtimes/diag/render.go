package diag

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// Rendering lives here rather than in package reports, which renders diff
// results and imports no runtime; this package in turn must not import
// reports. The two meet through interfaces: reports.Painter satisfies
// Painter and reports.NewTable fits RenderOptions.Table, which is how
// cmd/parity makes these tables look like every other parity table.

// Painter colors text by meaning; reports.Painter satisfies it.
type Painter interface {
	Good(s string) string
	Warn(s string) string
	Bad(s string) string
	Bold(s string) string
}

// RenderOptions configure Write.
type RenderOptions struct {
	// Painter colors verdicts in terminal output; nil paints nothing.
	Painter Painter
	// Table makes a terminal table (reports.NewTable); nil uses a plain
	// tablewriter table.
	Table func(w io.Writer, header []string, rightAligned ...int) *tablewriter.Table
	// Markdown writes a section for a pull request instead of terminal
	// tables.
	Markdown bool
	// Verbose lists every tensor pair of a weights comparison, not only
	// those that are not bit-identical.
	Verbose bool
}

// doc is what a result renders as: a heading with its verdict, summary
// lines, and tables.
type doc struct {
	title   string
	verdict Verdict
	lines   []string
	tables  []table
}

type table struct {
	caption string
	header  []string
	right   []int
	rows    [][]cell
	footer  string
}

// cell is one table cell. A verdict cell is colored (terminal) or
// emphasised when it disagrees (markdown); a name cell holds text from a
// model file, escaped for the format it lands in.
type cell struct {
	text    string
	verdict Verdict
	name    bool
}

func txt(s string) cell      { return cell{text: s} }
func name(s string) cell     { return cell{text: s, name: true} }
func verdict(v Verdict) cell { return cell{text: string(v), verdict: v} }

func (d *doc) write(w io.Writer, o RenderOptions) error {
	if o.Markdown {
		return d.markdown(w)
	}
	return d.terminal(w, o)
}

func (d *doc) terminal(w io.Writer, o RenderOptions) error {
	p := o.Painter
	if p == nil {
		p = plain{}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s  %s\n", paint(p, d.verdict, strings.ToUpper(string(d.verdict))), p.Bold(d.title))
	for _, l := range d.lines {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	for _, t := range d.tables {
		if t.caption != "" {
			if _, err := fmt.Fprintf(w, "\n%s\n", t.caption); err != nil {
				return err
			}
		}
		newTable := o.Table
		if newTable == nil {
			newTable = plainTable
		}
		tab := newTable(w, t.header, t.right...)
		for _, r := range t.rows {
			row := make([]any, len(r))
			for i, c := range r {
				switch {
				case c.verdict != "":
					row[i] = paint(p, c.verdict, c.text)
				case c.name:
					row[i] = terminalSafe(c.text)
				default:
					row[i] = c.text
				}
			}
			if err := tab.Append(row...); err != nil {
				return err
			}
		}
		if err := tab.Render(); err != nil {
			return err
		}
		if t.footer != "" {
			if _, err := fmt.Fprintln(w, t.footer); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *doc) markdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s — %s\n\n", mdText(d.title), mdVerdict(d.verdict))
	for _, l := range d.lines {
		fmt.Fprintf(&b, "- %s\n", mdText(l))
	}
	for _, t := range d.tables {
		b.WriteByte('\n')
		if t.caption != "" {
			fmt.Fprintf(&b, "%s\n\n", mdText(t.caption))
		}
		b.WriteString("|")
		for _, h := range t.header {
			fmt.Fprintf(&b, " %s |", mdText(h))
		}
		b.WriteString("\n|")
		for i := range t.header {
			if slices.Contains(t.right, i) {
				b.WriteString("---:|")
			} else {
				b.WriteString("---|")
			}
		}
		b.WriteByte('\n')
		for _, r := range t.rows {
			b.WriteString("|")
			for _, c := range r {
				s := mdText(c.text)
				switch {
				case c.verdict != "":
					s = mdVerdict(c.verdict)
				case c.name && c.text != "":
					s = mdCode(c.text)
				}
				fmt.Fprintf(&b, " %s |", s)
			}
			b.WriteByte('\n')
		}
		if t.footer != "" {
			fmt.Fprintf(&b, "\n%s\n", mdText(t.footer))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// paint colors s by what v means: agreement green, suspicious yellow,
// anything else red.
func paint(p Painter, v Verdict, s string) string {
	switch {
	case v.OK():
		return p.Good(s)
	case v == Suspicious:
		return p.Warn(s)
	}
	return p.Bad(s)
}

type plain struct{}

func (plain) Good(s string) string { return s }
func (plain) Warn(s string) string { return s }
func (plain) Bad(s string) string  { return s }
func (plain) Bold(s string) string { return s }

// terminalSafe quotes a name from a model file if it holds anything a
// terminal would interpret (control characters, escape sequences).
func terminalSafe(s string) string {
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// mdText escapes the characters that would end a table cell or start
// markup in GitHub-flavoured markdown.
var mdEscaper = strings.NewReplacer("\\", "\\\\", "|", "\\|", "*", "\\*", "_", "\\_", "`", "\\`", "<", "&lt;", ">", "&gt;",
	"[", "\\[", "]", "\\]", "\n", " ", "\r", " ")

func mdText(s string) string { return mdEscaper.Replace(s) }

// mdCode puts a model-file name in a code span, long enough to hold any
// run of backticks in it; a pipe is still escaped, as tables require
// even inside code.
func mdCode(s string) string {
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	s = strings.NewReplacer("|", "\\|", "\n", " ", "\r", " ").Replace(terminalSafe(s))
	return fence + " " + s + " " + fence
}

func mdVerdict(v Verdict) string {
	if v.OK() {
		return string(v)
	}
	return "**" + string(v) + "**"
}

// plainTable is the table RenderOptions.Table defaults to: headers as
// given (tablewriter would upper-case "max |diff|") and numbers right-aligned.
func plainTable(w io.Writer, header []string, right ...int) *tablewriter.Table {
	align := make([]tw.Align, len(header))
	for i := range align {
		align[i] = tw.AlignLeft
		if slices.Contains(right, i) {
			align[i] = tw.AlignRight
		}
	}
	t := tablewriter.NewTable(w, tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}))
	t.Header(anys(header)...)
	return t
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// g formats a metric with 3 significant digits; non-finite values as NaN,
// +Inf, -Inf.
func g(f Float) string {
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
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// shape writes a ggml-order shape as [64 512].
func shape(s []int64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.FormatInt(d, 10)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
