package selftest

import (
	"fmt"
	"io"

	"github.com/layerwise/parity/reports"
)

// WriteText writes the fault zoo's cases for a terminal: fault → expected
// → found → culprit → ✓/✗, then the tally. (It lives here rather than in
// reports, which renders diff results and imports no runtime.)
func WriteText(w io.Writer, cases []Case, p reports.Painter) error {
	t := reports.NewTable(w, []string{"model", "fault", "expected", "found", "culprit op", "", "note"})
	for _, c := range cases {
		found, culprit := "–", "–"
		if c.Found != nil {
			found = c.Found.String()
		}
		if c.Culprit != nil {
			culprit = c.Culprit.String()
		}
		expect := c.Expect.String()
		if c.Expect.Slot == 0 {
			expect = "reconciled / refused"
		}
		mark := p.Good("✓")
		if !c.OK {
			mark = p.Bad("✗")
		}
		fault := c.Fault.String()
		if c.Fault.Layer < 0 {
			fault = string(c.Fault.Kind)
		}
		t.Append(c.Model, fault, expect, found, culprit, mark, c.Note)
	}
	if err := t.Render(); err != nil {
		return err
	}
	ok, total := Summary(cases)
	_, err := fmt.Fprintf(w, "%d of %d planted faults localized exactly\n", ok, total)
	return err
}
