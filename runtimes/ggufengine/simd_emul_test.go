package ggufengine

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exactFMA32 is a·b+c computed exactly and rounded once to float32.
func exactFMA32(a, b, c float32) float32 {
	p := new(big.Float).SetPrec(200).Mul(big.NewFloat(float64(a)), big.NewFloat(float64(b)))
	p.Add(p, big.NewFloat(float64(c)))
	f, _ := p.Float32()
	return f
}

func TestFMA32RoundsOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	rnd := func() float32 {
		// Random sign, mantissa and an exponent spread wide enough for
		// c to sit anywhere relative to a·b.
		m := 1 + r.Float64()
		f := float32(math.Ldexp(m, r.IntN(60)-30))
		if r.IntN(2) == 0 {
			f = -f
		}
		return f
	}
	for i := 0; i < 200000; i++ {
		a, b, c := rnd(), rnd(), rnd()
		if i%4 == 0 {
			// Force the hard case: c cancels most of a·b, or sits just
			// below its last bits.
			c = -float32(float64(a) * float64(b))
			c = math.Nextafter32(c, 0)
		}
		want := exactFMA32(a, b, c)
		if got := fma32(a, b, c); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", a, b, c, got, want)
		}
	}
	// A case that defeats float32(math.FMA(...)): with a = b = 1+2⁻¹²,
	// a·b = 1 + 2⁻¹¹ + 2⁻²⁴ is exactly halfway between two float32 values;
	// adding c = 2⁻⁶⁰ moves it above the midpoint, but the float64 sum
	// rounds back onto the midpoint, which then rounds to even (down).
	a, b, c := float32(1+0x1p-12), float32(1+0x1p-12), float32(0x1p-60)
	want := exactFMA32(a, b, c)
	if want != float32(1+0x1p-11+0x1p-23) {
		t.Fatalf("big.Float gives %g for the midpoint case", want)
	}
	if got := fma32(a, b, c); got != want {
		t.Errorf("fma32(%g, %g, %g) = %.10g, want %.10g", a, b, c, got, want)
	}
	if float32(math.FMA(float64(a), float64(b), float64(c))) == want {
		t.Errorf("the midpoint case no longer shows double rounding")
	}
}

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
