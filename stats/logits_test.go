package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
)

func softmax(v []float32) []float64 {
	out := make([]float64, len(v))
	m := float64(slices.Max(v))
	var s float64
	for i, x := range v {
		out[i] = math.Exp(float64(x) - m)
		s += out[i]
	}
	for i := range out {
		out[i] /= s
	}
	return out
}

func TestKLMatchesGonum(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for range 20 {
		n := 2 + r.IntN(500)
		ref, x := make([]float32, n), make([]float32, n)
		for i := range ref {
			// Multiples of 1/256 below 100 in magnitude, so that adding
			// 8192 below is exact in float32.
			ref[i] = float32(math.Round(r.NormFloat64()*8*256) / 256)
			x[i] = ref[i] + float32(math.Round(r.NormFloat64()*0.5*256)/256)
		}
		kl, err := KL(ref, x)
		if err != nil {
			t.Fatal(err)
		}
		want := stat.KullbackLeibler(softmax(ref), softmax(x))
		if !closeRel(kl, want, 1e-9) {
			t.Errorf("KL = %v, gonum %v", kl, want)
		}
		// Softmax is shift invariant; an offset whose exp overflows
		// float64 must not reach the log-sum-exp.
		shifted := make([]float32, n)
		for i := range x {
			shifted[i] = x[i] + 8192
		}
		if ks, _ := KL(ref, shifted); !closeRel(ks, kl, 1e-9) {
			t.Errorf("shifted KL = %v, want %v", ks, kl)
		}
		if k0, _ := KL(ref, ref); k0 != 0 {
			t.Errorf("KL(p, p) = %v", k0)
		}
	}
}

func TestKLDegenerate(t *testing.T) {
	inf := float32(math.Inf(1))
	if _, err := KL([]float32{1}, []float32{1, 2}); !errors.Is(err, ErrLength) {
		t.Errorf("length: %v", err)
	}
	if _, err := KL(nil, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	// A token the reference deems impossible costs nothing...
	if k, _ := KL([]float32{0, -inf}, []float32{0, 3}); k <= 0 || math.IsInf(k, 0) {
		t.Errorf("finite KL expected, got %v", k)
	}
	// ...but one x deems impossible while the reference does not is fatal.
	if k, _ := KL([]float32{0, 0}, []float32{0, -inf}); !math.IsInf(k, 1) {
		t.Errorf("KL = %v, want +Inf", k)
	}
	for _, bad := range [][]float32{{float32(math.NaN()), 0}, {inf, 0}, {-inf, -inf}} {
		if k, _ := KL(bad, []float32{0, 0}); !math.IsNaN(k) {
			t.Errorf("KL(%v, ·) = %v, want NaN", bad, k)
		}
	}
}

func TestTopK(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		in   []float32
		k    int
		want []int
	}{
		{[]float32{1, 5, 3, 5, 4}, 3, []int{1, 3, 4}},
		{[]float32{1, 5, 3, 5, 4}, 1, []int{1}},
		{[]float32{nan, 1, nan, 2}, 3, []int{3, 1, 0}},
		{[]float32{2, 1}, 5, []int{0, 1}},
		{[]float32{2, 1}, 0, []int{}},
		{[]float32{2, 2, 2}, 2, []int{0, 1}},
	} {
		if got := TopK(tc.in, tc.k); !slices.Equal(got, tc.want) {
			t.Errorf("TopK(%v, %d) = %v, want %v", tc.in, tc.k, got, tc.want)
		}
	}
	// Against a full stable sort on random input with many ties.
	r := rand.New(rand.NewPCG(33, 34))
	for range 100 {
		v := make([]float32, 1+r.IntN(200))
		for i := range v {
			v[i] = float32(r.IntN(20))
		}
		idx := make([]int, len(v))
		for i := range idx {
			idx[i] = i
		}
		slices.SortStableFunc(idx, func(a, b int) int {
			switch {
			case v[a] > v[b]:
				return -1
			case v[a] < v[b]:
				return 1
			}
			return 0
		})
		k := r.IntN(len(v) + 2)
		if got := TopK(v, k); !slices.Equal(got, idx[:min(k, len(v))]) {
			t.Fatalf("TopK(%v, %d) = %v, want %v", v, k, got, idx[:k])
		}
	}
}

func TestCompareLogits(t *testing.T) {
	ref := []float32{0.1, 4, 3, -1, 2.5}
	x := []float32{0.1, 3, 4, -1, 2.4}
	c, err := CompareLogits(ref, x, 3)
	if err != nil {
		t.Fatal(err)
	}
	if c.Top1Ref != 1 || c.Top1X != 2 || c.Top1Agree || c.K != 3 || c.TopKOverlap != 3 || c.KL <= 0 {
		t.Errorf("%+v", c)
	}
	c, _ = CompareLogits(ref, []float32{9, 4, 3, 8, 2.5}, 2)
	if !(c.Top1Ref == 1 && c.Top1X == 0 && c.TopKOverlap == 0) {
		t.Errorf("%+v", c)
	}
	c, _ = CompareLogits(ref, ref, 10)
	if !c.Top1Agree || c.K != len(ref) || c.TopKOverlap != len(ref) || c.KL != 0 {
		t.Errorf("self comparison %+v", c)
	}
	if _, err := CompareLogits(ref, x[:2], 1); !errors.Is(err, ErrLength) {
		t.Errorf("length: %v", err)
	}
}
