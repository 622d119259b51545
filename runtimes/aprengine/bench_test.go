package aprengine_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"

	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
)

// benchTypes are the weight types the engine benchmarks run: f32 (no
// dequantization work) and two quantized types (Q8_0: 64-wide fixture,
// Q4_K: 256-wide fixture).
var benchTypes = []ggml.Type{ggml.F32, ggml.Q8_0, ggml.Q4_K}

func benchPrompt(n, vocab int) []int32 {
	p := make([]int32, n)
	for i := range p {
		p[i] = int32(1 + (i*37)%(vocab-1))
	}
	return p
}

// BenchmarkPrefill runs a 32-token prompt as one batch on a fresh cache.
func BenchmarkPrefill(b *testing.B) {
	for _, typ := range benchTypes {
		b.Run(typ.String(), func(b *testing.B) {
			w := fixture(b, fixtures.Default("llama", typ))
			e := newEngine(b, w, runtime.NumCPU())
			prompt := benchPrompt(32, w.Config.NVocab)
			ctx := context.Background()
			for b.Loop() {
				e.Reset()
				if _, err := e.Forward(ctx, 0, prompt, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(prompt)), "ns/token")
		})
	}
}

// BenchmarkDecode runs single-token steps after a 32-token prompt; the
// cache is refilled (outside the timer) before it reaches the context.
func BenchmarkDecode(b *testing.B) {
	for _, typ := range benchTypes {
		b.Run(fmt.Sprint(typ), func(b *testing.B) {
			w := fixture(b, fixtures.Default("llama", typ))
			e := newEngine(b, w, runtime.NumCPU())
			prompt := benchPrompt(32, w.Config.NVocab)
			ctx := context.Background()
			tok := []int32{42}
			for b.Loop() {
				if e.Pos() == 0 || e.Pos() >= 256 {
					b.StopTimer()
					e.Reset()
					if _, err := e.Forward(ctx, 0, prompt, nil); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
				if _, err := e.Forward(ctx, 1, tok, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
