package aprengine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// special holds the values every kernel test mixes in.
var special = []float32{0, float32(math.Copysign(0, -1)), 1e-45, -3e-39, 3e38, -3e38, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}

// sameBits: equal bits, or both NaN.
func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// fmaCase returns the i-th test triple for fp32.FMA: every eighth is a
// double-rounding trap (a·b is just above or below half an ulp of c, by
// less than float64 can hold, so float32(float64 sum) would round the
// wrong way), some hold special values, the rest are random with random
// exponents, with c often cancelling most of a·b.
func fmaCase(r *rand.Rand, i int) (a, b, c float32) {
	switch i % 8 {
	case 0:
		// (1+2⁻¹²)·2⁻¹² × (1−2⁻¹²+2⁻²⁴)·2⁻¹² = 2⁻²⁴ + 2⁻⁶⁰: 1 + that is
		// just above the tie between 1 and 1+2⁻²³; scaled by powers of two
		// and signs.
		s := float32(math.Ldexp(1, r.IntN(40)-20))
		a = (1 + 1.0/4096) / 4096 * s
		b = (1 - 1.0/4096 + 1.0/(1<<24)) / 4096
		c = s
		if r.IntN(2) == 0 {
			a, c = -a, -c
		}
		if r.IntN(2) == 0 {
			b = -b // now just below the tie on the other side
		}
		return a, b, c
	case 1:
		return special[r.IntN(len(special))], float32(r.NormFloat64()), special[r.IntN(len(special))]
	}
	rnd := func() float32 { return float32(math.Ldexp(r.Float64()+0.5, r.IntN(60)-30)) * float32(1-2*r.IntN(2)) }
	a, b = rnd(), rnd()
	if i%2 == 0 {
		c = -float32(float64(a)*float64(b)) * float32(1+math.Ldexp(float64(r.IntN(64)-32), -23))
	} else {
		c = rnd()
	}
	return a, b, c
}

// TestDotOrder pins dot's order: with small integers every product and
// partial sum is exact, so dot must equal the plain sum whatever the
// length mod 16 (a dropped or doubled tail element shows), and chunked
// accumulation at multiples of sixteen must give the same lanes.
func TestDotOrder(t *testing.T) {
	for n := 0; n < 70; n++ {
		a, b := make([]float32, n), make([]float32, n)
		var want float64
		for i := range a {
			a[i], b[i] = float32(i+1), float32(3*i-7)
			want += float64(i+1) * float64(3*i-7)
		}
		if got := dot(a, b); float64(got) != want {
			t.Errorf("n=%d: dot %g, want %g", n, got, want)
		}
	}
	// Lane order with rounding: values that cancel differently per lane.
	r := rand.New(rand.NewPCG(1, 1))
	w, x := make([]float32, 100), make([]float32, 100)
	for i := range w {
		w[i], x[i] = float32(r.NormFloat64()*1e4), float32(r.NormFloat64())
	}
	var s lanes
	accumulate(&s, w[:48], x[:48])
	accumulate(&s, w[48:], x[48:])
	if got, want := fold(&s), dot(w, x); got != want {
		t.Errorf("chunked accumulation %g, whole %g", got, want)
	}
	// fold's tree: lane j += lane j+8, +4, +2, +1.
	var l lanes
	for j := range l {
		l[j] = float32(j + 1)
	}
	l[0], l[8] = 1e8, -1e8 // cancel first in the tree (1e8 + 17 would round)
	if got := fold(&l); got != float32(136-1-9) {
		t.Errorf("fold = %g, want %g", got, float32(136-1-9))
	}
}
