package reports

import (
	"fmt"
	"io"
	"os"

	"github.com/fatih/color"
	"github.com/mattn/go-isatty"
	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
)

// ColorMode is the --color setting.
type ColorMode int

const (
	ColorAuto ColorMode = iota
	ColorAlways
	ColorNever
)

// ParseColorMode parses "auto", "always" or "never".
func ParseColorMode(s string) (ColorMode, error) {
	switch s {
	case "auto", "":
		return ColorAuto, nil
	case "always":
		return ColorAlways, nil
	case "never":
		return ColorNever, nil
	}
	return ColorAuto, fmt.Errorf("reports: --color must be auto, always or never, not %q", s)
}

// Enabled decides whether output to w gets ANSI colors. "auto" means: w is
// a terminal and NO_COLOR (https://no-color.org) is unset or empty.
func (m ColorMode) Enabled(w io.Writer) bool {
	switch m {
	case ColorAlways:
		return true
	case ColorNever:
		return false
	}
	if os.Getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// Painter colors text by meaning. Its zero value paints nothing, which is
// what tests and pipes get.
type Painter struct{ on bool }

// NewPainter returns a Painter that colors only when enabled.
func NewPainter(enabled bool) Painter { return Painter{on: enabled} }

func (p Painter) paint(attr color.Attribute, s string) string {
	if !p.on {
		return s
	}
	c := color.New(attr)
	c.EnableColor() // the global color.NoColor looks at stdout; the decision here is ours
	return c.Sprint(s)
}

// Good, Warn, Bad, Refused and Dim color a string by the verdict it stands for.
func (p Painter) Good(s string) string    { return p.paint(color.FgGreen, s) }
func (p Painter) Warn(s string) string    { return p.paint(color.FgYellow, s) }
func (p Painter) Bad(s string) string     { return p.paint(color.FgRed, s) }
func (p Painter) Refused(s string) string { return p.paint(color.FgMagenta, s) }
func (p Painter) Dim(s string) string     { return p.paint(color.Faint, s) }
func (p Painter) Bold(s string) string    { return p.paint(color.Bold, s) }

// NewTable returns a tablewriter v1 table writing to w with the project's
// conventions: header text printed as given (tablewriter's auto-format would
// upper-case "n_embd" into "N EMBD", losing the real key name), and the
// listed columns right-aligned (numbers).
func NewTable(w io.Writer, header []string, rightAligned ...int) *tablewriter.Table {
	align := make([]tw.Align, len(header))
	for i := range align {
		align[i] = tw.AlignLeft
	}
	for _, c := range rightAligned {
		if c >= 0 && c < len(align) {
			align[c] = tw.AlignRight
		}
	}
	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignmentConfig(tw.CellAlignment{PerColumn: align}),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(toAny(header)...)
	return t
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
