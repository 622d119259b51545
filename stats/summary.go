package stats

import (
	"errors"
	"fmt"
	"math"
)

// Summary is a streaming, mergeable summary of float32 data.
//
// Count counts every element added, including NaN and ±Inf. The moments
// (Mean, M2), the extremes (Min, Max) and SumSq cover the finite values
// only, so one NaN does not hide the shape of the rest of the tensor; NaN
// and Inf say how many elements were left out.
//
// The zero Summary is empty and ready to use. An empty Summary (or one with
// no finite values) has Min = +Inf and Max = −Inf once anything was added;
// the zero value has Min = Max = 0 and Count = 0, and Merge treats both as
// "no finite values".
//
// Determinism: Add uses Welford's update and AddSlice a two-pass sum over
// sixteen lanes in a fixed order (lanes.go), both in float64, so the same
// values added in the same order (and in the same slices) give the same
// bits on every machine, with or without the assembly. Every product that feeds a
// sum is wrapped in an explicit float64 conversion, which the Go spec
// defines as a rounding step, so the compiler cannot fuse it into an FMA
// on arm64 or amd64 v3 and change the bits.
//
// Merge uses the pairwise update of Chan, Golub and LeVeque. Merge(a, b)
// equals a single pass over a's data followed by b's only up to rounding (a
// few ulp of Mean and M2), not in general bit for bit. Code that needs a
// result independent of the thread count therefore fixes the merge tree:
// the engines summarise each token position separately (one AddSlice per
// row) and the aggregate is MergeAll of those per-position summaries in
// position order. Any split of the work across goroutines then yields the
// same per-position summaries and the same aggregate bits.
type Summary struct {
	Count int64 // all elements, including NaN and ±Inf
	NaN   int64 // NaN elements
	Inf   int64 // +Inf and −Inf elements
	Zero  int64 // finite elements equal to 0 (−0 included)

	Mean float64 // mean of the finite elements; 0 if there are none
	M2   float64 // Σ(x − Mean)² over the finite elements

	Min float32 // smallest finite element; +Inf once Add saw no finite value
	Max float32 // largest finite element; −Inf once Add saw no finite value

	SumSq float64 // Σx² over the finite elements, accumulated in float64
}

// Add adds one element.
func (s *Summary) Add(x float32) {
	if s.Count == 0 {
		s.Min, s.Max = float32(math.Inf(1)), float32(math.Inf(-1))
	}
	s.Count++
	switch {
	case x != x:
		s.NaN++
		return
	case math.IsInf(float64(x), 0):
		s.Inf++
		return
	}
	if x == 0 {
		s.Zero++
	}
	if x < s.Min {
		s.Min = x
	}
	if x > s.Max {
		s.Max = x
	}
	v := float64(x)
	n := float64(s.Count - s.NaN - s.Inf)
	d := v - s.Mean
	s.Mean += d / n
	s.M2 += float64(d * (v - s.Mean))
	s.SumSq += float64(v * v)
}

// AddSlice adds xs. It summarises the slice on its own (sliceSummary, in
// lanes.go: two passes in float64 over sixteen lanes, the sum and Σx²
// first, then the squared deviations from the slice mean, which is more
// accurate than Welford and, in SIMD lanes, fast enough to trace every
// tensor of a prefill) and merges that into s as Merge does. The result is
// a pure function of s and xs; it equals repeated Add only up to rounding.
func (s *Summary) AddSlice(xs []float32) {
	if len(xs) == 0 {
		return
	}
	s.Merge(sliceSummary(xs))
}

// Merge adds the data summarised by o, as if o's elements were added after
// s's. The result equals a single pass only up to rounding; see Summary.
func (s *Summary) Merge(o Summary) {
	if o.Count == 0 {
		return
	}
	if s.Count == 0 {
		*s = o
		return
	}
	na, nb := float64(s.Finite()), float64(o.Finite())
	s.Count += o.Count
	s.NaN += o.NaN
	s.Inf += o.Inf
	s.Zero += o.Zero
	switch {
	case nb == 0:
		// Nothing finite to fold in; Min/Max of o are ±Inf sentinels.
	case na == 0:
		s.Mean, s.M2, s.SumSq = o.Mean, o.M2, o.SumSq
		s.Min, s.Max = o.Min, o.Max
	default:
		n := na + nb
		d := o.Mean - s.Mean
		s.Mean += float64(d * (nb / n))
		s.M2 += o.M2 + float64(d*d*(na*nb/n))
		s.SumSq += o.SumSq
		s.Min = min(s.Min, o.Min)
		s.Max = max(s.Max, o.Max)
	}
}

// MergeAll returns the left fold s[0] ⊕ s[1] ⊕ … in slice order. This fixed
// order is what makes an aggregate of per-position summaries independent of
// how the positions were computed.
func MergeAll(s []Summary) Summary {
	var out Summary
	for i := range s {
		out.Merge(s[i])
	}
	return out
}

// Finite returns the number of finite elements.
func (s Summary) Finite() int64 { return s.Count - s.NaN - s.Inf }

// Var returns the population variance M2/n of the finite elements, or 0 if
// there are none.
func (s Summary) Var() float64 {
	n := s.Finite()
	if n == 0 {
		return 0
	}
	return s.M2 / float64(n)
}

// SampleVar returns the sample variance M2/(n−1) of the finite elements, or
// 0 if there are fewer than two. The seed traces printed this one.
func (s Summary) SampleVar() float64 {
	n := s.Finite()
	if n < 2 {
		return 0
	}
	return s.M2 / float64(n-1)
}

// Std returns the population standard deviation sqrt(Var()).
func (s Summary) Std() float64 { return math.Sqrt(s.Var()) }

// SampleStd returns the sample standard deviation sqrt(SampleVar()).
func (s Summary) SampleStd() float64 { return math.Sqrt(s.SampleVar()) }

// L2 returns the Euclidean norm sqrt(Σx²) of the finite elements.
func (s Summary) L2() float64 { return math.Sqrt(s.SumSq) }

// RMS returns sqrt(Σx²/n) over the finite elements, or 0 if there are none.
func (s Summary) RMS() float64 {
	n := s.Finite()
	if n == 0 {
		return 0
	}
	return math.Sqrt(s.SumSq / float64(n))
}

// AbsMax returns the largest |x| over the finite elements, or 0 if there are
// none. It is derived from Min and Max rather than stored, so the two can
// never disagree.
func (s Summary) AbsMax() float32 {
	if s.Finite() == 0 {
		return 0
	}
	return max(-s.Min, s.Max)
}

// ErrInvalid is wrapped by the errors Validate returns.
var ErrInvalid = errors.New("stats: invalid summary")

// Validate checks the invariants every Summary built by Add, AddSlice and
// Merge satisfies: non-negative counts that add up, finite moments, M2 ≥ 0,
// SumSq ≥ 0, and Min ≤ Mean ≤ Max over a non-empty finite set (±Inf
// sentinels, or zeros for the zero value, when the finite set is empty).
// Decoders call it on untrusted input.
func (s Summary) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
	}
	if s.Count < 0 || s.NaN < 0 || s.Inf < 0 || s.Zero < 0 {
		return bad("negative count")
	}
	if s.NaN > s.Count || s.Inf > s.Count-s.NaN {
		return bad("nan %d + inf %d exceed count %d", s.NaN, s.Inf, s.Count)
	}
	fin := s.Finite()
	if s.Zero > fin {
		return bad("zero count %d exceeds finite count %d", s.Zero, fin)
	}
	for _, v := range []float64{s.Mean, s.M2, s.SumSq} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return bad("non-finite moment")
		}
	}
	if s.M2 < 0 || s.SumSq < 0 {
		return bad("negative m2 or sum_sq")
	}
	if fin == 0 {
		empty := s.Count == 0 && s.Min == 0 && s.Max == 0
		sentinel := math.IsInf(float64(s.Min), 1) && math.IsInf(float64(s.Max), -1)
		if !empty && !sentinel || s.Mean != 0 || s.M2 != 0 || s.SumSq != 0 {
			return bad("moments or extremes set with no finite values")
		}
		return nil
	}
	lo, hi := float64(s.Min), float64(s.Max)
	if math.IsNaN(lo) || math.IsNaN(hi) || math.IsInf(lo, 0) || math.IsInf(hi, 0) || lo > hi {
		return bad("min %v, max %v", s.Min, s.Max)
	}
	// Rounding can push the mean a hair outside [min, max] only when all
	// values are equal; allow one float32 ulp of slack.
	if s.Mean < lo-ulp32(s.Min) || s.Mean > hi+ulp32(s.Max) {
		return bad("mean %v outside [%v, %v]", s.Mean, s.Min, s.Max)
	}
	return nil
}

func ulp32(x float32) float64 {
	a := float32(math.Abs(float64(x)))
	return float64(math.Nextafter32(a, float32(math.Inf(1))) - a)
}
