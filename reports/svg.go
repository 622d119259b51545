package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
)

// The HTML report's charts are plain SVG written by the template from the
// geometry computed here: coordinates in the SVG's user units, labels and
// tooltips as text (the template escapes them). No script draws anything.

// lineChart is per-layer curves on a log y axis.
type lineChart struct {
	ID, Title, Caption string
	W, H               float64
	X0, X1, Y0, Y1     float64 // plot area: x from X0 to X1, y from Y0 (top) to Y1 (bottom)
	XTicks, YTicks     []tick
	XLabel, YLabel     string
	Series             []series
	TickY2             float64 // lower end of the x ticks
	LX1, LX2, LT       float64 // legend: sample line from LX1 to LX2, text at LT
}

type tick struct {
	Pos   float64
	Label string
}

type series struct {
	Name, Class string
	Lines       []string // polyline point lists; a missing value breaks the line
	Dots        []dot
	LegendY     float64
}

type dot struct {
	X, Y  float64
	Title string
}

// curve is one series before layout: Values[i] belongs to layer i; NaN
// marks a layer without a value (a missing value, not a NaN metric:
// callers map a NaN metric to +Inf, drawn at the top).
type curve struct {
	Name, Class string
	Values      []float64
	Titles      []string
}

const (
	chartW      = 960.0
	chartH      = 300.0
	chartLeft   = 64.0
	chartRight  = 270.0 // legend
	chartTop    = 16.0
	chartBottom = 40.0
)

// newLogChart lays out curves over the layers (evenly spaced, labelled
// xlabels) on a log axis around their positive finite values (logAxis).
// Zeros are drawn on the axis floor and infinities on its ceiling.
func newLogChart(id, title, caption, ylabel string, xlabels []string, curves []curve) *lineChart {
	n := len(xlabels)
	lo, hi := math.Inf(1), 0.0
	for _, c := range curves {
		for _, v := range c.Values {
			if v > 0 && !math.IsInf(v, 0) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
	}
	if hi == 0 {
		lo, hi = 1e-12, 1
	}
	ch := &lineChart{ID: id, Title: title, Caption: caption, W: chartW, H: chartH,
		X0: chartLeft, X1: chartW - chartRight, Y0: chartTop, Y1: chartH - chartBottom, XLabel: "layer", YLabel: ylabel}
	ch.TickY2, ch.LX1, ch.LX2, ch.LT = ch.Y1+4, ch.X1+14, ch.X1+36, ch.X1+42
	axisLo, axisHi, ticks := logAxis(lo, hi)
	x := func(i int) float64 {
		if n <= 1 {
			return (ch.X0 + ch.X1) / 2
		}
		return ch.X0 + (ch.X1-ch.X0)*float64(i)/float64(n-1)
	}
	y := func(v float64) float64 {
		switch {
		case v <= 0:
			return ch.Y1
		case math.IsInf(v, 1):
			return ch.Y0
		}
		t := (math.Log10(v) - axisLo) / (axisHi - axisLo)
		return ch.Y1 - (ch.Y1-ch.Y0)*min(1, max(0, t))
	}
	for _, v := range ticks {
		ch.YTicks = append(ch.YTicks, tick{Pos: y(v), Label: strconv.FormatFloat(v, 'g', 3, 64)})
	}
	every := max(1, (n+15)/16)
	for i := 0; i < n; i += every {
		ch.XTicks = append(ch.XTicks, tick{Pos: x(i), Label: xlabels[i]})
	}
	for ci, c := range curves {
		s := series{Name: c.Name, Class: c.Class, LegendY: ch.Y0 + 8 + 20*float64(ci)}
		var pts []string
		for i, v := range c.Values {
			if math.IsNaN(v) {
				if len(pts) > 0 {
					s.Lines = append(s.Lines, strings.Join(pts, " "))
				}
				pts = nil
				continue
			}
			px, py := x(i), y(v)
			pts = append(pts, coord(px)+","+coord(py))
			s.Dots = append(s.Dots, dot{X: px, Y: py, Title: c.Titles[i]})
		}
		if len(pts) > 0 {
			s.Lines = append(s.Lines, strings.Join(pts, " "))
		}
		ch.Series = append(ch.Series, s)
	}
	return ch
}

// logAxis returns the range of a log axis (in log10 units) covering
// [lo, hi] and the values to tick: whole decades when the data span one
// or more (every other one past eight), else the 1-2-5 values (or, when
// fewer than three fall inside, 1-1.5-2-3-…-9) inside a range padded to
// at least half a decade, so that a narrow spread such as
// a std between 1 and 2 fills the plot rather than a sliver of a decade.
func logAxis(lo, hi float64) (axisLo, axisHi float64, ticks []float64) {
	dlo, dhi := math.Log10(lo), math.Log10(hi)
	if dhi-dlo >= 1 {
		axisLo, axisHi = math.Floor(dlo), math.Ceil(dhi)
		step := math.Max(1, math.Ceil((axisHi-axisLo)/8))
		for dec := axisLo; dec <= axisHi; dec += step {
			ticks = append(ticks, math.Pow(10, dec))
		}
		return axisLo, axisHi, ticks
	}
	pad := math.Max(0.05, (0.5-(dhi-dlo))/2)
	axisLo, axisHi = dlo-pad, dhi+pad
	for _, mantissas := range [][]float64{{1, 2, 5}, {1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9}} {
		ticks = ticks[:0]
		for dec := math.Floor(axisLo); dec <= math.Ceil(axisHi); dec++ {
			for _, m := range mantissas {
				v := m * math.Pow(10, dec)
				if l := math.Log10(v); l >= axisLo && l <= axisHi {
					ticks = append(ticks, v)
				}
			}
		}
		if len(ticks) >= 3 {
			break
		}
	}
	return axisLo, axisHi, ticks
}

func coord(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// slotGroup names the family a slot is charted in.
func slotGroup(s probes.Slot) int {
	switch s {
	case probes.AttnNorm, probes.AttnResid, probes.FFNNorm, probes.Out:
		return 0
	case probes.Q, probes.K, probes.V, probes.QNorm, probes.KNorm, probes.QRope, probes.KRope, probes.AttnCtx, probes.AttnOut:
		return 1
	}
	return 2
}

var groupNames = [...]string{"residual stream and norms", "attention", "feed-forward"}

// errorChart plots, per layer of the focus step, the worst error of each
// slot family, and what teacher forcing measured each layer adding by
// itself.
func errorChart(d *Document, layers []*LayerRow) *lineChart {
	r := d.Result
	n := len(layers)
	curves := make([]curve, len(groupNames))
	for g := range curves {
		curves[g] = curve{Name: groupNames[g], Class: "s" + strconv.Itoa(g+1), Values: nans(n), Titles: make([]string, n)}
	}
	for i, row := range layers {
		for k := row.From; k < row.To; k++ {
			p := &r.Pairs[k]
			e := errorOf(p)
			if e == nil {
				continue
			}
			g := slotGroup(p.Slot)
			v := plotValue(e.Value)
			if c := &curves[g]; math.IsNaN(c.Values[i]) || v > c.Values[i] {
				c.Values[i] = v
				c.Titles[i] = fmt.Sprintf("layer %d, %s (worst: %s): %s, %s", row.Layer, groupNames[g], p.Slot, errorText(e), p.Verdict)
			}
		}
	}
	if at := d.Attribution; at != nil && d.Summary.FocusStep == 0 && len(at.Layers) == n {
		c := curve{Name: "added by the layer (teacher forcing)", Class: "s4 dotted", Values: nans(n), Titles: make([]string, n)}
		for i := range at.Layers {
			l := &at.Layers[i]
			c.Values[i] = plotValue(l.NMSE)
			c.Titles[i] = fmt.Sprintf("layer %d adds NMSE %s by itself (at %s), %s", l.Layer, num(l.NMSE, 'e', 2), l.Slot, l.Verdict)
		}
		curves = append(curves, c)
	}
	return newLogChart("chart-error", "Error by layer", fmt.Sprintf("Worst NMSE of each slot family per layer at step %d (lower bounds where only summaries were compared), log scale.", d.Summary.FocusStep), "NMSE", labels(layers), curves)
}

// stdChart plots both runs' std of each layer's output.
func stdChart(d *Document, layers []*LayerRow) *lineChart {
	r := d.Result
	n := len(layers)
	a := curve{Name: "std_a (A, reference)", Class: "s1", Values: nans(n), Titles: make([]string, n)}
	b := curve{Name: "std_b (B)", Class: "s2 dashed", Values: nans(n), Titles: make([]string, n)}
	for i, row := range layers {
		for k := row.From; k < row.To; k++ {
			p := &r.Pairs[k]
			if p.Slot != probes.Out || p.Metrics == nil || p.Metrics.Stats == nil {
				continue
			}
			st := p.Metrics.Stats
			a.Values[i], b.Values[i] = plotValue(st.A.Std), plotValue(st.B.Std)
			a.Titles[i] = fmt.Sprintf("layer %d out: std_a %s", row.Layer, num(st.A.Std, 'g', 5))
			b.Titles[i] = fmt.Sprintf("layer %d out: std_b %s (ratio %s)", row.Layer, num(st.B.Std, 'g', 5), num(st.StdRatio, 'f', 4))
		}
	}
	return newLogChart("chart-std", "Spread of each layer's output, both runs", fmt.Sprintf("Standard deviation of each layer's output (slot out) at step %d in A and in B, log scale: the curves part where B's residual stream drifts.", d.Summary.FocusStep), "std", labels(layers), []curve{a, b})
}

func labels(rows []*LayerRow) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Label
	}
	return out
}

// plotValue maps a metric onto what newLogChart draws: NaN (a failed
// measurement) at the top.
func plotValue(f diff.Float) float64 {
	v := float64(f)
	if math.IsNaN(v) {
		return math.Inf(1)
	}
	return v
}

func nans(n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

// heatmap is a grid of errors: layer × slot at the focus step
// (newHeatmap), or step × layer over every step (newStepHeatmap).
type heatmap struct {
	ID, Aria      string // the svg's id and accessible name
	RampID        string // id of its color gradient (ids are unique per page)
	FirstID       string // id of the first divergence's outline, if any
	Legend        string
	Caption       string
	W, H          float64
	Cols, Rows    []tick
	Cells         []cell
	First         *cell // the first divergence's cell
	FirstLabelX   float64
	FirstLabel    string
	LegendX       float64
	LegendY       float64
	LegendW       float64
	LegendTX      float64
	Lo, Hi        string
	Stops         []stop
	CellW, CellH  float64
	ColumnLabelsY float64
}

type cell struct {
	X, Y, W, H float64
	MX, MY     float64 // the cell's center, where Mark goes
	Fill       string
	Class      string
	Mark       string // "R" refused, "·" no error to show
	Title      string
}

type stop struct {
	Offset string
	Color  string
}

// ramp is the heatmap's color scale, low error to high: readable on light
// and dark backgrounds alike.
var ramp = []string{"#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027"}

func rampColor(t float64) string {
	t = min(1, max(0, t))
	seg := t * float64(len(ramp)-1)
	i := min(int(seg), len(ramp)-2)
	f := seg - float64(i)
	var rgb [3]float64
	for c := range rgb {
		a, _ := strconv.ParseUint(ramp[i][1+2*c:3+2*c], 16, 8)
		b, _ := strconv.ParseUint(ramp[i+1][1+2*c:3+2*c], 16, 8)
		rgb[c] = float64(a) + f*(float64(b)-float64(a))
	}
	return fmt.Sprintf("#%02x%02x%02x", int(math.Round(rgb[0])), int(math.Round(rgb[1])), int(math.Round(rgb[2])))
}

const (
	heatLeft  = 64.0
	heatTop   = 90.0
	heatCellW = 34.0
	heatCellH = 20.0
)

func newHeatmap(d *Document, layers []*LayerRow) *heatmap {
	r, sc := d.Result, d.Summary.Scale
	var slots []probes.Slot
	seen := map[probes.Slot]bool{}
	for _, row := range layers {
		for k := row.From; k < row.To; k++ {
			seen[r.Pairs[k].Slot] = true
		}
	}
	col := map[probes.Slot]int{}
	for _, s := range probes.Slots() {
		if seen[s] {
			col[s] = len(slots)
			slots = append(slots, s)
		}
	}
	h := &heatmap{ID: "heatmap", Aria: "heatmap of the error per layer and slot", RampID: "ramp", FirstID: "first-divergence",
		Legend:  "error (NMSE, log scale); R refused, · printed values only; outlined: the first divergence",
		Caption: fmt.Sprintf("Each cell is one slot of one layer at step %d, colored by its NMSE on a log scale (a lower bound where only summaries were compared); hover for numbers. The outlined cell is the first divergence.", d.Summary.FocusStep),
		CellW:   heatCellW, CellH: heatCellH, ColumnLabelsY: heatTop - 6}
	for i, s := range slots {
		h.Cols = append(h.Cols, tick{Pos: heatLeft + heatCellW*(float64(i)+0.5), Label: s.String()})
	}
	for i, row := range layers {
		y := heatTop + heatCellH*float64(i)
		h.Rows = append(h.Rows, tick{Pos: y + heatCellH/2, Label: row.Label})
		for k := row.From; k < row.To; k++ {
			p := &r.Pairs[k]
			c := cell{X: heatLeft + heatCellW*float64(col[p.Slot]), Y: y, W: heatCellW, H: heatCellH,
				Class: "cell " + strings.ToLower(p.Verdict.String())}
			c.MX, c.MY = c.X+c.W/2, c.Y+c.H/2
			e := errorOf(p)
			switch {
			case p.Verdict == diff.Refused:
				c.Mark, c.Title = "R", fmt.Sprintf("%s: REFUSED — %s", p.Key(), p.Reason)
			case e == nil:
				c.Mark, c.Title = "·", fmt.Sprintf("%s: %s on printed values only", p.Key(), p.Verdict)
			default:
				c.Fill = rampColor(sc.position(float64(e.Value)))
				c.Title = fmt.Sprintf("%s: %s (budget %s), %s", p.Key(), errorText(e), num(e.Budget, 'e', 2), p.Verdict)
			}
			h.Cells = append(h.Cells, c)
			if f := r.First; f != nil && f.Index == k {
				first := c
				h.First, h.FirstLabel = &first, "◀ first divergence: "+p.Slot.String()
			}
		}
	}
	h.finish(len(slots), len(layers), sc)
	return h
}

// finish lays out the legend and the size of a grid of nCols × nRows
// cells.
func (h *heatmap) finish(nCols, nRows int, sc Scale) {
	h.FirstLabelX = heatLeft + heatCellW*float64(nCols) + 8
	h.W = max(chartW, h.FirstLabelX+200)
	h.LegendX, h.LegendY, h.LegendW = heatLeft, heatTop+heatCellH*float64(nRows)+16, 200
	h.LegendTX = h.LegendX + h.LegendW + 12
	h.H = h.LegendY + 40
	h.Lo, h.Hi = num(sc.Lo, 'e', 1), num(sc.Hi, 'e', 1)
	for i, c := range ramp {
		h.Stops = append(h.Stops, stop{Offset: strconv.FormatFloat(float64(i)/float64(len(ramp)-1), 'f', 2, 64), Color: c})
	}
}

// newStepHeatmap is a step × layer grid: each cell is the worst error of
// one layer row (embed, the layers, the output) at one step, so a decode
// run shows at which step and depth the runs part. Nil when the document
// has a single step.
func newStepHeatmap(d *Document) *heatmap {
	rows := d.Summary.Layers
	var steps []int
	col := map[string]int{}
	var labels []string
	for i := range rows {
		if n := len(steps); n == 0 || steps[n-1] != rows[i].Step {
			steps = append(steps, rows[i].Step)
		}
		if _, ok := col[rows[i].Label]; !ok {
			col[rows[i].Label] = len(labels)
			labels = append(labels, rows[i].Label)
		}
	}
	if len(steps) < 2 {
		return nil
	}
	sc := d.Summary.Scale
	h := &heatmap{ID: "heatmap-steps", Aria: "heatmap of the worst error per step and layer", RampID: "ramp-steps",
		Legend:  "worst error of the layer (NMSE, log scale); R refused, · printed values only; outlined: the first divergence",
		Caption: "Each cell is the worst pair of one layer at one step (step 0 is the prompt, then one decode step per row), colored by its NMSE on a log scale; hover for the slot and numbers.",
		CellW:   heatCellW, CellH: heatCellH, ColumnLabelsY: heatTop - 6}
	for i, l := range labels {
		h.Cols = append(h.Cols, tick{Pos: heatLeft + heatCellW*(float64(i)+0.5), Label: l})
	}
	rowOf := map[int]int{}
	for i, st := range steps {
		rowOf[st] = i
		label := "step " + strconv.Itoa(st)
		h.Rows = append(h.Rows, tick{Pos: heatTop + heatCellH*(float64(i)+0.5), Label: label})
	}
	first := d.Summary.First
	for i := range rows {
		row := &rows[i]
		c := cell{X: heatLeft + heatCellW*float64(col[row.Label]), Y: heatTop + heatCellH*float64(rowOf[row.Step]),
			W: heatCellW, H: heatCellH, Class: "cell " + strings.ToLower(row.Verdict.String())}
		c.MX, c.MY = c.X+c.W/2, c.Y+c.H/2
		where := fmt.Sprintf("step %d, %s", row.Step, row.Label)
		if row.Layer >= 0 {
			where = fmt.Sprintf("step %d, layer %d", row.Step, row.Layer)
		}
		switch {
		case row.Verdict == diff.Refused:
			c.Mark, c.Title = "R", where+": REFUSED"
		case row.Error == nil:
			c.Mark, c.Title = "·", fmt.Sprintf("%s: %s on printed values only", where, row.Verdict)
		default:
			c.Fill = rampColor(sc.position(float64(row.Error.Value)))
			c.Title = fmt.Sprintf("%s: worst %s %s (budget %s), %s", where, row.WorstKey.Slot, errorText(row.Error), num(row.Error.Budget, 'e', 2), row.Verdict)
		}
		h.Cells = append(h.Cells, c)
		if first != nil && first.Pair >= row.From && first.Pair < row.To {
			f := c
			h.First, h.FirstLabel = &f, fmt.Sprintf("◀ first divergence: step %d", row.Step)
		}
	}
	h.finish(len(labels), len(steps), sc)
	return h
}
