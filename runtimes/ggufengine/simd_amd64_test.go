//go:build !noasm

package ggufengine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSIMDAssemblyMatchesGo checks axpy and siluVec against their Go
// versions bit for bit on random data with zeros, subnormals, huge values,
// infinities and NaNs, for lengths around the vector widths.
func TestSIMDAssemblyMatchesGo(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2/FMA")
	}
	r := rand.New(rand.NewPCG(7, 8))
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -2e-39, 3e38, -3e38, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	same := func(a, b float32) bool { return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b }
	vec := func(n int, spec bool) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(r.NormFloat64() * math.Exp(3*r.NormFloat64()))
			if spec && r.IntN(10) == 0 {
				v[i] = special[r.IntN(len(special))]
			}
		}
		return v
	}
	for iter := 0; iter < 300; iter++ {
		spec := iter%3 == 0
		sx := vec(iter%70, spec)
		for i := range sx {
			sx[i] *= 30 // reach the |n| > 192 cut-offs too
		}
		sref := append([]float32(nil), sx...)
		siluVec(sx)
		siluVecGo(sref)
		for i := range sx {
			if !same(sx[i], sref[i]) {
				t.Fatalf("silu(%g): %g, Go %g", sref[i]/30, sx[i], sref[i])
			}
		}
		n := iter % 140
		acc, x2 := vec(n, spec), vec(n, spec)
		a := vec(1, spec)[0]
		ref := append([]float32(nil), acc...)
		axpy(acc, x2, a)
		axpyGo(ref, x2, a)
		for i := range acc {
			if !same(acc[i], ref[i]) {
				t.Fatalf("axpy of %d, element %d: %g, Go %g", n, i, acc[i], ref[i])
			}
		}
	}
}
