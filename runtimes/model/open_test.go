package model_test

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/layerwise/parity/runtimes/convert"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/model"
)

// smallAPR writes a tiny synthetic qwen2 model with Q4_0 weights as GGUF and
// converts it with q, returning the APR path.
func smallAPR(t testing.TB, q convert.Quantize) string {
	t.Helper()
	dir := t.TempDir()
	s := fixtures.Spec{Arch: "qwen2", NEmbd: 32, NLayer: 1, NHead: 2, NHeadKV: 1, NFF: 64, NVocab: 259, Type: ggml.Q4_0, Seed: 5, Tied: true}
	in, out := filepath.Join(dir, "m.gguf"), filepath.Join(dir, "m.apr")
	if err := fixtures.WriteGGUF(in, s); err != nil {
		t.Fatal(err)
	}
	if err := convert.ConvertFile(in, out, convert.Options{Quantize: q}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestOpenDetectsFormat(t *testing.T) {
	path := smallAPR(t, convert.APRQ4)
	w, err := model.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if w.Format != "apr" || w.Config.Arch.Name != "qwen2" || !w.Config.TiedEmbeddings {
		t.Errorf("format %s, config %+v", w.Format, *w.Config)
	}
	head, err := w.LMHead()
	if err != nil || head.Name != "lm_head.weight" || head.Storage != "APR_Q4" {
		t.Errorf("LM head %v (%v)", head, err)
	}
	g, err := model.Open(filepath.Join(filepath.Dir(path), "m.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Format != "gguf" {
		t.Errorf("format %s", g.Format)
	}
	junk := filepath.Join(t.TempDir(), "junk")
	os.WriteFile(junk, []byte("PK\x03\x04 not a model"), 0o644)
	if _, err := model.Open(junk); err == nil {
		t.Error("a zip header opened as a model")
	}
}

// FuzzOpenAPR feeds mutations of converted models (APR-Q4 or row-padded
// Q4_K matrices, F32 norms and biases, a tokenizer) to OpenAPR, then decodes
// every tensor and the vocabulary: a hostile file must give an error, never
// a panic. The checksums are recomputed after mutation, or nearly every
// mutant would stop at the apr reader's CRC check and never reach this
// package's configuration, shape and decoder code.
func FuzzOpenAPR(f *testing.F) {
	for _, q := range []convert.Quantize{convert.APRQ4, convert.Q4K} {
		seed, err := os.ReadFile(smallAPR(f, q))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(seed)
	}
	// Each worker process runs its inputs one at a time, so one path will do.
	path := filepath.Join(f.TempDir(), "f.apr")
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) >= 68 && binary.LittleEndian.Uint32(data[40:]) != 0 {
			c := crc32.Update(crc32.ChecksumIEEE(data[:40]), crc32.IEEETable, data[44:64])
			binary.LittleEndian.PutUint32(data[40:], max(c, 1))
			binary.LittleEndian.PutUint32(data[len(data)-4:], crc32.ChecksumIEEE(data[:len(data)-4]))
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		w, err := model.OpenAPR(path)
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
		w.Vocab()
	})
}
