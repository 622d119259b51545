//go:build !noasm

package aprengine

import (
	"math"
	"math/rand/v2"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestDots2x4AssemblyMatchesDot checks the assembly block kernel against
// dot, bit for bit, on random rows of every length up to 70 and on rows
// holding zeros, subnormals, huge values, infinities and NaNs.
func TestDots2x4AssemblyMatchesDot(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("no AVX2/FMA")
	}
	r := rand.New(rand.NewPCG(5, 6))
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -3e-39, 3e38, -3e38, float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for iter := 0; iter < 400; iter++ {
		n := iter % 71
		w := make([]float32, 2*n)
		x := make([]float64, 4*n)
		for i := range w {
			w[i] = float32(r.NormFloat64() * math.Exp(4*r.NormFloat64()))
			if iter%4 == 0 && r.IntN(8) == 0 {
				w[i] = special[r.IntN(len(special))]
			}
		}
		for i := range x {
			v := float32(r.NormFloat64())
			if iter%4 == 1 && r.IntN(8) == 0 {
				v = special[r.IntN(len(special))]
			}
			x[i] = float64(v)
		}
		w4 := make([]float32, 4*n)
		for i := range w4 {
			w4[i] = float32(r.NormFloat64())
			if iter%4 == 2 && r.IntN(8) == 0 {
				w4[i] = special[r.IntN(len(special))]
			}
		}
		var got1 [4]float32
		dots4x1AVX2(w4, x, n, &got1)
		for i, g := range got1 {
			if want := dot(w4[i*n:(i+1)*n], x[:n]); math.Float32bits(g) != math.Float32bits(want) && !(g != g && want != want) {
				t.Fatalf("n=%d dots4x1 out[%d] = %g, dot %g", n, i, g, want)
			}
		}
		var got [2][4]float32
		dots2x4AVX2(w, x, n, &got)
		for i := range got {
			for j := range got[i] {
				want := dot(w[i*n:(i+1)*n], x[j*n:(j+1)*n])
				if math.Float32bits(got[i][j]) != math.Float32bits(want) && !(got[i][j] != got[i][j] && want != want) {
					t.Fatalf("n=%d out[%d][%d] = %g, dot %g", n, i, j, got[i][j], want)
				}
			}
		}
	}
}
