package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// randVec draws n values from one of several shapes: gaussian at a random
// scale, all positive, sparse spikes, or blocks of zeros.
func randVec(r *rand.Rand, n, kind int) []float32 {
	x := make([]float32, n)
	scale := math.Ldexp(1, r.IntN(16)-8)
	for i := range x {
		switch kind % 4 {
		case 0:
			x[i] = float32(r.NormFloat64() * scale)
		case 1:
			x[i] = float32(r.Float64() * scale)
		case 2:
			if r.IntN(8) == 0 {
				x[i] = float32(r.NormFloat64() * scale * 20)
			} else {
				x[i] = float32(r.NormFloat64() * scale)
			}
		case 3:
			if i/64%2 == 0 {
				x[i] = float32(r.NormFloat64() * scale)
			}
		}
	}
	return x
}

// TestVecDotMatchesDequantized is the property test for every dot pair:
// VecDot(q(w), q8(x)) equals the float64 dot product of the dequantized
// vectors up to float32 rounding.
//
// Tolerance: 1e-5 · Σ|w_i·a_i| (w, a dequantized). The kernels round one
// or two scale products per block and add nb block partials in float32,
// about (nb+4)·2⁻²⁴ ≈ 2e-6 relative for n = 1024 and 32-element blocks;
// Q4_K/Q5_K/Q2_K subtract a separately summed min term, which can cancel
// against the scale term, hence the 5× margin.
//
// Q8_1 carries s = fp16(d·Σq) computed from the unrounded d, so for
// Q4_1/Q5_1 the kernel's min term m·s is not m·Σ(dequantized a) but
// differs by the fp16 rounding of s; the reference uses s as stored.
func TestVecDotMatchesDequantized(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const n = 1024
	for _, wt := range dotTypes {
		at, _ := VecDotType(wt)
		wq := make([]byte, rowSize(t, wt, n))
		aq := make([]byte, rowSize(t, at, n))
		wd := make([]float32, n)
		ad := make([]float32, n)
		worst := 0.0
		for trial := 0; trial < 40; trial++ {
			if err := Quantize(wt, randVec(r, n, trial), wq); err != nil {
				t.Fatal(err)
			}
			if err := QuantizeRow(at, randVec(r, n, trial/4), aq); err != nil {
				t.Fatal(err)
			}
			if err := Dequantize(wt, wq, wd); err != nil {
				t.Fatal(err)
			}
			if err := Dequantize(at, aq, ad); err != nil {
				t.Fatal(err)
			}
			var ref, mag float64
			for i := range wd {
				p := float64(wd[i]) * float64(ad[i])
				ref += p
				mag += math.Abs(p)
			}
			if at == ggml.Q8_1 {
				ref = q8_1Reference(wt, wq, aq, wd, ad)
			}
			got := float64(VecDot(wt, wq, aq, n))
			err := math.Abs(got - ref)
			if err > 1e-5*mag+1e-35 {
				t.Errorf("%s·%s trial %d: got %g, want %g (error %g, Σ|w·a| %g)", wt, at, trial, got, ref, err, mag)
			}
			if mag > 0 {
				worst = math.Max(worst, err/mag)
			}
		}
		t.Logf("%-7s·%-4s worst |error|/Σ|w·a| = %.2e", wt, at, worst)
	}
}

// q8_1Reference is Σ_blocks (Σ_i (w_i - m)·a_i + m·s): the dot of the
// dequantized vectors with each block's min term taken through s.
func q8_1Reference(wt ggml.Type, wq, aq []byte, wd, ad []float32) float64 {
	wb := wt.TypeSize()
	var ref float64
	for b := 0; b < len(wd)/qk; b++ {
		m := float64(f16(wq[b*wb+2:]))
		s := float64(f16(aq[b*36+2:]))
		for i := b * qk; i < (b+1)*qk; i++ {
			ref += (float64(wd[i]) - m) * float64(ad[i])
		}
		ref += m * s
	}
	return ref
}

// TestVecDotExactCases checks dots whose float results are exact: small
// integers times powers of two, with blocks whose scales come out as
// exactly 1 (a Q8_0 block holding ±127, a Q4_0 block holding -8, a Q5_0
// block holding -16), so any indexing or scale mistake shows.
func TestVecDotExactCases(t *testing.T) {
	const n = 512
	for _, tc := range []struct {
		wt     ggml.Type
		lo, hi int // weight integer range; element 0 of each block is lo
	}{
		{ggml.F32, -3, 3}, {ggml.F16, -3, 3}, {ggml.BF16, -3, 3},
		{ggml.Q8_0, -127, 127}, {ggml.Q4_0, -8, 7}, {ggml.Q5_0, -16, 15},
	} {
		w := make([]float32, n)
		x := make([]float32, n)
		var want float64
		for i := range w {
			w[i] = float32(tc.lo + (i*7)%(tc.hi-tc.lo+1))
			if i%32 == 0 {
				w[i] = float32(tc.lo)
			}
			x[i] = float32((i*5)%255 - 127)
			if i%32 == 0 {
				x[i] = 127
			}
			want += float64(w[i]) * float64(x[i])
		}
		if tc.wt == ggml.BF16 || tc.wt == ggml.F16 {
			// x must be exact in the activation type too.
			for i := range x {
				x[i] = float32(int(x[i]) % 8)
			}
			want = 0
			for i := range w {
				want += float64(w[i]) * float64(x[i])
			}
		}
		at, _ := VecDotType(tc.wt)
		wq := make([]byte, rowSize(t, tc.wt, n))
		aq := make([]byte, rowSize(t, at, n))
		if err := Quantize(tc.wt, w, wq); err != nil {
			t.Fatal(err)
		}
		if err := QuantizeRow(at, x, aq); err != nil {
			t.Fatal(err)
		}
		if got := VecDot(tc.wt, wq, aq, n); float64(got) != want {
			t.Errorf("%s: VecDot = %g, want %g", tc.wt, got, want)
		}
	}
}

func TestMatMulDeterministic(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	const rows, cols, toks = 67, 512, 5 // 67 rows: uneven split over threads
	x := randVec(r, toks*cols, 0)
	for _, wt := range dotTypes {
		w := make([]byte, rows*rowSize(t, wt, cols))
		if err := Quantize(wt, randVec(r, rows*cols, 0), w); err != nil {
			t.Fatal(err)
		}
		var first []float32
		for _, threads := range []int{1, 2, 4, 0} {
			dst := make([]float32, toks*rows)
			if err := MatMul(dst, w, wt, rows, cols, x, toks, threads); err != nil {
				t.Fatal(err)
			}
			if first == nil {
				first = dst
				continue
			}
			for i := range dst {
				if math.Float32bits(dst[i]) != math.Float32bits(first[i]) {
					t.Fatalf("%s: %d threads differ from 1 at %d: %g vs %g", wt, threads, i, dst[i], first[i])
				}
			}
		}
		// Each output is VecDot of its row with the converted activation.
		at, _ := VecDotType(wt)
		wr, ar := rowSize(t, wt, cols), rowSize(t, at, cols)
		act := make([]byte, ar)
		for tok := 0; tok < toks; tok++ {
			if err := QuantizeRow(at, x[tok*cols:(tok+1)*cols], act); err != nil {
				t.Fatal(err)
			}
			for row := 0; row < rows; row++ {
				want := VecDot(wt, w[row*wr:(row+1)*wr], act, cols)
				if got := first[tok*rows+row]; math.Float32bits(got) != math.Float32bits(want) {
					t.Fatalf("%s: dst[%d,%d] = %g, VecDot = %g", wt, tok, row, got, want)
				}
			}
		}
	}
}

func TestVecDotNoAlloc(t *testing.T) {
	const n = 1024
	r := rand.New(rand.NewPCG(1, 1))
	for _, wt := range dotTypes {
		at, _ := VecDotType(wt)
		wq := make([]byte, rowSize(t, wt, n))
		aq := make([]byte, rowSize(t, at, n))
		Quantize(wt, randVec(r, n, 0), wq)
		QuantizeRow(at, randVec(r, n, 0), aq)
		if a := testing.AllocsPerRun(10, func() { VecDot(wt, wq, aq, n) }); a != 0 {
			t.Errorf("%s: VecDot allocates %v times", wt, a)
		}
	}
}
