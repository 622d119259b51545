package stats

import (
	"fmt"
	"math"
	"slices"
)

// LogitComparison compares two logit vectors over the same vocabulary.
type LogitComparison struct {
	// KL is KL(P_ref ‖ P_x) in nats, where P = softmax(logits), computed
	// in float64 with log-sum-exp shifted by the maximum. It is ≥ 0 (a
	// rounding residue below zero is clamped to 0). Terms with P_ref = 0
	// contribute 0; a token with P_ref > 0 and P_x = 0 (a −Inf logit in x)
	// makes it +Inf. NaN or +Inf logits, or all logits −Inf, on either
	// side make it NaN.
	KL float64

	Top1Ref, Top1X int  // argmax of each side (see TopK for ties and NaN)
	Top1Agree      bool // Top1Ref == Top1X

	// K is the k used for the overlap (min(k, vocab)); TopKOverlap is
	// |topK(ref) ∩ topK(x)|, in [0, K].
	K           int
	TopKOverlap int
}

// CompareLogits compares logits x against the reference logits ref with
// top-k sets of size k (k ≤ 0 means 1). Lengths must match and be non-empty.
func CompareLogits(ref, x []float32, k int) (LogitComparison, error) {
	if len(ref) != len(x) {
		return LogitComparison{}, fmt.Errorf("%w: ref %d, x %d", ErrLength, len(ref), len(x))
	}
	if len(ref) == 0 {
		return LogitComparison{}, ErrEmpty
	}
	k = max(1, min(k, len(ref)))
	tr, tx := TopK(ref, k), TopK(x, k)
	in := make(map[int]bool, k)
	for _, i := range tr {
		in[i] = true
	}
	overlap := 0
	for _, i := range tx {
		if in[i] {
			overlap++
		}
	}
	kl, err := KL(ref, x)
	if err != nil {
		return LogitComparison{}, err
	}
	return LogitComparison{
		KL:          kl,
		Top1Ref:     tr[0],
		Top1X:       tx[0],
		Top1Agree:   tr[0] == tx[0],
		K:           k,
		TopKOverlap: overlap,
	}, nil
}

// KL returns KL(softmax(ref) ‖ softmax(x)); see LogitComparison.KL.
func KL(ref, x []float32) (float64, error) {
	if len(ref) != len(x) {
		return 0, fmt.Errorf("%w: ref %d, x %d", ErrLength, len(ref), len(x))
	}
	if len(ref) == 0 {
		return 0, ErrEmpty
	}
	lr, lx := logSumExp(ref), logSumExp(x)
	// NaN, +Inf or all −Inf on either side: no usable distribution.
	if math.IsNaN(lr) || math.IsNaN(lx) || math.IsInf(lr, 0) || math.IsInf(lx, 0) {
		return math.NaN(), nil
	}
	var kl float64
	for i, rv := range ref {
		lp := float64(rv) - lr // log P_ref[i]
		p := math.Exp(lp)
		if p == 0 {
			continue
		}
		lq := float64(x[i]) - lx
		kl += float64(p * (lp - lq))
	}
	return max(kl, 0), nil
}

// logSumExp returns log Σ exp(v) in float64, shifted by the maximum so no
// term overflows. All −Inf gives −Inf; any NaN gives NaN.
func logSumExp(v []float32) float64 {
	m := math.Inf(-1)
	for _, f := range v {
		x := float64(f)
		if x != x {
			return math.NaN()
		}
		m = max(m, x)
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, f := range v {
		s += math.Exp(float64(f) - m)
	}
	return m + math.Log(s)
}

// TopK returns the indices of the k largest logits, largest first. Equal
// values are ordered by index (the lower index wins, as a stable argmax
// would), and NaN sorts below every number so it is never a top choice
// while a number is left. k is clamped to [0, len(logits)].
func TopK(logits []float32, k int) []int {
	k = max(0, min(k, len(logits)))
	if k == 0 {
		return []int{}
	}
	// Keep a sorted window of the best k seen so far; k is small (≤ tens)
	// and the vocabulary large, so insertion beats a full sort.
	top := make([]int, 0, k)
	better := func(i, j int) bool { // logits[i] ranks above logits[j]
		a, b := logits[i], logits[j]
		switch an, bn := a != a, b != b; {
		case an != bn:
			return bn
		case an || a == b:
			return i < j
		}
		return a > b
	}
	for i := range logits {
		if len(top) == k && !better(i, top[k-1]) {
			continue
		}
		pos, _ := slices.BinarySearchFunc(top, i, func(t, i int) int {
			if better(t, i) {
				return -1
			}
			return 1
		})
		if len(top) < k {
			top = append(top, 0)
		}
		copy(top[pos+1:], top[pos:len(top)-1])
		top[pos] = i
	}
	return top
}
