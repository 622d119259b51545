package model

import (
	"errors"
	"path/filepath"
	"testing"
)

func sharedModel(name string) string {
	return filepath.Join("..", "..", "..", "shared", "models", name)
}

func TestOpenSharedGGUF(t *testing.T) {
	for _, tc := range []struct {
		file                 string
		arch                 string
		d, layers, heads, kv int
		hd, ff, vocab        int
		rope                 RopeType
		base                 float32
		tied, bias, qknorm   bool
	}{
		{"stories260K.gguf", "llama", 64, 5, 8, 4, 8, 172, 512, RopeNorm, 10000, false, false, false},
		{"llama-2-tiny-random.gguf", "llama", 8, 1, 2, 2, 4, 32, 32000, RopeNorm, 10000, false, false, false},
		{"derived/tiny-qwen2-bpe-f32.gguf", "qwen2", 256, 2, 4, 2, 64, 512, 320, RopeNeox, 1e6, true, true, false},
		{"derived/tiny-qwen3-random-Q4_K_M.gguf", "qwen3", 256, 2, 4, 2, 64, 512, 512, RopeNeox, 1e6, false, false, true},
	} {
		w, err := OpenGGUF(sharedModel(tc.file))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		c := w.Config
		if c.Arch.Name != tc.arch || c.NEmbd != tc.d || c.NLayer != tc.layers || c.NHead != tc.heads || c.NHeadKV != tc.kv ||
			c.HeadDim != tc.hd || c.NFF != tc.ff || c.NVocab != tc.vocab || c.Arch.Rope != tc.rope || c.RopeBase != tc.base ||
			c.TiedEmbeddings != tc.tied || c.Arch.QKVBias != tc.bias || c.Arch.QKNorm != tc.qknorm {
			t.Errorf("%s: config %+v", tc.file, *c)
		}
		head, err := w.LMHead()
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		wantHead := "output.weight"
		if tc.tied {
			wantHead = "token_embd.weight"
		}
		if head.Name != wantHead {
			t.Errorf("%s: LM head %s, want %s", tc.file, head.Name, wantHead)
		}
		norm, err := w.Tensor(OutputNorm, -1)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := norm.Float32s(); err != nil || len(v) != tc.d {
			t.Errorf("%s: output norm: %d values, %v", tc.file, len(v), err)
		}
		w.Close()
	}
}

func TestMissingTensorIsNamed(t *testing.T) {
	w, err := OpenGGUF(sharedModel("stories260K.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	_, err = w.Tensor(AttnQ, 99)
	if !errors.Is(err, ErrMissingTensor) {
		t.Fatalf("err = %v", err)
	}
	if _, ok := w.Lookup(AttnQBias, 0); ok {
		t.Error("llama has no q bias")
	}
}
