package ggufengine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// ulpErr is |got − want| in units of the float32 spacing at want
// (2^(e−24) for want in [2^(e−1), 2^e), normal range).
func ulpErr(got float32, want float64) float64 {
	_, e := math.Frexp(want)
	return math.Abs(float64(got)-want) / math.Ldexp(1, e-24)
}

func TestVExpfAccuracy(t *testing.T) {
	if got := vExpf(float32(math.Inf(-1))); got != 0 {
		t.Errorf("vExpf(-Inf) = %g, want 0 (a masked score)", got)
	}
	if got := vExpf(0); got != 1 {
		t.Errorf("vExpf(0) = %g, want 1", got)
	}
	// ggml quotes 1.45358 + 0.5 ulp for the routine it adapted; the
	// AVX-512 variant, which folds the 1 into the polynomial and scales
	// with scalef, reaches 2.2 ulp (measured on the real intrinsics).
	// Scores minus their max lie in (-∞, 0], normal down to -87.
	worst := 0.0
	for x := float32(-87); x <= 0; x = math.Nextafter32(x, 1) + 1e-4 {
		worst = math.Max(worst, ulpErr(vExpf(x), math.Exp(float64(x))))
	}
	if worst > 2.25 {
		t.Errorf("vExpf: worst error %.3f ulp over [-87, 0]", worst)
	}
	for _, x := range []float32{-4, -1, 0.5, 3} {
		want := x / (1 + vExpf(-x))
		if got := vSilu(x); got != want {
			t.Errorf("vSilu(%g) = %g, want %g", x, got, want)
		}
	}
}

func TestGlibcExpfAccuracy(t *testing.T) {
	// glibc documents 0.502 ulp (normal results).
	for x := float32(-87); x < 88; x += 0.0013 {
		if e := ulpErr(glibcExpf(x), math.Exp(float64(x))); e > 0.502 {
			t.Fatalf("glibcExpf(%g): error %.4f ulp", x, e)
		}
	}
	for _, c := range []struct{ x, want float32 }{
		{float32(math.Inf(-1)), 0}, {-104, 0}, {89, float32(math.Inf(1))}, {0, 1},
	} {
		if got := glibcExpf(c.x); got != c.want {
			t.Errorf("glibcExpf(%g) = %g, want %g", c.x, got, c.want)
		}
	}
}

func TestGlibcSinCosfAccuracy(t *testing.T) {
	// glibc documents a worst case of 0.5607 ulp for both functions; a
	// wrong constant, quadrant or reduction shows up as far more.
	const bound = 0.5607 + 1e-3
	r := rand.New(rand.NewPCG(7, 8))
	check := func(x float32) {
		if e := ulpErr(glibcSinf(x), math.Sin(float64(x))); e > bound {
			t.Fatalf("glibcSinf(%g): error %.4f ulp", x, e)
		}
		if e := ulpErr(glibcCosf(x), math.Cos(float64(x))); e > bound {
			t.Fatalf("glibcCosf(%g): error %.4f ulp", x, e)
		}
	}
	for i := 0; i < 300000; i++ {
		// Exponents from tiny through the fast (< 120) and the large
		// reduction paths, both signs.
		x := float32(math.Ldexp(1+r.Float64(), r.IntN(40)-20))
		if r.IntN(2) == 0 {
			x = -x
		}
		check(x)
	}
	for _, x := range []float32{0, 0x1p-13, math.Pi / 4, 119.99999, 120, 4096, 1e30} {
		check(x)
		check(-x)
	}
}
