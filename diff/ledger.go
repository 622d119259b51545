package diff

import (
	"fmt"
	"math"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/stats"
)

// Tolerances for partial records (llama.cpp's stock eval-callback text).
const (
	// PrintTolerance is half a unit of the 4th decimal: llama.cpp prints
	// values with %12.4f, so a printed value is within 5e-5 of the value
	// computed. It is added to every known-element tolerance.
	PrintTolerance = 5e-5

	// KnownSpread scales the budget into a per-element tolerance: a
	// difference whose NMSE is b has an rms of √b·rms(A), and a handful of
	// printed elements rarely exceed three times the rms. A known element
	// is held to PrintTolerance + KnownSpread·√b·rms(other side).
	KnownSpread = 3

	// sumPrintTolerance is half a unit of the 6th decimal of llama.cpp's
	// "sum = %f".
	sumPrintTolerance = 5e-7

	// f32Eps is the unit roundoff of float32: llama.cpp accumulates the
	// printed sum in a float32, whose error after n additions is at most
	// n·f32Eps·Σ|x| (to first order).
	f32Eps = 1.0 / (1 << 24)
)

// judge places x (an NMSE, or a lower bound on one) against a threshold.
// NaN fails.
func judge(x float64, th Threshold) Verdict {
	switch {
	case x <= float64(th.NMSE):
		return Pass
	case x <= th.Warn():
		return Warn
	}
	return Fail
}

// exceeds explains a WARN or FAIL of what (e.g. "NMSE") at value x.
func exceeds(v Verdict, what string, x float64, th Threshold) string {
	switch v {
	case Warn:
		return fmt.Sprintf("%s %.3g > budget %.3g", what, x, float64(th.NMSE))
	case Fail:
		return fmt.Sprintf("%s %.3g > WARN limit %.3g (budget %.3g)", what, x, th.Warn(), float64(th.NMSE))
	}
	return ""
}

// measure computes the metric ledger of a sample and judges it against th.
func measure(s *sample, slot probes.Slot, th Threshold) (Verdict, string, *Metrics) {
	m := &Metrics{Positions: fmtPos(sorted(s.positions)), N: int64(len(s.positions) * s.perToken),
		Evidence: s.evidence, Weak: s.evidence != EvidenceFull, Threshold: th}
	switch s.evidence {
	case EvidenceFull:
		v, why := measureFull(s, slot, th, m)
		return v, why, m
	case EvidenceStats:
		v, why := measureStats(s, th, m)
		return v, why, m
	}
	v, why := measurePartial(s, th, m)
	return v, why, m
}

func measureFull(s *sample, slot probes.Slot, th Threshold, m *Metrics) (Verdict, string) {
	m.Stats = statsMetrics(s.sumA, s.sumB)
	a, b, shared := s.rowsA, s.rowsB, 0
	var idx []int // flat indices kept when non-finite elements are dropped
	if na, nb := nonFinite(a), nonFinite(b); na+nb > 0 {
		if !samePattern(a, b) {
			c, _ := stats.Compare(a, b)
			m.Tensor = tensorMetrics(c, c.MaxAbsIndex, s)
			return Fail, fmt.Sprintf("non-finite values differ: A has %d NaN/Inf, B %d", na, nb)
		}
		shared = na
		a, b, idx = finiteOnly(a, b)
		if len(a) == 0 {
			return Warn, fmt.Sprintf("every element is NaN/Inf on both sides (%d); nothing finite to compare", shared)
		}
	}
	c, err := stats.Compare(a, b)
	if err != nil {
		return Fail, err.Error()
	}
	flat := c.MaxAbsIndex
	if idx != nil {
		flat = idx[flat]
	}
	m.Tensor = tensorMetrics(c, flat, s)
	v := judge(c.NMSE, th)
	why := exceeds(v, "NMSE", c.NMSE, th)
	if shared > 0 {
		v = v.Worse(Warn)
		why = join(why, fmt.Sprintf("both sides have the same %d NaN/Inf elements; compared the rest", shared))
	}
	if slot == probes.Logits {
		// Top-1 agreement is reported, not judged: on a near-tie a flip is
		// within the budget's noise, and the NMSE already bounds the rest.
		flips := 0
		for i, p := range s.positions {
			lc, err := stats.CompareLogits(s.rowsA[i*s.perToken:(i+1)*s.perToken], s.rowsB[i*s.perToken:(i+1)*s.perToken], 5)
			if err != nil {
				return Fail, err.Error()
			}
			m.Logits = append(m.Logits, LogitMetrics{Position: p, KL: Float(lc.KL), Top1A: lc.Top1Ref, Top1B: lc.Top1X, Top5: lc.TopKOverlap})
			if !lc.Top1Agree {
				flips++
			}
		}
		if flips > 0 {
			why = join(why, fmt.Sprintf("top-1 token differs at %d of %d positions", flips, len(s.positions)))
		}
	}
	return v, why
}

func tensorMetrics(c stats.Comparison, flat int, s *sample) *TensorMetrics {
	return &TensorMetrics{
		NMSE: Float(c.NMSE), NMSEVar: Float(c.NMSEVar), Cosine: Float(c.Cosine), SQNR: Float(c.SQNR),
		MaxAbsDiff: Float(c.MaxAbsDiff), MaxAbsPos: s.positions[flat/s.perToken], MaxAbsElem: flat % s.perToken,
		RelDiff: Float(c.RelDiff),
	}
}

// measureStats judges two sets of per-position summaries. The judgement is
// weak evidence, but one-sided: with e = B − A over the same elements,
// Σe² = n(mean(e)² + var(e)) ≥ n((Δmean)² + (Δstd)²) per position, since
// mean(e) = Δmean and the population std is a seminorm (std(A+e) ≤
// std(A) + std(e)). NMSEBound is therefore a true lower bound on the NMSE:
// exceeding the budget proves divergence, staying under it proves nothing.
func measureStats(s *sample, th Threshold, m *Metrics) (Verdict, string) {
	m.Stats = statsMetrics(s.sumA, s.sumB)
	ma, mb := stats.MergeAll(s.sumA), stats.MergeAll(s.sumB)
	if ma.NaN != mb.NaN || ma.Inf != mb.Inf {
		m.Stats.NMSEBound = Float(math.Inf(1))
		return Fail, fmt.Sprintf("non-finite counts differ: A has %d NaN and %d Inf, B %d and %d", ma.NaN, ma.Inf, mb.NaN, mb.Inf)
	}
	var num, den float64
	for i := range s.sumA {
		a, b := s.sumA[i], s.sumB[i]
		dm, ds := b.Mean-a.Mean, b.Std()-a.Std()
		num += float64(a.Finite()) * (dm*dm + ds*ds)
		den += a.SumSq
	}
	lb := 0.0
	if num > 0 {
		lb = num / den // den = 0 gives +Inf: A is all zero and B is not
	}
	m.Stats.NMSEBound = Float(lb)
	v := judge(lb, th)
	why := exceeds(v, "NMSE ≥", lb, th)
	if v == Pass {
		why = "weak evidence: " + s.why + "; the summaries are consistent with the budget but do not show it"
	}
	if n := ma.NaN + ma.Inf; n > 0 {
		v = v.Worse(Warn)
		why = join(why, fmt.Sprintf("both sides have %d NaN/Inf elements; compared the finite ones", n))
	}
	return v, why
}

func statsMetrics(sa, sb []stats.Summary) *StatsMetrics {
	a, b := stats.MergeAll(sa), stats.MergeAll(sb)
	r, _ := stats.StdRatio(a, b) // same sample by construction: counts agree
	sh, _ := stats.MeanShift(a, b)
	return &StatsMetrics{A: moments(a), B: moments(b), StdRatio: Float(r), MeanShift: Float(sh)}
}

// measurePartial checks a partial record against the other side: its
// printed elements against the other side's full tensor (when kept), and
// its mean (from the printed sum) against the other side's mean over the
// same positions. The mean check is one-sided like NMSEBound: |Δmean| ≤
// rms(e) = √NMSE·rms(other), plus the float32 sum's own error.
func measurePartial(s *sample, th Threshold, m *Metrics) (Verdict, string) {
	p := s.partial
	pm := &PartialMetrics{Side: s.side}
	m.Partial = pm
	rms := s.otherSum.RMS()
	v, why := Pass, ""
	if s.otherRows != nil && len(p.Known) > 0 {
		worst, at := 0.0, p.Known[0].Index
		for _, k := range p.Known {
			if d := absDiff(float64(k.Value), float64(s.otherRows[k.Index])); d > worst {
				worst, at = d, k.Index
			}
		}
		tol := func(b float64) float64 { return PrintTolerance + KnownSpread*math.Sqrt(b)*rms }
		pm.Known, pm.MaxAbsDiff, pm.Tolerance = len(p.Known), Float(worst), Float(tol(float64(th.NMSE)))
		pm.MaxAbsPos, pm.MaxAbsElem = s.positions[int(at)/s.perToken], int(at)%s.perToken
		switch {
		case worst <= tol(float64(th.NMSE)):
		case worst <= tol(th.Warn()):
			v, why = Warn, fmt.Sprintf("a printed element differs by %.3g > tolerance %.3g", worst, tol(float64(th.NMSE)))
		default:
			v, why = Fail, fmt.Sprintf("a printed element differs by %.3g > WARN tolerance %.3g", worst, tol(th.Warn()))
		}
	}
	if p.Sum != nil {
		n := float64(p.Count)
		sumTol := sumPrintTolerance + n*f32Eps*math.Sqrt(n*s.otherSum.SumSq)
		tol := func(b float64) float64 { return math.Sqrt(b)*rms + sumTol/n }
		mp, mo := *p.Sum/n, s.otherSum.Mean
		pm.HasSum, pm.MeanPartial, pm.MeanOther, pm.MeanTolerance = true, Float(mp), Float(mo), Float(tol(float64(th.NMSE)))
		d := math.Abs(mp - mo)
		switch {
		case d <= tol(float64(th.NMSE)):
		case d <= tol(th.Warn()):
			v, why = v.Worse(Warn), join(why, fmt.Sprintf("means differ by %.3g > tolerance %.3g", d, tol(float64(th.NMSE))))
		default:
			v, why = Fail, join(why, fmt.Sprintf("means differ by %.3g > WARN tolerance %.3g", d, tol(th.Warn())))
		}
	}
	if v == Pass {
		what := fmt.Sprintf("%d printed elements and the sum", len(p.Known))
		if s.otherRows == nil {
			what = "the sum only (" + s.why + ")"
		} else if p.Sum == nil {
			what = fmt.Sprintf("%d printed elements (no sum)", len(p.Known))
		}
		why = "weak evidence: partial record; checked " + what
	}
	return v, why
}

// absDiff is |a−b| with NaN on one side as +Inf and equal non-finite
// values as 0, as stats.Comparison.MaxAbsDiff counts them.
func absDiff(a, b float64) float64 {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn, a == b:
		return 0
	case an || bn:
		return math.Inf(1)
	}
	return math.Abs(a - b)
}

func nonFinite(x []float32) int {
	n := 0
	for _, v := range x {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			n++
		}
	}
	return n
}

// samePattern reports whether a and b are non-finite at exactly the same
// elements, with the same kind (NaN, +Inf, −Inf).
func samePattern(a, b []float32) bool {
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		fx, fy := !math.IsNaN(x) && !math.IsInf(x, 0), !math.IsNaN(y) && !math.IsInf(y, 0)
		if fx != fy || !fx && !(x == y || math.IsNaN(x) && math.IsNaN(y)) {
			return false
		}
	}
	return true
}

// finiteOnly keeps the elements finite on both sides, and their indices.
func finiteOnly(a, b []float32) (fa, fb []float32, idx []int) {
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		if !math.IsNaN(x) && !math.IsInf(x, 0) && !math.IsNaN(y) && !math.IsInf(y, 0) {
			fa, fb, idx = append(fa, a[i]), append(fb, b[i]), append(idx, i)
		}
	}
	return fa, fb, idx
}

func join(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
