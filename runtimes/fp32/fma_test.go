package fp32

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// exact is a·b+c computed exactly and rounded once to float32.
func exact(a, b, c float32) float32 {
	p := new(big.Float).SetPrec(256).Mul(big.NewFloat(float64(a)), big.NewFloat(float64(b)))
	p.Add(p, big.NewFloat(float64(c)))
	f, _ := p.Float32()
	return f
}

// TestFMARoundsOnce compares FMA with the exact sum rounded once: random
// operands over wide exponents, sums that cancel most of a·b, results
// near and below the smallest normal, and the cases that defeat
// float32(float64 sum).
func TestFMARoundsOnce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	rnd := func(lo, span int) float32 {
		f := float32(math.Ldexp(1+r.Float64(), r.IntN(span)+lo))
		if r.IntN(2) == 0 {
			f = -f
		}
		return f
	}
	cases := [][3]float32{
		{1 + 0x1p-23, 1 + 0x1p-23, -1},      // the product needs 47 bits
		{1 + 0x1p-12, 1 + 0x1p-12, 0x1p-60}, // 1 + 2⁻¹¹ + 2⁻²⁴ + tiny: just above a tie
		{1 + 0x1p-12, 1 + 0x1p-12, -0x1p-60},
		// (1+2⁻¹²)·2⁻¹² × (1−2⁻¹²+2⁻²⁴)·2⁻¹² = 2⁻²⁴ + 2⁻⁶⁰: 1 + that is just
		// above the tie between 1 and 1+2⁻²³.
		{(1 + 0x1p-12) * 0x1p-12, (1 - 0x1p-12 + 0x1p-24) * 0x1p-12, 1},
		{3, 5, -15},
	}
	for i := 0; i < 200000; i++ {
		a, b, c := rnd(-30, 60), rnd(-30, 60), rnd(-30, 60)
		if i%4 == 0 {
			// c cancels most of a·b, or sits just below its last bits.
			c = math.Nextafter32(-float32(float64(a)*float64(b)), 0)
		}
		cases = append(cases, [3]float32{a, b, c})
	}
	for i := 0; i < 20000; i++ { // results near and below the smallest normal
		cases = append(cases, [3]float32{rnd(-70, 20), rnd(-60, 20), rnd(-130, 10)})
	}
	for _, c := range cases {
		if got, want := FMA(c[0], c[1], c[2]), exact(c[0], c[1], c[2]); math.Float32bits(got) != math.Float32bits(want) {
			t.Fatalf("FMA(%g, %g, %g) = %g, want %g", c[0], c[1], c[2], got, want)
		}
	}
	// The midpoint cases really defeat the double rounding.
	for _, c := range [][3]float32{cases[1], cases[3]} {
		if float32(float64(c[0])*float64(c[1])+float64(c[2])) == exact(c[0], c[1], c[2]) {
			t.Errorf("%v: float32(float64 sum) is right; the case shows no double rounding", c)
		}
	}
	inf := float32(math.Inf(1))
	if got := FMA(inf, 1, 1); got != inf {
		t.Errorf("FMA(+Inf, 1, 1) = %g", got)
	}
	if got := FMA(inf, 0, 1); got == got {
		t.Errorf("FMA(+Inf, 0, 1) = %g, want NaN", got)
	}
}
