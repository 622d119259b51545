package ggufengine_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/ggufengine"
	"github.com/layerwise/parity/runtimes/model"
)

// benchEngine opens a Q4_K qwen2 fixture large enough that the kernels
// matter (rows of 1024, 8 layers) and returns an engine over it.
func benchEngine(b *testing.B) (*ggufengine.Engine, int) {
	b.Helper()
	s := fixtures.Default("qwen2", ggml.Q4_K)
	s.NEmbd, s.NFF, s.NHead, s.NHeadKV, s.HeadDim, s.NLayer, s.NVocab = 1024, 2816, 8, 2, 128, 8, 4096
	path := filepath.Join(b.TempDir(), "m.gguf")
	if err := fixtures.WriteGGUF(path, s); err != nil {
		b.Fatal(err)
	}
	w, err := model.OpenGGUF(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	e, err := ggufengine.New(w, ggufengine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return e, s.NVocab
}

// BenchmarkPrefill runs a 64-token prompt on an empty cache (tok/s).
func BenchmarkPrefill(b *testing.B) {
	e, vocab := benchEngine(b)
	prompt := make([]int32, 64)
	for i := range prompt {
		prompt[i] = int32((i*37 + 5) % vocab)
	}
	b.ReportAllocs()
	for b.Loop() {
		e.Reset()
		if _, err := e.Forward(context.Background(), 0, prompt, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(prompt)*b.N)/b.Elapsed().Seconds(), "tok/s")
}

// BenchmarkDecodeStep runs single-token steps after a 16-token prompt; its
// allocs/op and B/op are what one decode step allocates (the returned
// logits, the matmul goroutines; the activations are reused).
func BenchmarkDecodeStep(b *testing.B) {
	e, vocab := benchEngine(b)
	prompt := make([]int32, 16)
	for i := range prompt {
		prompt[i] = int32((i*37 + 5) % vocab)
	}
	ctx := context.Background()
	tok := []int32{42}
	b.ReportAllocs()
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
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
}
