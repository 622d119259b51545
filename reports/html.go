package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
)

//go:embed report.html.tmpl
var htmlSource string

// htmlTemplate is parsed once. html/template escapes every value for the
// context it lands in (text, attribute, SVG <title>), and nothing in this
// package converts a string to template.HTML, so a model name such as
// "<script>" arrives as text.
var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"f":        coord,
	"verdict":  func(v diff.Verdict) string { return strings.ToLower(v.String()) },
	"num":      num,
	"short":    short,
	"errtext":  errorText,
	"errcell":  mdError,
	"count":    count,
	"join":     strings.Join,
	"sentence": sentence,
	"quote":    strconv.Quote,
	"agree":    func(p *diff.Proportion) int { return p.N - p.K },
	"key": func(d *diff.Divergence) string {
		return probes.Key{Step: d.Step, Layer: d.Layer, Slot: d.Slot}.String()
	},
}).Parse(htmlSource))

// htmlView is what the template reads: the document and the geometry of
// its charts.
type htmlView struct {
	*Document
	FirstPair *diff.Pair
	Focus     []focusRow  // the focus step's layer rows
	Layered   []*LayerRow // those of them that are layers (Layer ≥ 0)
	ErrChart  *lineChart
	StdChart  *lineChart
	Heat      *heatmap
	StepHeat  *heatmap // nil for a single step
	Rows      []htmlRow
	Columns   []string
	EngineOpt [2][]string // "key=value" of A's and B's engine options, sorted
}

// focusRow is a layer row with its sparkline drawn as SVG bars: one per
// pair, height and color from the pair's error on the report's scale.
type focusRow struct {
	*LayerRow
	Bars []cell
	W    float64
}

const (
	barW   = 7.0
	barGap = 1.0
	barH   = 18.0
)

func newFocusRow(d *Document, row *LayerRow) focusRow {
	fr := focusRow{LayerRow: row, W: (barW + barGap) * float64(row.To-row.From)}
	for k := row.From; k < row.To; k++ {
		p := &d.Result.Pairs[k]
		c := cell{X: (barW + barGap) * float64(k-row.From), W: barW, Class: "bar " + strings.ToLower(p.Verdict.String())}
		e := errorOf(p)
		switch {
		case p.Verdict == diff.Refused:
			c.H, c.Title = barH, fmt.Sprintf("%s: REFUSED", p.Slot)
		case e == nil:
			c.H, c.Title = 2, fmt.Sprintf("%s: %s on printed values only", p.Slot, p.Verdict)
		default:
			t := d.Summary.Scale.position(float64(e.Value))
			c.H, c.Fill, c.Title = 2+(barH-2)*t, rampColor(t), fmt.Sprintf("%s: %s, %s", p.Slot, errorText(e), p.Verdict)
		}
		c.Y = barH - c.H
		if c.Fill == "" {
			c.Class += " nofill"
		}
		fr.Bars = append(fr.Bars, c)
	}
	return fr
}

type htmlRow struct {
	Class string
	ID    string
	Cells []htmlCell
}

// htmlCell is one table cell; Sort, when set, is the value the table's
// script sorts numerically by (data-v).
type htmlCell struct {
	Text  string
	Sort  string
	Class string
}

// HTML writes d as one self-contained page: inline CSS, a few lines of
// inline script that sort the pair table, and SVG charts drawn by the
// template — nothing is fetched. The page has light and dark themes
// (prefers-color-scheme) and prints on white.
func HTML(w io.Writer, d *Document) error {
	v := &htmlView{Document: d, Columns: []string{"#", "step", "layer", "slot", "positions", "N_a", "N_b", "std_a", "std_b", "ratio",
		"cosine", "NMSE", "SQNR dB", "max |Δ|", "budget", "evidence", "verdict", "reason / note"}}
	r := d.Result
	if f := d.Summary.First; f != nil {
		v.FirstPair = &r.Pairs[f.Pair]
	}
	for i := range d.Summary.Layers {
		row := &d.Summary.Layers[i]
		if row.Step != d.Summary.FocusStep {
			continue
		}
		v.Focus = append(v.Focus, newFocusRow(d, row))
		if row.Layer >= 0 {
			v.Layered = append(v.Layered, row)
		}
	}
	if len(v.Layered) > 0 {
		v.ErrChart, v.StdChart = errorChart(d, v.Layered), stdChart(d, v.Layered)
	}
	if len(v.Focus) > 0 {
		rows := make([]*LayerRow, len(v.Focus))
		for i := range v.Focus {
			rows[i] = v.Focus[i].LayerRow
		}
		v.Heat = newHeatmap(d, rows)
	}
	v.StepHeat = newStepHeatmap(d)
	for i := range r.Pairs {
		v.Rows = append(v.Rows, htmlPairRow(i, &r.Pairs[i], r.First))
	}
	for i, sd := range []*diff.Side{&r.A, &r.B} {
		for k, val := range sd.EngineOptions {
			v.EngineOpt[i] = append(v.EngineOpt[i], k+"="+val)
		}
		sort.Strings(v.EngineOpt[i])
	}
	return htmlTemplate.Execute(w, v)
}

func htmlPairRow(i int, p *diff.Pair, first *diff.Divergence) htmlRow {
	row := htmlRow{Class: strings.ToLower(p.Verdict.String())}
	if first != nil && first.Index == i {
		row.ID, row.Class = "first-divergence-row", row.Class+" first"
	}
	layer := strconv.Itoa(p.Layer)
	if p.Layer < 0 {
		layer = "–"
	}
	add := func(text, sort, class string) {
		row.Cells = append(row.Cells, htmlCell{Text: text, Sort: sort, Class: class})
	}
	add(strconv.Itoa(i), sortKey(float64(i)), "num")
	add(strconv.Itoa(p.Step), sortKey(float64(p.Step)), "num")
	add(layer, sortKey(float64(p.Layer)), "num")
	add(p.Slot.String(), sortKey(float64(p.Slot)), "")
	note := p.Reason
	if p.Note != "" {
		note = strings.TrimPrefix(note+"; "+p.Note, "; ")
	}
	const missing = ""
	m := p.Metrics
	if m == nil {
		add("A "+p.PositionsA+" / B "+p.PositionsB, missing, "")
		add(strconv.FormatInt(p.CountA, 10), sortKey(float64(p.CountA)), "num")
		add(strconv.FormatInt(p.CountB, 10), sortKey(float64(p.CountB)), "num")
		for range 8 {
			add("–", missing, "num")
		}
		add("", missing, "")
	} else {
		add(m.Positions, missing, "")
		add(strconv.FormatInt(m.N, 10), sortKey(float64(m.N)), "num")
		add(strconv.FormatInt(m.N, 10), sortKey(float64(m.N)), "num")
		if st := m.Stats; st != nil {
			add(num(st.A.Std, 'g', 4), sortKey(float64(st.A.Std)), "num")
			add(num(st.B.Std, 'g', 4), sortKey(float64(st.B.Std)), "num")
			add(num(st.StdRatio, 'f', 4), sortKey(float64(st.StdRatio)), "num")
		} else {
			add("–", missing, "num")
			add("–", missing, "num")
			add("–", missing, "num")
		}
		if t := m.Tensor; t != nil {
			add(num(t.Cosine, 'f', 6), sortKey(float64(t.Cosine)), "num")
		} else {
			add("–", missing, "num")
		}
		if e := errorOf(p); e != nil {
			add(mdError(e), sortKey(float64(e.Value)), "num")
		} else {
			add("–", missing, "num")
		}
		if t := m.Tensor; t != nil {
			add(num(t.SQNR, 'f', 1), sortKey(float64(t.SQNR)), "num")
			add(num(t.MaxAbsDiff, 'g', 3), sortKey(float64(t.MaxAbsDiff)), "num")
		} else {
			add("–", missing, "num")
			add("–", missing, "num")
		}
		add(num(m.Threshold.NMSE, 'e', 1), sortKey(float64(m.Threshold.NMSE)), "num")
		ev := string(m.Evidence)
		if m.Weak {
			ev += " (weak)"
		}
		add(ev, missing, "")
	}
	row.Cells = append(row.Cells, htmlCell{Text: p.Verdict.String(), Sort: strconv.Itoa(int(p.Verdict)), Class: "verdict"})
	add(note, missing, "note")
	return row
}

// sortKey is a number as the table script's parseFloat reads it. A NaN
// metric ("NaN", which the script sorts as +Inf: a failed measurement is
// the worst) differs from a missing one (an empty data-v, sorted last).
func sortKey(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "Infinity"
	case math.IsInf(v, -1):
		return "-Infinity"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Dims formats a side's model dimensions for the metadata table.
func (v *htmlView) Dims(sd *diff.Side) string {
	dm := sd.Model.Dims
	return fmt.Sprintf("n_embd %d · n_layer %d · n_head %d · n_head_kv %d · head_dim %d · n_ff %d · n_vocab %d",
		dm.Embd, dm.Layers, dm.Heads, dm.KVHeads, dm.HeadDim, dm.FF, dm.Vocab)
}

// Sides returns A and B for the metadata table.
func (v *htmlView) Sides() []*diff.Side { return []*diff.Side{&v.Result.A, &v.Result.B} }

// Tokens lists a side's fed ids, prompt | decode steps.
func (v *htmlView) Tokens(sd *diff.Side) string {
	var b strings.Builder
	for i, id := range sd.Tokens {
		if i > 0 {
			b.WriteByte(' ')
		}
		if i == sd.PromptLen {
			b.WriteString("| ")
		}
		b.WriteString(strconv.Itoa(int(id)))
	}
	return b.String()
}
