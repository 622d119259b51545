package diff_test

import (
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/stats"
)

func TestParseOverride(t *testing.T) {
	for _, tc := range []struct {
		in      string
		pattern string
		value   float64
		err     string
	}{
		{"ffn_*=1e-3", "ffn_*", 1e-3, ""},
		{" logits = 0.01 ", "logits", 0.01, ""},
		{"expert_ids=0", "expert_ids", 0, ""},
		{"*=1", "*", 1, ""},
		{"ffn_*", "", 0, "want SLOT=NMSE"},
		{"=1e-3", "", 0, "want SLOT=NMSE"},
		{"q=", "", 0, "want SLOT=NMSE"},
		{"q=abc", "", 0, "not a finite NMSE"},
		{"q=-1", "", 0, "not a finite NMSE"},
		{"q=NaN", "", 0, "not a finite NMSE"},
		{"q=+Inf", "", 0, "not a finite NMSE"},
		{"qkv=1e-3", "", 0, "matches no slot"},
		{"[=1e-3", "", 0, "bad glob"},
	} {
		o, err := diff.ParseOverride(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: error %v, want %q", tc.in, err, tc.err)
			}
			continue
		}
		if err != nil || o.Pattern != tc.pattern || o.NMSE != tc.value {
			t.Errorf("%q: %+v, %v", tc.in, o, err)
		}
	}
}

func TestThresholds(t *testing.T) {
	exact, err := diff.Thresholds(diff.ProfileExact, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(exact) != len(probes.Slots()) {
		t.Fatalf("%d thresholds for %d slots", len(exact), len(probes.Slots()))
	}
	for i, th := range exact {
		want := 1e-8
		if th.Slot == probes.ExpertIDs {
			want = 0
		}
		if th.Slot != probes.Slots()[i] || float64(th.NMSE) != want || th.Source != "exact" {
			t.Errorf("exact %v", th)
		}
	}
	o1, _ := diff.ParseOverride("ffn_*=1e-3")
	o2, _ := diff.ParseOverride("ffn_up=2e-3")
	q, err := diff.Thresholds(diff.ProfileQuant, []diff.Override{o1, o2})
	if err != nil {
		t.Fatal(err)
	}
	got := map[probes.Slot]diff.Threshold{}
	for _, th := range q {
		got[th.Slot] = th
	}
	for s, want := range map[probes.Slot]struct {
		nmse   float64
		source string
	}{
		probes.FFNGate:   {1e-3, "--threshold ffn_*=0.001"},
		probes.FFNUp:     {2e-3, "--threshold ffn_up=0.002"},
		probes.FFNNorm:   {1e-3, "--threshold ffn_*=0.001"},
		probes.Logits:    {5e-3, "quant"},
		probes.Embed:     {1e-6, "quant"},
		probes.Q:         {5e-3, "quant"},
		probes.AttnOut:   {1e-2, "quant"},
		probes.ExpertIDs: {0, "quant"},
	} {
		if th := got[s]; float64(th.NMSE) != want.nmse || th.Source != want.source {
			t.Errorf("%v: %+v, want %v from %q", s, th, want.nmse, want.source)
		}
	}
	if _, err := diff.Thresholds(diff.ProfileQuant, []diff.Override{{Pattern: "nope", NMSE: 1}}); err == nil {
		t.Error("an override matching no slot was accepted")
	}
	if _, err := diff.Thresholds(diff.ProfileQuant, []diff.Override{{Pattern: "q", NMSE: -1}}); err == nil {
		t.Error("a negative budget was accepted")
	}
}

// TestVerdictBands places one measured NMSE against budgets around it.
func TestVerdictBands(t *testing.T) {
	pos := span(0, 6)
	a := spec{slot: probes.V, pos: pos, rows: rows(pos, 8, one), full: true}
	b := a
	b.rows = perturb(a.rows, 1e-2)
	aRec, bRec := a.build(), b.build()
	c, _ := stats.Compare(aRec.Full, bRec.Full)
	for _, tc := range []struct {
		budget float64
		want   diff.Verdict
		reason string
	}{
		{c.NMSE, diff.Pass, ""},
		{c.NMSE * 2, diff.Pass, ""},
		{c.NMSE / 2, diff.Warn, "> budget"},
		{c.NMSE / 9.99, diff.Warn, "> budget"},
		{c.NMSE / 10.01, diff.Fail, "> WARN limit"},
		{0, diff.Fail, "> WARN limit"},
	} {
		p := diffOne(t, a, b, diff.Options{Overrides: []diff.Override{{Pattern: "v", NMSE: tc.budget}}})
		if p.Verdict != tc.want || !strings.Contains(p.Reason, tc.reason) || float64(p.Metrics.Threshold.NMSE) != tc.budget {
			t.Errorf("NMSE %g, budget %g: %v %q (threshold %+v), want %v", c.NMSE, tc.budget, p.Verdict, p.Reason, p.Metrics.Threshold, tc.want)
		}
	}
}

func TestParseAlignProfile(t *testing.T) {
	for _, s := range []string{"auto", "strict", "last", "all"} {
		a, err := diff.ParseAlign(s)
		if err != nil || a.String() != s {
			t.Errorf("%s: %v %v", s, a, err)
		}
	}
	for _, s := range []string{"quant", "exact"} {
		p, err := diff.ParseProfile(s)
		if err != nil || p.String() != s {
			t.Errorf("%s: %v %v", s, p, err)
		}
	}
	if _, err := diff.ParseAlign("first"); err == nil {
		t.Error("ParseAlign accepted nonsense")
	}
	if _, err := diff.ParseProfile("loose"); err == nil {
		t.Error("ParseProfile accepted nonsense")
	}
	var o diff.Options
	if o.Align != diff.AlignAuto || o.Profile != diff.ProfileQuant {
		t.Error("the zero Options are not auto/quant")
	}
}
