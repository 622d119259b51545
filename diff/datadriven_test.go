package diff_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/reports"
)

// TestDataDriven runs the scripts in testdata/diff (regenerate the
// expected output with -rewrite). Each script builds small synthetic
// traces and diffs them:
//
//	trace name=A prompt=7 [decode=N] [tokens=(ids…)]
//	    declares a trace; tokens default to 10, 11, … (prompt+decode ids)
//	record trace=A slot=S [layer=L] [step=N] [full] [noperpos] [partial known=(i…) [sum]]
//	POSITIONS: v v v …
//	    adds a record; each input line gives the rows of the listed
//	    positions (probes.ParseInts syntax, each row the same values)
//	diff A B [align=…] [profile=…] [threshold=(slot=v, …)] [verbose] [json]
//	    prints reports.Text (or the JSON) and the error Verdict.Err gives
//	forbid-ratio A B slot=S [layer=L] [step=N]
//	    renders the diff in every align, profile and format and reports
//	    whether the std ratio of the two records as captured (over their
//	    own, different positions) appears anywhere
func TestDataDriven(t *testing.T) {
	datadriven.Walk(t, filepath.Join("..", "testdata", "diff"), func(t *testing.T, path string) {
		traces := map[string]*ddTrace{}
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "trace":
				return ddDeclare(t, d, traces)
			case "record":
				return ddRecord(t, d, traces)
			case "diff":
				a, b := ddPair(t, d, traces)
				o := ddOptions(t, d)
				res, err := diff.Diff(a, b, o)
				if err != nil {
					return "error: " + err.Error()
				}
				var out string
				if d.HasArg("json") {
					js, err := json.MarshalIndent(res, "", "  ")
					if err != nil {
						t.Fatal(err)
					}
					out = string(js) + "\n"
				} else {
					out = render(t, res, d.HasArg("verbose"))
				}
				return out + fmt.Sprintf("err: %v\n", res.Verdict.Err())
			case "forbid-ratio":
				return ddForbidRatio(t, d, traces)
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

type ddTrace struct {
	ids       []int32
	promptLen int
	recs      []probes.Record
}

func ddDeclare(t *testing.T, d *datadriven.TestData, traces map[string]*ddTrace) string {
	var name string
	var prompt, decode int
	d.ScanArgs(t, "name", &name)
	d.ScanArgs(t, "prompt", &prompt)
	d.MaybeScanArgs(t, "decode", &decode)
	tr := &ddTrace{ids: tokens(prompt + decode), promptLen: prompt}
	if arg, ok := d.Arg("tokens"); ok {
		tr.ids = tr.ids[:0]
		for _, v := range arg.Vals {
			id, err := strconv.Atoi(v)
			if err != nil {
				d.Fatalf(t, "tokens: %v", err)
			}
			tr.ids = append(tr.ids, int32(id))
		}
	}
	traces[name] = tr
	return fmt.Sprintf("%s: %d prompt tokens, %d decode steps", name, prompt, len(tr.ids)-prompt)
}

func ddRecord(t *testing.T, d *datadriven.TestData, traces map[string]*ddTrace) string {
	var name, slotName string
	d.ScanArgs(t, "trace", &name)
	d.ScanArgs(t, "slot", &slotName)
	slot, ok := probes.SlotByName(slotName)
	if !ok {
		d.Fatalf(t, "unknown slot %q", slotName)
	}
	s := spec{slot: slot, layer: -1, full: d.HasArg("full"), noPerPos: d.HasArg("noperpos"), partial: d.HasArg("partial"), sum: d.HasArg("sum")}
	if !slot.Global() {
		s.layer = 0
	}
	d.MaybeScanArgs(t, "layer", &s.layer)
	d.MaybeScanArgs(t, "step", &s.step)
	if arg, ok := d.Arg("known"); ok {
		for _, v := range arg.Vals {
			i, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				d.Fatalf(t, "known: %v", err)
			}
			s.known = append(s.known, i)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(d.Input), "\n") {
		ps, vals, ok := strings.Cut(line, ":")
		pos, err := probes.ParseInts(ps)
		if !ok || err != nil || len(pos) == 0 {
			d.Fatalf(t, "bad row line %q: want POSITIONS: values", line)
		}
		var row []float32
		for _, f := range strings.Fields(vals) {
			v, err := strconv.ParseFloat(f, 32)
			if err != nil {
				d.Fatalf(t, "bad value %q", f)
			}
			row = append(row, float32(v))
		}
		for _, p := range pos {
			s.pos = append(s.pos, p)
			s.rows = append(s.rows, slices.Clone(row))
		}
	}
	tr := traces[name]
	if tr == nil {
		d.Fatalf(t, "no trace %q", name)
	}
	tr.recs = append(tr.recs, s.build())
	kept := "per-position stats"
	switch {
	case s.partial:
		kept = fmt.Sprintf("partial: %d printed values, sum %v", len(s.known), s.sum)
	case s.noPerPos:
		kept = "aggregate stats only"
	}
	if s.full {
		kept += " + full tensor"
	}
	r := tr.recs[len(tr.recs)-1]
	return fmt.Sprintf("%s: %v, positions %s × %d, %s", name, r.Key(), probes.FormatInts(s.pos), r.PerToken, kept)
}

func ddPair(t *testing.T, d *datadriven.TestData, traces map[string]*ddTrace) (*probes.Trace, *probes.Trace) {
	if len(d.CmdArgs) < 2 {
		d.Fatalf(t, "%s needs two trace names", d.Cmd)
	}
	var out [2]*probes.Trace
	for i, arg := range d.CmdArgs[:2] {
		tr := traces[arg.Key]
		if tr == nil {
			d.Fatalf(t, "no trace %q", arg.Key)
		}
		out[i] = trace(t, tr.ids, tr.promptLen, tr.recs...)
	}
	return out[0], out[1]
}

func ddOptions(t *testing.T, d *datadriven.TestData) diff.Options {
	var o diff.Options
	var err error
	if arg, ok := d.Arg("align"); ok {
		if o.Align, err = diff.ParseAlign(arg.SingleVal(t)); err != nil {
			d.Fatalf(t, "%v", err)
		}
	}
	if arg, ok := d.Arg("profile"); ok {
		if o.Profile, err = diff.ParseProfile(arg.SingleVal(t)); err != nil {
			d.Fatalf(t, "%v", err)
		}
	}
	if arg, ok := d.Arg("threshold"); ok {
		for _, v := range arg.Vals {
			ov, err := diff.ParseOverride(v)
			if err != nil {
				d.Fatalf(t, "%v", err)
			}
			o.Overrides = append(o.Overrides, ov)
		}
	}
	return o
}

func render(t *testing.T, res *diff.Result, verbose bool) string {
	var b bytes.Buffer
	if err := reports.Text(&b, res, reports.TextOptions{Verbose: verbose}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// ddForbidRatio is the seed's 18.23× check: the std ratio of two records
// over different samples must never be printed.
func ddForbidRatio(t *testing.T, d *datadriven.TestData, traces map[string]*ddTrace) string {
	a, b := ddPair(t, d, traces)
	var slotName string
	d.ScanArgs(t, "slot", &slotName)
	slot, _ := probes.SlotByName(slotName)
	k := probes.Key{Slot: slot, Layer: -1}
	if !slot.Global() {
		k.Layer = 0
	}
	d.MaybeScanArgs(t, "layer", &k.Layer)
	d.MaybeScanArgs(t, "step", &k.Step)
	ra, rb := a.Find(k), b.Find(k)
	if ra == nil || rb == nil {
		d.Fatalf(t, "%v missing", k)
	}
	if slices.Equal(ra.Positions, rb.Positions) {
		d.Fatalf(t, "%v: the records cover the same positions; nothing to forbid", k)
	}
	ratio := rb.Stats.Std() / ra.Stats.Std() // the artifact: different samples
	var forms []string
	for _, r := range []float64{ratio, 1 / ratio} {
		for _, f := range []string{"%.2f", "%.3f", "%.4f", "%.6f", "%.3g", "%.4g", "%.6g", "%.2e", "%.3e"} {
			forms = append(forms, fmt.Sprintf(f, r))
		}
		forms = append(forms, strconv.FormatFloat(r, 'g', -1, 64))
	}
	n := 0
	var found []string
	for _, al := range []diff.Align{diff.AlignAuto, diff.AlignStrict, diff.AlignLast, diff.AlignAll} {
		for _, pr := range []diff.Profile{diff.ProfileQuant, diff.ProfileExact} {
			res, err := diff.Diff(a, b, diff.Options{Align: al, Profile: pr})
			if err != nil {
				t.Fatal(err)
			}
			js, err := json.Marshal(res)
			if err != nil {
				t.Fatal(err)
			}
			for format, out := range map[string]string{"text": render(t, res, false), "verbose": render(t, res, true), "json": string(js)} {
				n++
				for _, f := range forms {
					if strings.Contains(out, f) {
						found = append(found, fmt.Sprintf("%q in align=%v profile=%v %s", f, al, pr, format))
					}
				}
			}
		}
	}
	slices.Sort(found)
	far := math.Abs(math.Log10(ratio)) >= 1
	if len(found) > 0 {
		return fmt.Sprintf("ratio over different samples differs from 1 tenfold: %v\nFOUND:\n%s\n", far, strings.Join(found, "\n"))
	}
	return fmt.Sprintf("ratio over different samples differs from 1 tenfold: %v\nabsent from all %d renderings (4 aligns × 2 profiles × text, verbose, JSON)\n", far, n)
}
