package stats

import (
	"errors"
	"fmt"
	"math"
)

// Errors returned by the comparison functions.
var (
	ErrLength = errors.New("stats: lengths differ")
	ErrEmpty  = errors.New("stats: no elements")
	ErrCount  = errors.New("stats: summaries cover different element counts")
)

// Comparison holds the full-tensor metrics of a tensor x against a
// reference ref of the same length. Every sum is accumulated in float64 in
// index order, from float32 inputs converted exactly, so the result depends
// only on the data (not on threads or machine).
//
// Non-finite inputs: an element that is NaN or ±Inf on either side makes
// every sum-based metric NaN (or ±Inf), on purpose: a tensor that holds a
// NaN has diverged, and a metric that skipped it would hide that.
// MaxAbsDiff follows its own rule, see there.
type Comparison struct {
	N int // elements compared

	// NMSE is Σ(x−ref)² / Σref², the mean-square error normalised by the
	// reference's mean square. If Σref² = 0 it is 0 when x = ref and +Inf
	// otherwise.
	NMSE float64

	// NMSEVar is mse / var(ref) with mse = Σ(x−ref)²/N and var(ref) the
	// population variance of ref (two passes), as llama.cpp's
	// examples/model-conversion/scripts/utils/check-nmse.py computes it.
	// If var(ref) = 0 it is 0 when mse = 0 and +Inf otherwise.
	NMSEVar float64

	// Cosine is Σx·ref / sqrt(Σx² Σref²). Two all-zero tensors are
	// identical and get 1; if exactly one is all zero the cosine is 0.
	Cosine float64

	// SQNR is 10·log10(Σref² / Σ(x−ref)²) in dB: +Inf when x = ref
	// (including both all zero), −Inf when ref is all zero and x is not.
	SQNR float64

	// MaxAbsDiff is the largest |x[i]−ref[i]| and MaxAbsIndex the first i
	// where it occurs (0 for identical tensors). A NaN on exactly one side
	// counts as +Inf, a NaN on both sides (or the same infinity on both
	// sides) as 0, so the index points at the first real mismatch instead
	// of being poisoned by NaN comparisons.
	MaxAbsDiff  float64
	MaxAbsIndex int

	// RelDiff is 1 − 2Σx·ref/(Σx²+Σref²), the "relative difference" of
	// the seed's parity tooling: 0 for equal tensors, 1 for orthogonal, 2
	// for x = −ref. It is computed as Σ(x−ref)²/(Σx²+Σref²), equal in exact
	// arithmetic but free of the cancellation that makes the literal form
	// useless near 0. Two all-zero tensors get 0.
	RelDiff float64
}

// Compare computes the full-tensor metrics of x against ref. It returns
// ErrLength if the lengths differ and ErrEmpty if they are empty.
func Compare(ref, x []float32) (Comparison, error) {
	if len(ref) != len(x) {
		return Comparison{}, fmt.Errorf("%w: ref %d, x %d", ErrLength, len(ref), len(x))
	}
	if len(ref) == 0 {
		return Comparison{}, ErrEmpty
	}
	var sumRef, refSq, xSq, dot, errSq float64
	maxAbs, maxIdx := 0.0, 0
	for i, rv := range ref {
		r, v := float64(rv), float64(x[i])
		sumRef += r
		refSq += float64(r * r)
		xSq += float64(v * v)
		dot += float64(r * v)
		d := v - r
		errSq += float64(d * d)
		if ad := absDiff(r, v); ad > maxAbs {
			maxAbs, maxIdx = ad, i
		}
	}
	n := float64(len(ref))
	mean := sumRef / n
	var m2 float64
	for _, rv := range ref {
		d := float64(rv) - mean
		m2 += float64(d * d)
	}
	c := Comparison{
		N:           len(ref),
		NMSE:        ratio(errSq, refSq),
		NMSEVar:     ratio(errSq/n, m2/n),
		MaxAbsDiff:  maxAbs,
		MaxAbsIndex: maxIdx,
		RelDiff:     ratio(errSq, xSq+refSq),
		SQNR:        10 * math.Log10(refSq/errSq),
	}
	switch {
	case refSq == 0 && xSq == 0:
		c.Cosine = 1
	case refSq == 0 || xSq == 0:
		c.Cosine = 0
	default:
		c.Cosine = dot / math.Sqrt(refSq*xSq)
	}
	if errSq == 0 {
		// 10·log10(0/0) would be NaN for two all-zero tensors; they are
		// identical, so the noise is zero and the SQNR infinite.
		c.SQNR = math.Inf(1)
	}
	return c, nil
}

// ratio returns num/den with the degenerate-denominator convention shared
// by the normalised errors: 0/0 = 0 (nothing to explain, nothing wrong) and
// e/0 = +Inf for e > 0. NaN propagates.
func ratio(num, den float64) float64 {
	if den == 0 && num == 0 {
		return 0
	}
	return num / den
}

// absDiff is |a−b| with NaN on one side as +Inf and equal non-finite values
// (NaN/NaN, +Inf/+Inf, −Inf/−Inf) as 0.
func absDiff(a, b float64) float64 {
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an || bn:
		return math.Inf(1)
	case a == b:
		return 0 // also covers equal infinities, whose difference is NaN
	}
	return math.Abs(a - b)
}

// StdRatio returns x.Std()/ref.Std(), the only comparison the seed's parity
// contract made. Stats-only metrics are weak evidence: equal moments do not
// mean equal tensors. It refuses (ErrCount) summaries over different
// element counts, because a ratio over different samples is the 18.23×
// artifact, and returns ErrEmpty when both are empty. Two zero stds give 1;
// a zero ref std with a non-zero x std gives +Inf.
func StdRatio(ref, x Summary) (float64, error) {
	if err := sameSample(ref, x); err != nil {
		return 0, err
	}
	rs, xs := ref.Std(), x.Std()
	if rs == 0 && xs == 0 {
		return 1, nil
	}
	return xs / rs, nil
}

// MeanShift returns (x.Mean − ref.Mean)/ref.Std(): how far the mean moved,
// in units of the reference's population std. Same refusals as StdRatio.
// With ref.Std() = 0 it is 0 for equal means and ±Inf otherwise.
func MeanShift(ref, x Summary) (float64, error) {
	if err := sameSample(ref, x); err != nil {
		return 0, err
	}
	d := x.Mean - ref.Mean
	if d == 0 {
		return 0, nil
	}
	return d / ref.Std(), nil
}

func sameSample(ref, x Summary) error {
	if ref.Count != x.Count {
		return fmt.Errorf("%w: ref %d, x %d", ErrCount, ref.Count, x.Count)
	}
	if ref.Count == 0 {
		return ErrEmpty
	}
	return nil
}
