//go:build !noasm

package stats

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"golang.org/x/sys/cpu"
)

// TestSliceSummaryAssemblyMatchesGo compares the AVX2 passes with the
// Go definition, bit for bit, on slices of every length up to 100 and some
// long ones, with and without zeros of both signs, subnormals, huge values,
// NaN and ±Inf (which send the slice back to Go).
func TestSliceSummaryAssemblyMatchesGo(t *testing.T) {
	if !cpu.X86.HasAVX2 {
		t.Skip("no AVX2")
	}
	r := rand.New(rand.NewPCG(4, 2))
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-45, -3e-39, 3e38, -3e38}
	for iter := 0; iter < 3000; iter++ {
		n := iter % 101
		if iter%100 == 99 {
			n = 1000 + r.IntN(5000)
		}
		xs := randData(r, n, iter%5 == 0)
		if iter%3 == 0 {
			for i := range xs {
				if r.IntN(4) == 0 {
					xs[i] = special[r.IntN(len(special))]
				}
			}
		}
		got, want := summarize(xs, true), summarize(xs, false)
		if got != want && !(got.Mean != got.Mean && want.Mean != want.Mean) {
			t.Fatalf("n=%d: assembly %+v\nGo %+v", n, got, want)
		}
	}
}

// BenchmarkSliceSummary reports the speed of one row's summary for the
// row lengths of a 1.5B model (a KV head group, the hidden state, the FFN).
func BenchmarkSliceSummary(b *testing.B) {
	for _, n := range []int{256, 1536, 8960} {
		xs := randData(rand.New(rand.NewPCG(1, 1)), n, false)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			b.SetBytes(int64(4 * len(xs)))
			for b.Loop() {
				sliceSummary(xs)
			}
		})
	}
}
