package diff_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/stats"
)

func diffOne(t *testing.T, a, b spec, o diff.Options) diff.Pair {
	t.Helper()
	res, err := diff.Diff(trace(t, tokens(7), 7, a.build()), trace(t, tokens(7), 7, b.build()), o)
	if err != nil {
		t.Fatal(err)
	}
	p := res.Pairs[0]
	checkInvariant(t, &p)
	return p
}

func TestFullMetricsOverComparedRows(t *testing.T) {
	pos := span(0, 6)
	a := spec{layer: 2, slot: probes.FFNOut, pos: pos, rows: rows(pos, 5, func(p int) float64 { return float64(1 + p) }), full: true}
	bp := span(4, 6)
	b := spec{layer: 2, slot: probes.FFNOut, pos: bp, rows: perturb(a.rows[4:], 1e-3), full: true}
	b.rows[1][2] += 0.5 // position 5, element 2
	p := diffOne(t, a, b, diff.Options{Profile: diff.ProfileExact})
	aRec := a.build()
	aRows, _ := aRec.FullRows(bp)
	bRec := b.build()
	want, _ := stats.Compare(aRows, bRec.Full)
	m := p.Metrics
	got := m.Tensor
	if float64(got.NMSE) != want.NMSE || float64(got.Cosine) != want.Cosine || float64(got.SQNR) != want.SQNR ||
		float64(got.RelDiff) != want.RelDiff || float64(got.NMSEVar) != want.NMSEVar || float64(got.MaxAbsDiff) != want.MaxAbsDiff {
		t.Errorf("tensor metrics %+v, want stats.Compare over rows 4-6 %+v", got, want)
	}
	if got.MaxAbsPos != 5 || got.MaxAbsElem != 2 {
		t.Errorf("largest difference at position %d element %d, want 5, 2", got.MaxAbsPos, got.MaxAbsElem)
	}
	if m.N != 15 || m.Positions != "4-6" || m.Weak || m.Evidence != diff.EvidenceFull {
		t.Errorf("ledger %+v", m)
	}
	if p.Verdict != diff.Fail || !strings.Contains(p.Reason, "NMSE") {
		t.Errorf("a 0.5 spike: %v %q", p.Verdict, p.Reason)
	}
}

// TestStatsBoundIsALowerBound checks the claim the weak verdicts rest on:
// the NMSE bound from per-position summaries never exceeds the NMSE of the
// full tensors behind them.
func TestStatsBoundIsALowerBound(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	pos := span(0, 6)
	for trial := range 300 {
		a := spec{slot: probes.Q, pos: pos, rows: rows(pos, 16, func(p int) float64 { return 0.1 + r.Float64()*float64(p+1) })}
		b := spec{slot: probes.Q, pos: pos, rows: make([][]float32, len(pos))}
		scale, shift, noise := 1+0.2*r.NormFloat64(), 0.3*r.NormFloat64(), r.Float64()*r.Float64()
		for i, row := range a.rows {
			b.rows[i] = make([]float32, len(row))
			for j, v := range row {
				b.rows[i][j] = float32(float64(v)*scale + shift + noise*r.NormFloat64())
			}
		}
		ps := diffOne(t, a, b, diff.Options{})
		a.full, b.full = true, true
		pf := diffOne(t, a, b, diff.Options{})
		bound, nmse := float64(ps.Metrics.Stats.NMSEBound), float64(pf.Metrics.Tensor.NMSE)
		if bound > nmse*(1+1e-9) {
			t.Fatalf("trial %d: bound %g exceeds the NMSE %g", trial, bound, nmse)
		}
		if ps.Verdict > pf.Verdict {
			t.Fatalf("trial %d: stats verdict %v harsher than the full tensors' %v", trial, ps.Verdict, pf.Verdict)
		}
	}
}

func TestStatsOnlyVerdicts(t *testing.T) {
	pos := span(0, 6)
	a := spec{slot: probes.AttnNorm, pos: pos, rows: rows(pos, 8, one)}
	same := diffOne(t, a, a, diff.Options{Profile: diff.ProfileExact})
	if same.Verdict != diff.Pass || float64(same.Metrics.Stats.NMSEBound) != 0 || float64(same.Metrics.Stats.StdRatio) != 1 ||
		!same.Metrics.Weak || !strings.Contains(same.Reason, "weak evidence") {
		t.Errorf("identical summaries: %v %q %+v", same.Verdict, same.Reason, same.Metrics.Stats)
	}
	b := a
	b.rows = perturb(a.rows, 0) // copy
	for i := range b.rows {
		for j := range b.rows[i] {
			b.rows[i][j] *= 1.5
		}
	}
	p := diffOne(t, a, b, diff.Options{})
	st := p.Metrics.Stats
	if math.Abs(float64(st.StdRatio)-1.5) > 1e-6 || p.Verdict != diff.Fail || !strings.HasPrefix(p.Reason, "NMSE ≥") {
		t.Errorf("×1.5: ratio %v, %v %q", st.StdRatio, p.Verdict, p.Reason)
	}
	wantShift := (1.5*float64(st.A.Mean) - float64(st.A.Mean)) / float64(st.A.Std)
	if math.Abs(float64(st.MeanShift)-wantShift) > 1e-6 {
		t.Errorf("mean shift %v, want %v", st.MeanShift, wantShift)
	}
}

func TestLogitsAgreement(t *testing.T) {
	pos := []int{5, 6}
	a := spec{slot: probes.Logits, pos: pos, rows: [][]float32{{0, 1, 5, 2, 3, 0, 0, 1}, {4, 4.01, 0, 1, 2, 3, 0, 0}}, full: true}
	b := a
	b.rows = [][]float32{{0, 1, 5, 2, 3, 0, 0, 1}, {4.01, 4, 0, 1, 2, 3, 0, 0}}
	p := diffOne(t, a, b, diff.Options{})
	lg := p.Metrics.Logits
	if len(lg) != 2 || lg[0].Position != 5 || lg[0].Top1A != 2 || lg[0].Top1B != 2 || float64(lg[0].KL) != 0 || lg[0].Top5 != 5 {
		t.Fatalf("position 5: %+v", lg)
	}
	if lg[1].Top1A != 1 || lg[1].Top1B != 0 || lg[1].Top5 != 5 || !(lg[1].KL > 0) {
		t.Errorf("position 6: %+v", lg[1])
	}
	want, _ := stats.KL(a.rows[1], b.rows[1])
	if float64(lg[1].KL) != want {
		t.Errorf("KL %v, want %v", lg[1].KL, want)
	}
	if p.Verdict != diff.Pass || !strings.Contains(p.Reason, "top-1 token differs at 1 of 2 positions") {
		t.Errorf("a near-tie flip within budget: %v %q", p.Verdict, p.Reason)
	}
}

func TestPartialRecords(t *testing.T) {
	pos := span(0, 6)
	a := spec{slot: probes.AttnOut, pos: pos, rows: rows(pos, 8, one), full: true}
	printed := spec{slot: probes.AttnOut, pos: pos, rows: a.rows, partial: true, sum: true, known: []int64{0, 1, 2, 5, 6, 7, 48, 55}}
	exact := diff.Options{Profile: diff.ProfileExact}
	p := diffOne(t, a, printed, exact)
	pm := p.Metrics.Partial
	if p.Verdict != diff.Pass || !p.Metrics.Weak || p.Metrics.Evidence != diff.EvidencePartial || pm.Side != "b" || pm.Known != 8 ||
		float64(pm.MaxAbsDiff) > diff.PrintTolerance || !pm.HasSum {
		t.Fatalf("printed from the same values: %v %q %+v", p.Verdict, p.Reason, pm)
	}
	// One printed value off by 0.01: FAIL, located.
	off := printed
	off.rows = perturb(a.rows, 0)
	off.rows[6][7] += 0.01 // flat index 55
	p = diffOne(t, a, off, exact)
	if p.Verdict != diff.Fail || p.Metrics.Partial.MaxAbsPos != 6 || p.Metrics.Partial.MaxAbsElem != 7 || !strings.Contains(p.Reason, "printed element") {
		t.Errorf("one printed value off: %v %q %+v", p.Verdict, p.Reason, p.Metrics.Partial)
	}
	// A shifted sum with correct printed values: the mean check fails.
	shifted := printed
	shifted.rows = perturb(a.rows, 0)
	for i := range shifted.rows {
		shifted.rows[i][3] += 0.5 // an element never printed
	}
	p = diffOne(t, a, shifted, exact)
	if p.Verdict != diff.Fail || !strings.Contains(p.Reason, "means differ") {
		t.Errorf("shifted sum: %v %q", p.Verdict, p.Reason)
	}
	// Against summaries only: the mean alone, weak.
	stat := a
	stat.full = false
	p = diffOne(t, stat, printed, exact)
	if p.Verdict != diff.Pass || p.Metrics.Partial.Known != 0 || !strings.Contains(p.Reason, "the sum only") {
		t.Errorf("against summaries: %v %q %+v", p.Verdict, p.Reason, p.Metrics.Partial)
	}
}

func TestNonFinite(t *testing.T) {
	pos := span(0, 6)
	nan := float32(math.NaN())
	a := spec{slot: probes.Out, pos: pos, rows: rows(pos, 4, one), full: true}
	a.rows[3][1] = nan
	both := a
	p := diffOne(t, a, both, diff.Options{})
	if p.Verdict != diff.Warn || !strings.Contains(p.Reason, "same 1 NaN/Inf") || float64(p.Metrics.Tensor.NMSE) != 0 {
		t.Errorf("same NaN on both sides: %v %q %+v", p.Verdict, p.Reason, p.Metrics.Tensor)
	}
	clean := spec{slot: probes.Out, pos: pos, rows: rows(pos, 4, one), full: true}
	p = diffOne(t, clean, a, diff.Options{})
	if p.Verdict != diff.Fail || !strings.Contains(p.Reason, "non-finite values differ") || p.Metrics.Tensor.MaxAbsPos != 3 || p.Metrics.Tensor.MaxAbsElem != 1 {
		t.Errorf("NaN in B only: %v %q %+v", p.Verdict, p.Reason, p.Metrics.Tensor)
	}
	clean.full, a.full = false, false
	p = diffOne(t, clean, a, diff.Options{})
	if p.Verdict != diff.Fail || !strings.Contains(p.Reason, "non-finite counts differ") {
		t.Errorf("NaN in B's summaries only: %v %q", p.Verdict, p.Reason)
	}
}
