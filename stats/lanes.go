package stats

import "math"

// This file defines the summary of one slice that AddSlice merges, in
// plain Go; summary_amd64.s computes the same bits with AVX2.
//
// Element i of the slice belongs to lane i mod 16. Each lane runs, over
// its elements in order and skipping NaN and ±Inf:
//
//	sum   += float64(x)
//	sumSq += float64(float64(x)·float64(x))   (the product rounded, then added)
//	lo     = x if x < lo                        (from +Inf)
//	hi     = x if x > hi                        (from −Inf)
//
// and, in a second pass with mean = fold(sum) / finite count,
//
//	m2    += float64(d·d),  d = float64(x) − mean.
//
// The lanes are folded in halves — lane j with lane j+8, then j+4, j+2,
// j+1 — with float64 adds for the sums and, for the extremes, the same
// "take the other if it is smaller (larger)" rule. Zeros, NaN and ±Inf
// are counted. Sixteen independent sums are what lets a SIMD loop keep
// up with memory; a single running sum in element order made tracing a
// prefill cost a fifth of its run time.

// laneState is the first pass's state, sixteen lanes of each quantity.
type laneState struct {
	sum, sumSq [16]float64
	lo, hi     [16]float32
}

// reset empties st: sums 0, lo +Inf and hi −Inf in every lane.
func (st *laneState) reset() {
	*st = laneState{}
	inf := float32(math.Inf(1))
	for j := range st.lo {
		st.lo[j], st.hi[j] = inf, -inf
	}
}

// passOneGo runs the first pass over xs, whose first element belongs to
// lane 0, adding to st and returning the zero, NaN and ±Inf counts.
func passOneGo(st *laneState, xs []float32) (zero, nan, inf int64) {
	for i, x := range xs {
		if x != x {
			nan++
			continue
		}
		if x > math.MaxFloat32 || x < -math.MaxFloat32 {
			inf++
			continue
		}
		if x == 0 {
			zero++
		}
		j := i & 15
		if x < st.lo[j] {
			st.lo[j] = x
		}
		if x > st.hi[j] {
			st.hi[j] = x
		}
		v := float64(x)
		st.sum[j] += v
		st.sumSq[j] += float64(v * v)
	}
	return zero, nan, inf
}

// passTwoGo adds the squared deviations of xs's finite elements from mean
// to the lanes m2 (xs's first element in lane 0).
func passTwoGo(m2 *[16]float64, xs []float32, mean float64) {
	for i, x := range xs {
		if x != x || x > math.MaxFloat32 || x < -math.MaxFloat32 {
			continue
		}
		d := float64(x) - mean
		m2[i&15] += float64(d * d)
	}
}

// foldSum folds sixteen float64 lanes in halves.
func foldSum(l *[16]float64) float64 {
	a0, a1, a2, a3 := l[0]+l[8], l[1]+l[9], l[2]+l[10], l[3]+l[11]
	a4, a5, a6, a7 := l[4]+l[12], l[5]+l[13], l[6]+l[14], l[7]+l[15]
	b0, b1, b2, b3 := a0+a4, a1+a5, a2+a6, a3+a7
	return (b0 + b2) + (b1 + b3)
}

// foldMin and foldMax fold sixteen lanes in halves, lane j taking lane
// j+h when it is smaller (larger).
func foldMin(l *[16]float32) float32 {
	t := *l
	for h := 8; h >= 1; h /= 2 {
		for j := 0; j < h; j++ {
			if t[j+h] < t[j] {
				t[j] = t[j+h]
			}
		}
	}
	return t[0]
}

func foldMax(l *[16]float32) float32 {
	t := *l
	for h := 8; h >= 1; h /= 2 {
		for j := 0; j < h; j++ {
			if t[j+h] > t[j] {
				t[j] = t[j+h]
			}
		}
	}
	return t[0]
}

// sliceSummary returns the Summary of xs alone, as described above. Where
// hasPasses, passOne and passTwo (summary_amd64.go) run the passes over
// the leading multiple of sixteen elements in assembly; when passOne meets
// a NaN or ±Inf the slice is redone in Go.
func sliceSummary(xs []float32) Summary { return summarize(xs, hasPasses) }

// summarize is sliceSummary with the assembly passes used or not.
func summarize(xs []float32, asm bool) Summary {
	b := Summary{Count: int64(len(xs))}
	var st laneState
	st.reset()
	head := 0
	if asm {
		head = len(xs) &^ 15
		zero, clean := passOne(&st, xs[:head])
		if clean {
			b.Zero = zero
		} else {
			st.reset()
			head = 0
		}
	}
	zero, nan, inf := passOneGo(&st, xs[head:])
	b.Zero += zero
	b.NaN, b.Inf = nan, inf
	b.SumSq = foldSum(&st.sumSq)
	b.Min, b.Max = foldMin(&st.lo), foldMax(&st.hi)
	if n := b.Finite(); n > 0 {
		b.Mean = foldSum(&st.sum) / float64(n)
		var m2 [16]float64
		head2 := 0
		if head > 0 {
			passTwo(&m2, xs[:head], b.Mean)
			head2 = head
		}
		passTwoGo(&m2, xs[head2:], b.Mean)
		b.M2 = foldSum(&m2)
	}
	return b
}
