package model_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/layerwise/parity/runtimes/aprengine"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/ggufengine"
	"github.com/layerwise/parity/runtimes/model"
)

// FuzzOpenGGUF feeds mutations of small generated models to OpenGGUF:
// hostile metadata (dimensions, rope, eps, tokenizer keys) and tensor
// directories that the GGUF reader accepts must give an error here, never
// a panic; and a model this package validates must decode every tensor,
// build its tokenizer or refuse it, and run two tokens through both
// engines without panicking.
func FuzzOpenGGUF(f *testing.F) {
	dir := f.TempDir()
	for i, s := range []fixtures.Spec{
		{Arch: "qwen2", NEmbd: 32, NLayer: 1, NHead: 2, NHeadKV: 1, NFF: 64, NVocab: 259, Type: ggml.Q4_0, Seed: 5, Tied: true},
		{Arch: "qwen3", NEmbd: 32, NLayer: 1, NHead: 2, NHeadKV: 2, NFF: 32, NVocab: 259, Type: ggml.F32, Seed: 6},
		{Arch: "llama", NEmbd: 16, NLayer: 2, NHead: 2, NHeadKV: 1, NFF: 32, NVocab: 259, Type: ggml.F16, Seed: 7},
	} {
		path := filepath.Join(dir, string(rune('a'+i))+".gguf")
		if err := fixtures.WriteGGUF(path, s); err != nil {
			f.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	path := filepath.Join(f.TempDir(), "f.gguf")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		w, err := model.OpenGGUF(path)
		if err != nil {
			return
		}
		defer w.Close()
		for _, name := range w.Names() {
			tn, _ := w.ByName(name)
			if _, err := tn.Float32s(); err != nil {
				t.Errorf("%s: validated tensor does not decode: %v", name, err)
			}
		}
		w.Tokenizer()
		ctx := context.Background()
		if e, err := ggufengine.New(w, ggufengine.Options{Threads: 1}); err == nil {
			e.Forward(ctx, 0, []int32{0, 1}, nil)
		}
		if e, err := aprengine.New(w, aprengine.Options{Threads: 1}); err == nil {
			e.Forward(ctx, 0, []int32{0, 1}, nil)
		}
	})
}
