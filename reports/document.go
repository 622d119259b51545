package reports

import (
	"fmt"
	"math"
	"time"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
)

// ReportFormat and ReportVersion identify the JSON form of a Document
// (report.json). Fields may be added within a version; renaming or
// removing one, or changing its meaning, bumps the version. The embedded
// result keeps its own format and version (diff.ResultFormat).
const (
	ReportFormat  = "parity-report"
	ReportVersion = 1
)

// Meta says where a report came from. Renderers print it as given.
type Meta struct {
	Tool    string    // the producing tool and its version, e.g. "parity v0.3.0"
	Command []string  // the command line that produced the result, program name first
	Created time.Time // when; the zero time leaves it out (reproducible files)
}

// Document is one report: the result, what teacher forcing and a
// reference found, the report's metadata, and a Summary selected from the
// result. It is the JSON form (report.json) and what the markdown and HTML
// renderers read, so all formats show the same things.
type Document struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Kind    string `json:"kind"` // "diff" (two traces) or "bisect" (two runs, perhaps teacher-forced)

	Tool      string     `json:"tool,omitempty"`
	Command   []string   `json:"command,omitempty"`
	Reproduce string     `json:"reproduce,omitempty"` // Command quoted for a POSIX shell
	Created   *time.Time `json:"created,omitempty"`
	Traces    []string   `json:"traces,omitempty"` // trace files beside the report (WriteDir), base names

	Summary Summary `json:"summary"`

	Result             *diff.Result      `json:"result"`
	Attribution        *diff.Attribution `json:"attribution,omitempty"`
	AttributionSkipped string            `json:"attribution_skipped,omitempty"`
	Reference          *diff.ThreeWay    `json:"reference,omitempty"`
}

// Summary is what a reader looks at first. Everything in it is selected
// or grouped from the result; nothing is computed anew.
type Summary struct {
	Verdict  diff.Verdict `json:"verdict"`
	Headline string       `json:"headline"`

	First        *First      `json:"first_divergence,omitempty"`
	CulpritLayer *diff.Added `json:"culprit_layer,omitempty"` // teacher forcing: the first layer that fails by itself
	Culprit      *diff.Added `json:"culprit,omitempty"`       // teacher forcing: the first operation that fails by itself

	// FocusStep is the step charted and tabulated per layer: the first
	// divergence's, else 0 (the prompt).
	FocusStep int `json:"focus_step"`

	// Scale is the log scale of every sparkline and of the heatmap: from
	// the smallest positive finite error in the result (but at most six
	// decades below the largest) to the largest.
	Scale  Scale      `json:"scale"`
	Layers []LayerRow `json:"layers"` // every step's, execution order
	Depth  []Depth    `json:"depth"`  // one line per step

	Alignment []AlignmentNote `json:"alignment,omitempty"`
	Refusals  []Refusal       `json:"refusals,omitempty"`
}

// Key locates a record: step, layer (-1 for the global slots) and slot.
type Key struct {
	Step  int         `json:"step"`
	Layer int         `json:"layer"`
	Slot  probes.Slot `json:"slot"`
}

func keyOf(k probes.Key) Key { return Key{Step: k.Step, Layer: k.Layer, Slot: k.Slot} }

func (k Key) String() string { return probes.Key{Step: k.Step, Layer: k.Layer, Slot: k.Slot}.String() }

// First is the first divergence with its key metric.
type First struct {
	Key    Key    `json:"key"`
	Pair   int    `json:"pair"` // index into result.pairs
	Error  *Error `json:"error,omitempty"`
	Reason string `json:"reason"`
}

// Error is a pair's key metric: the NMSE when both full tensors were
// compared, the lower bound on it when only summaries were.
type Error struct {
	Value  diff.Float `json:"value"`
	Kind   string     `json:"kind"` // "nmse" or "nmse_bound"
	Budget diff.Float `json:"budget"`
}

// errorOf returns p's key metric, nil for a refused pair or one checked on
// printed values only.
func errorOf(p *diff.Pair) *Error {
	m := p.Metrics
	switch {
	case m == nil:
		return nil
	case m.Tensor != nil:
		return &Error{Value: m.Tensor.NMSE, Kind: "nmse", Budget: m.Threshold.NMSE}
	case m.Stats != nil:
		return &Error{Value: m.Stats.NMSEBound, Kind: "nmse_bound", Budget: m.Threshold.NMSE}
	}
	return nil
}

// LayerRow is one layer of one step: Result.Pairs[From:To], and the worst
// of them (by verdict, then by error relative to budget). The global
// slots form a row before the layers (Label "embed") and one after them
// (Label "head"), both with Layer −1.
type LayerRow struct {
	Step     int          `json:"step"`
	Layer    int          `json:"layer"`
	Label    string       `json:"label"`
	From     int          `json:"from"`
	To       int          `json:"to"`
	Worst    int          `json:"worst"` // index into result.pairs
	WorstKey Key          `json:"worst_key"`
	Verdict  diff.Verdict `json:"verdict"` // the worst pair's
	Error    *Error       `json:"error,omitempty"`
	// Sparkline has one character per pair of the row, in execution
	// order: the pair's error on Summary.Scale (▁ lowest … █ highest),
	// "·" where a pair has no error.
	Sparkline string `json:"sparkline"`
}

// Depth is the worst error of each layer row of one step, as a sparkline
// on Summary.Scale: how the error grows with depth.
type Depth struct {
	Step      int    `json:"step"`
	Sparkline string `json:"sparkline"`
}

// AlignmentNote is one distinct way the sample-parity gate reconciled two
// records, and how many pairs it applies to.
type AlignmentNote struct {
	Note  string `json:"note"`
	Pairs int    `json:"pairs"`
}

// Refusal is one distinct reason pairs were REFUSED, with the fix and the
// pairs it applies to.
type Refusal struct {
	Reason string `json:"reason"`
	Fix    string `json:"fix,omitempty"`
	Pairs  []Key  `json:"pairs"`
}

// NewDiff builds the report of a comparison of two traces.
func NewDiff(r *diff.Result, m Meta) *Document {
	return newDocument("diff", r, m)
}

// NewBisection builds the report of a bisection.
func NewBisection(bs *diff.Bisection, m Meta) *Document {
	d := newDocument("bisect", bs.Result, m)
	d.Attribution, d.AttributionSkipped, d.Reference = bs.Attribution, bs.Skipped, bs.Reference
	if at := bs.Attribution; at != nil {
		if at.CulpritLayer >= 0 && at.CulpritLayer < len(at.Layers) {
			l := at.Layers[at.CulpritLayer]
			d.Summary.CulpritLayer = &l
		}
		if c := at.Culprit; c != nil {
			for i := range at.Ops {
				if at.Ops[i].Key() == *c {
					op := at.Ops[i]
					d.Summary.Culprit = &op
					break
				}
			}
		}
	}
	d.Summary.Headline = headline(d)
	return d
}

// bisection returns the document as the diff.Bisection it was built from.
func (d *Document) bisection() *diff.Bisection {
	return &diff.Bisection{Result: d.Result, Attribution: d.Attribution, Skipped: d.AttributionSkipped, Reference: d.Reference}
}

func newDocument(kind string, r *diff.Result, m Meta) *Document {
	d := &Document{Format: ReportFormat, Version: ReportVersion, Kind: kind,
		Tool: m.Tool, Command: m.Command, Result: r}
	if len(m.Command) > 0 {
		d.Reproduce = shellQuote(m.Command)
	}
	if !m.Created.IsZero() {
		t := m.Created.UTC()
		d.Created = &t
	}
	s := &d.Summary
	s.Verdict = r.Verdict
	if f := r.First; f != nil {
		p := &r.Pairs[f.Index]
		s.First = &First{Key: keyOf(p.Key()), Pair: f.Index, Error: errorOf(p), Reason: p.Reason}
		s.FocusStep = f.Step
	}
	s.Scale = scaleOf(r.Pairs)
	s.Layers = layerRows(r.Pairs, s.Scale)
	s.Depth = depthLines(s.Layers, s.Scale)
	s.Alignment = alignmentNotes(r.Pairs)
	s.Refusals = refusals(r.Pairs)
	s.Headline = headline(d)
	return d
}

// layerRows groups the pairs, which are in execution order, into runs of
// the same (step, layer, stage).
func layerRows(pairs []diff.Pair, sc Scale) []LayerRow {
	rows := []LayerRow{}
	for i := 0; i < len(pairs); {
		j := i + 1
		for j < len(pairs) && sameRow(&pairs[i], &pairs[j]) {
			j++
		}
		row := LayerRow{Step: pairs[i].Step, Layer: pairs[i].Layer, From: i, To: j, Worst: i}
		switch {
		case row.Layer >= 0:
			row.Label = fmt.Sprint(row.Layer)
		case pairs[i].Slot == probes.Embed:
			row.Label = "embed"
		default:
			row.Label = "head"
		}
		spark := make([]rune, 0, j-i)
		for k := i; k < j; k++ {
			if worse(&pairs[k], &pairs[row.Worst]) {
				row.Worst = k
			}
			spark = append(spark, sc.glyph(errorOf(&pairs[k])))
		}
		w := &pairs[row.Worst]
		row.WorstKey, row.Verdict, row.Error, row.Sparkline = keyOf(w.Key()), w.Verdict, errorOf(w), string(spark)
		rows = append(rows, row)
		i = j
	}
	return rows
}

func sameRow(a, b *diff.Pair) bool {
	return a.Step == b.Step && a.Layer == b.Layer && (a.Layer >= 0 || (a.Slot == probes.Embed) == (b.Slot == probes.Embed))
}

func depthLines(rows []LayerRow, sc Scale) []Depth {
	var out []Depth
	for i := range rows {
		if len(out) == 0 || out[len(out)-1].Step != rows[i].Step {
			out = append(out, Depth{Step: rows[i].Step})
		}
		d := &out[len(out)-1]
		d.Sparkline += string(sc.glyph(rows[i].Error))
	}
	return out
}

// refusals groups the refused pairs by reason and fix, in order of first
// appearance.
func refusals(pairs []diff.Pair) []Refusal {
	var out []Refusal
	at := map[[2]string]int{}
	for i := range pairs {
		p := &pairs[i]
		if p.Verdict != diff.Refused {
			continue
		}
		k := [2]string{p.Reason, p.Fix}
		j, ok := at[k]
		if !ok {
			j = len(out)
			at[k] = j
			out = append(out, Refusal{Reason: p.Reason, Fix: p.Fix})
		}
		out[j].Pairs = append(out[j].Pairs, keyOf(p.Key()))
	}
	return out
}

// headline is the one-line summary every format leads with.
func headline(d *Document) string {
	r, s := d.Result, &d.Summary
	engines := r.A.Engine + " vs " + r.B.Engine
	c := r.Counts
	var h string
	switch {
	case len(r.Pairs) == 0:
		h = fmt.Sprintf("%s — %s: %s", r.Verdict, engines, r.Reason)
	case s.First != nil:
		h = fmt.Sprintf("%s — %s: first divergence at %s", r.Verdict, engines, s.First.Key)
		if e := s.First.Error; e != nil {
			h += fmt.Sprintf(" (%s, budget %s)", errorText(e), num(e.Budget, 'e', 2))
		}
		if op := s.Culprit; op != nil {
			h += fmt.Sprintf("; culprit op %s", op.Key())
		}
		if c.Refused > 0 {
			h += fmt.Sprintf("; %s refused", count(c.Refused, "pair"))
		}
	case r.Verdict == diff.Refused:
		h = fmt.Sprintf("%s — %s: %d of %d pairs could not be compared over the same sample", r.Verdict, engines, c.Refused, len(r.Pairs))
	case r.Verdict == diff.Warn:
		h = fmt.Sprintf("%s — %s: %d of %d pairs above budget, none past the WARN limit", r.Verdict, engines, c.Warn, len(r.Pairs))
	default:
		h = fmt.Sprintf("%s — %s: all %d pairs within budget", r.Verdict, engines, len(r.Pairs))
	}
	return h
}

// errorText writes an error as "NMSE 3.42e-01" or "NMSE ≥ 2.00e-06".
func errorText(e *Error) string {
	if e.Kind == "nmse_bound" {
		return "NMSE ≥ " + num(e.Value, 'e', 2)
	}
	return "NMSE " + num(e.Value, 'e', 2)
}

// Scale is a log scale over errors: Lo maps to the lowest sparkline
// level, Hi to the highest. It spans at least one decade, so a flat
// profile sits at the bottom rather than filling the range, and at most
// maxSpan (six decades): an op that reproduces its input to the last bit (NMSE 1e-15)
// would otherwise stretch the scale until quantization noise and a real
// fault look alike.
type Scale struct {
	Lo diff.Float `json:"lo"`
	Hi diff.Float `json:"hi"`
}

func scaleOf(pairs []diff.Pair) Scale {
	lo, hi := math.Inf(1), 0.0
	for i := range pairs {
		e := errorOf(&pairs[i])
		if e == nil {
			continue
		}
		v := float64(e.Value)
		if v > 0 && !math.IsInf(v, 0) {
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if hi == 0 {
		return Scale{}
	}
	return Scale{Lo: diff.Float(max(lo, hi/maxSpan)), Hi: diff.Float(max(hi, 10*lo))}
}

// maxSpan is the widest Scale: six decades, from about the smallest
// difference activation quantization makes (1e-6 NMSE) to a wholly
// different tensor (1).
const maxSpan = 1e6

// position maps v onto [0, 1] on the log scale; zero and anything below
// Lo give 0, NaN and anything above Hi give 1.
func (s Scale) position(v float64) float64 {
	lo, hi := float64(s.Lo), float64(s.Hi)
	switch {
	case math.IsNaN(v) || v >= hi:
		return 1
	case v <= lo || lo <= 0:
		return 0
	}
	return (math.Log(v) - math.Log(lo)) / (math.Log(hi) - math.Log(lo))
}

var sparks = []rune("▁▂▃▄▅▆▇█")

// glyph is e's sparkline character: one of ▁▂▃▄▅▆▇█, or "·" when there
// is no error to show.
func (s Scale) glyph(e *Error) rune {
	if e == nil {
		return '·'
	}
	i := int(s.position(float64(e.Value)) * float64(len(sparks)))
	return sparks[min(i, len(sparks)-1)]
}
