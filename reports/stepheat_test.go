package reports

import (
	"fmt"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
)

// twoSteps returns the fixture result with every pair repeated as decode
// step 1, the step-1 copies of layer 2 on failing, and the first
// divergence moved there.
func twoSteps() *diff.Result {
	r := fixtureResult(false)
	n := len(r.Pairs)
	for i := 0; i < n; i++ {
		p := r.Pairs[i]
		p.Step = 1
		r.Pairs = append(r.Pairs, p)
	}
	// Step 0 passes everywhere; step 1 holds the failures.
	for i := 0; i < n; i++ {
		if p := &r.Pairs[i]; p.Verdict == diff.Fail || p.Verdict == diff.Warn {
			p.Verdict, p.Reason = diff.Pass, ""
		}
	}
	for i := n; i < len(r.Pairs); i++ {
		if r.Pairs[i].Verdict == diff.Fail {
			p := &r.Pairs[i]
			r.First = &diff.Divergence{Index: i, Step: 1, Layer: p.Layer, Slot: p.Slot}
			break
		}
	}
	return r
}

// TestHTMLStepHeatmap: a report over several steps draws a step × layer
// grid with one row per step, marks the first divergence in its step's
// row without a second element id, and a one-step report draws none.
func TestHTMLStepHeatmap(t *testing.T) {
	one := string(render(t, FormatHTML, NewDiff(fixtureResult(false), fixtureMeta), TextOptions{}))
	if strings.Contains(one, "heatmap-steps") {
		t.Error("a one-step report has a step × layer heatmap")
	}
	r := twoSteps()
	page := string(render(t, FormatHTML, NewDiff(r, fixtureMeta), TextOptions{}))
	i := strings.Index(page, `<svg id="heatmap-steps"`)
	if i < 0 {
		t.Fatal("no step × layer heatmap in a two-step report")
	}
	grid := page[i : i+strings.Index(page[i:], "</svg>")]
	for _, want := range []string{">step 0</text>", ">step 1</text>", `fill="url(#ramp-steps)"`, "◀ first divergence: step 1"} {
		if !strings.Contains(grid, want) {
			t.Errorf("the step heatmap lacks %q", want)
		}
	}
	layerRows := 0
	for _, row := range NewDiff(r, fixtureMeta).Summary.Layers {
		if row.Step == 0 {
			layerRows++
		}
	}
	if got := strings.Count(grid, `<rect class="cell `); got != 2*layerRows {
		t.Errorf("%d cells, want %d (two steps × %d layer rows)", got, 2*layerRows, layerRows)
	}
	if n := strings.Count(page, `id="first-divergence"`); n != 1 {
		t.Errorf(`%d elements with id="first-divergence", want exactly 1`, n)
	}
	// The outline sits in step 1's row (the second row of cells).
	if y := fmt.Sprintf(`y="%.1f"`, heatTop+heatCellH); strings.Count(grid, `class="first-divergence"`) != 1 ||
		!strings.Contains(grid[strings.Index(grid, `class="first-divergence"`):], y) {
		t.Errorf("the step heatmap does not outline the first divergence in step 1's row (%s)", y)
	}
}
