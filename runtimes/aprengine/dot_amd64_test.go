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
		if cpu.X86.HasAVX512F {
			// Two column chunks, then the tail and the combination as
			// tileBlocks finishes them.
			var acc [64]float64
			half := n / 8 * 4
			lanes4x4AVX512(w4, n, x, n, half/4, &acc)
			lanes4x4AVX512(w4[half:], n, x[half:], n, (n&^3-half)/4, &acc)
			for i := 0; i < 4; i++ {
				for j := 0; j < 4; j++ {
					s := (*[4]float64)(acc[16*j+4*i:])
					for k := n &^ 3; k < n; k++ {
						s[0] += float64(w4[i*n+k]) * x[j*n+k]
					}
					g := float32((s[0] + s[1]) + (s[2] + s[3]))
					if want := dot(w4[i*n:(i+1)*n], x[j*n:(j+1)*n]); math.Float32bits(g) != math.Float32bits(want) && !(g != g && want != want) {
						t.Fatalf("n=%d lanes4x4 out[%d][%d] = %g, dot %g", n, i, j, g, want)
					}
				}
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

// BenchmarkDotKernels times the assembly block kernels on rows of 1536
// (GFLOP/s: a multiply and an add per weight and token).
func BenchmarkDotKernels(b *testing.B) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		b.Skip("no AVX2/FMA")
	}
	const n = 1536
	r := rand.New(rand.NewPCG(1, 2))
	w := make([]float32, 4*n)
	x := make([]float64, 4*n)
	for i := range w {
		w[i], x[i] = float32(r.NormFloat64()), float64(float32(r.NormFloat64()))
	}
	report := func(b *testing.B, macs int) {
		b.ReportMetric(2*float64(macs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	}
	b.Run("2x4-avx2", func(b *testing.B) {
		var out [2][4]float32
		for b.Loop() {
			dots2x4AVX2(w, x, n, &out)
		}
		report(b, 8*n)
	})
	b.Run("4x1-avx2", func(b *testing.B) {
		var out [4]float32
		for b.Loop() {
			dots4x1AVX2(w, x, n, &out)
		}
		report(b, 4*n)
	})
	if cpu.X86.HasAVX512F {
		b.Run("4x4-avx512", func(b *testing.B) {
			var acc [64]float64
			for b.Loop() {
				lanes4x4AVX512(w, n, x, n, n/4, &acc)
			}
			report(b, 16*n)
		})
	}
}
