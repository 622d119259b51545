package probes

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/layerwise/parity/stats"
)

// TestSummariseRowsMatchesAddSlice: the interleaved summaries are
// AddSlice's, bit for bit, on random rows with and without zeros,
// infinities and NaNs, for row counts around multiples of four.
func TestSummariseRowsMatchesAddSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	special := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-45, 3e38}
	for iter := 0; iter < 200; iter++ {
		nRows, n := iter%11, 1+iter%37
		rows := make([][]float32, nRows)
		for j := range rows {
			rows[j] = make([]float32, n)
			for i := range rows[j] {
				rows[j][i] = float32(r.NormFloat64() * math.Exp(3*r.NormFloat64()))
				if iter%3 == 0 && r.IntN(6) == 0 {
					rows[j][i] = special[r.IntN(len(special))]
				}
			}
		}
		got := make([]stats.Summary, nRows)
		summariseRows(got, rows)
		for j, row := range rows {
			var want stats.Summary
			want.AddSlice(row)
			if !sameSummary(got[j], want) {
				t.Fatalf("iter %d row %d: %+v, AddSlice %+v", iter, j, got[j], want)
			}
		}
	}
}

func sameSummary(a, b stats.Summary) bool {
	f64 := func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }
	f32 := func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }
	return a.Count == b.Count && a.NaN == b.NaN && a.Inf == b.Inf && a.Zero == b.Zero &&
		f64(a.Mean, b.Mean) && f64(a.M2, b.M2) && f64(a.SumSq, b.SumSq) && f32(a.Min, b.Min) && f32(a.Max, b.Max)
}

// BenchmarkSummariseRows summarises 64 rows of 8960 values (a prefill's
// FFN activation of Qwen2.5-1.5B) interleaved and with AddSlice.
func BenchmarkSummariseRows(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	rows := make([][]float32, 64)
	for j := range rows {
		rows[j] = make([]float32, 8960)
		for i := range rows[j] {
			rows[j][i] = float32(r.NormFloat64())
		}
	}
	per := make([]stats.Summary, len(rows))
	b.Run("interleaved", func(b *testing.B) {
		b.SetBytes(64 * 8960 * 4)
		for b.Loop() {
			summariseRows(per, rows)
		}
	})
	b.Run("AddSlice", func(b *testing.B) {
		b.SetBytes(64 * 8960 * 4)
		for b.Loop() {
			for j := range rows {
				per[j] = stats.Summary{}
				per[j].AddSlice(rows[j])
			}
		}
	})
}
