package diff_test

import (
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
)

// pairOf diffs two one-record traces over a 7-token prompt and returns the
// single pair.
func pairOf(t *testing.T, a, b spec, al diff.Align) diff.Pair {
	t.Helper()
	ta := trace(t, tokens(7), 7, a.build())
	tb := trace(t, tokens(7), 7, b.build())
	res, err := diff.Diff(ta, tb, diff.Options{Align: al})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Pairs) != 1 {
		t.Fatalf("%d pairs, want 1", len(res.Pairs))
	}
	return res.Pairs[0]
}

// TestGate runs every alignment mode against every kind of mismatch. want
// maps a mode to the compared positions, or to "REFUSED: <reason part>".
func TestGate(t *testing.T) {
	rec := func(pos []int, per int, mod func(*spec)) spec {
		s := spec{layer: 0, slot: probes.AttnNorm, pos: pos, rows: rows(pos, per, one)}
		if mod != nil {
			mod(&s)
		}
		return s
	}
	full := func(s *spec) { s.full = true }
	noPerPos := func(s *spec) { s.noPerPos = true }
	partial := func(sum bool) func(*spec) {
		return func(s *spec) { s.partial, s.sum, s.known = true, sum, []int64{0, 1, int64(len(s.pos)*4 - 1)} }
	}
	all, last := span(0, 6), []int{6}
	const (
		strictMsg = "REFUSED: --align strict compares identical positions only"
		allMsg    = "REFUSED: --align all needs every position of step 0"
		cannot    = "cannot be restricted"
	)
	for _, tc := range []struct {
		name string
		a, b spec
		want map[diff.Align]string
		note string // auto's alignment note, if any
	}{
		{"same positions", rec(all, 4, nil), rec(all, 4, nil),
			map[diff.Align]string{diff.AlignAuto: "0-6", diff.AlignStrict: "0-6", diff.AlignLast: "6", diff.AlignAll: "0-6"}, ""},
		{"all vs last", rec(all, 4, nil), rec(last, 4, nil),
			map[diff.Align]string{diff.AlignAuto: "6", diff.AlignStrict: strictMsg, diff.AlignLast: "6", diff.AlignAll: allMsg},
			"A covered 0-6, B covered 6; compared position 6"},
		{"subset", rec(all, 4, nil), rec(span(2, 6), 4, nil),
			map[diff.Align]string{diff.AlignAuto: "2-6", diff.AlignStrict: strictMsg, diff.AlignLast: "6", diff.AlignAll: allMsg},
			"A covered 0-6, B covered 2-6; compared positions 2-6"},
		{"disjoint", rec(span(0, 3), 4, nil), rec(span(4, 6), 4, nil),
			map[diff.Align]string{diff.AlignAuto: "REFUSED: no position in common", diff.AlignStrict: strictMsg,
				diff.AlignLast: "REFUSED: --align last needs position 6 (the last of step 0); A covered 0-3", diff.AlignAll: allMsg}, ""},
		{"per-token sizes", rec(all, 4, nil), rec(all, 8, nil),
			map[diff.Align]string{diff.AlignAuto: "REFUSED: per-token sizes differ: A has 4 elements per position, B 8",
				diff.AlignStrict: "REFUSED: per-token sizes differ", diff.AlignLast: "REFUSED: per-token sizes differ",
				diff.AlignAll: "REFUSED: per-token sizes differ"}, ""},
		{"no per-position stats, must restrict", rec(all, 4, noPerPos), rec(last, 4, nil),
			map[diff.Align]string{diff.AlignAuto: "REFUSED: A has no per-position statistics, so its aggregate over 0-6 cannot be restricted to 6",
				diff.AlignStrict: strictMsg, diff.AlignLast: "REFUSED: A has no per-position statistics", diff.AlignAll: allMsg}, ""},
		{"no per-position stats, same positions", rec(all, 4, noPerPos), rec(all, 4, nil),
			map[diff.Align]string{diff.AlignAuto: "0-6", diff.AlignStrict: "0-6",
				diff.AlignLast: "REFUSED: A has no per-position statistics", diff.AlignAll: "0-6"}, ""},
		{"no per-position stats, full rows", rec(all, 4, func(s *spec) { s.noPerPos, s.full = true, true }), rec(last, 4, nil),
			map[diff.Align]string{diff.AlignAuto: "6", diff.AlignStrict: strictMsg, diff.AlignLast: "6", diff.AlignAll: allMsg},
			"A covered 0-6, B covered 6; compared position 6"},
		{"partial vs full", rec(all, 4, full), rec(all, 4, partial(true)),
			map[diff.Align]string{diff.AlignAuto: "0-6", diff.AlignStrict: "0-6",
				diff.AlignLast: "REFUSED: --align last needs position 6 alone, but the partial record B covers 0-6", diff.AlignAll: "0-6"}, ""},
		{"partial on the last position", rec(all, 4, full), rec(last, 4, partial(true)),
			map[diff.Align]string{diff.AlignAuto: "6", diff.AlignStrict: strictMsg, diff.AlignLast: "6",
				diff.AlignAll: "REFUSED: --align all needs positions 0-6, but the partial record B covers 6"},
			"B covered 6, A covered 0-6; compared position 6"},
		{"partial wider than the other side", rec(last, 4, full), rec(all, 4, partial(true)),
			map[diff.Align]string{diff.AlignAuto: "REFUSED: the partial record B covers 0-6 and A covered 6; a partial record's printed sum covers all its positions and " + cannot, diff.AlignStrict: strictMsg,
				diff.AlignLast: "REFUSED: --align last needs position 6 alone", diff.AlignAll: "REFUSED: the partial record B covers 0-6 and A covered 6"}, ""},
		{"partial without sum vs summaries", rec(all, 4, nil), rec(all, 4, partial(false)),
			map[diff.Align]string{diff.AlignAuto: "REFUSED: the partial record B has no sum and A kept no full tensor",
				diff.AlignStrict: "REFUSED: the partial record B has no sum", diff.AlignLast: "REFUSED: --align last needs position 6 alone",
				diff.AlignAll: "REFUSED: the partial record B has no sum"}, ""},
		{"partial vs summaries", rec(all, 4, nil), rec(all, 4, partial(true)),
			map[diff.Align]string{diff.AlignAuto: "0-6", diff.AlignStrict: "0-6", diff.AlignLast: "REFUSED: --align last needs position 6 alone",
				diff.AlignAll: "0-6"}, ""},
		{"both partial", rec(all, 4, partial(true)), rec(all, 4, partial(true)),
			map[diff.Align]string{diff.AlignAuto: "REFUSED: both records are partial", diff.AlignStrict: "REFUSED: both records are partial",
				diff.AlignLast: "REFUSED: both records are partial", diff.AlignAll: "REFUSED: both records are partial"}, ""},
	} {
		for _, al := range []diff.Align{diff.AlignAuto, diff.AlignStrict, diff.AlignLast, diff.AlignAll} {
			t.Run(tc.name+"/"+al.String(), func(t *testing.T) {
				p := pairOf(t, tc.a, tc.b, al)
				checkInvariant(t, &p)
				want := tc.want[al]
				if reason, ok := strings.CutPrefix(want, "REFUSED: "); ok {
					if p.Verdict != diff.Refused || !strings.Contains(p.Reason, reason) {
						t.Fatalf("got %v %q, want REFUSED containing %q", p.Verdict, p.Reason, reason)
					}
					if p.Fix == "" {
						t.Errorf("refusal %q names no fix", p.Reason)
					}
					return
				}
				if p.Verdict == diff.Refused {
					t.Fatalf("refused: %s", p.Reason)
				}
				if p.Metrics.Positions != want {
					t.Errorf("compared %s, want %s", p.Metrics.Positions, want)
				}
				if al == diff.AlignAuto && p.Note != tc.note {
					t.Errorf("note %q, want %q", p.Note, tc.note)
				}
			})
		}
	}
}

// checkInvariant asserts that a refused pair carries no metrics and a
// comparable one does.
func checkInvariant(t *testing.T, p *diff.Pair) {
	t.Helper()
	if (p.Verdict == diff.Refused) != (p.Metrics == nil) {
		t.Fatalf("verdict %v with metrics %v: a refused pair must carry none, any other must carry them", p.Verdict, p.Metrics)
	}
}

func TestGateEvidence(t *testing.T) {
	pos := span(0, 6)
	base := spec{slot: probes.FFNUp, pos: pos, rows: rows(pos, 6, one)}
	full, stat := base, base
	full.full = true
	for _, tc := range []struct {
		name string
		a, b spec
		ev   diff.Evidence
		weak bool
	}{
		{"both full", full, full, diff.EvidenceFull, false},
		{"only A full", full, stat, diff.EvidenceStats, true},
		{"only B full", stat, full, diff.EvidenceStats, true},
		{"neither full", stat, stat, diff.EvidenceStats, true},
	} {
		p := pairOf(t, tc.a, tc.b, diff.AlignAuto)
		m := p.Metrics
		if m == nil || m.Evidence != tc.ev || m.Weak != tc.weak || (m.Tensor != nil) != (tc.ev == diff.EvidenceFull) || m.Stats == nil {
			t.Errorf("%s: %v %q metrics %+v", tc.name, p.Verdict, p.Reason, m)
		}
	}
}
