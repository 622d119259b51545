package diag

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/layerwise/parity/runtimes/convert"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/gguf"
	"github.com/layerwise/parity/runtimes/model"
)

// shared returns a path under ../shared, found by walking up to the
// directory holding go.mod.
func shared(t testing.TB, rel string) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared test data missing: %v (the repository expects ../shared beside it)", err)
	}
	return p
}

// open opens a model file for the test's duration.
func open(t testing.TB, path string) *model.Weights {
	t.Helper()
	w, err := model.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// toAPR converts a GGUF file into t.TempDir() and opens the result.
func toAPR(t testing.TB, src string, q convert.Quantize) *model.Weights {
	t.Helper()
	out := filepath.Join(t.TempDir(), filepath.Base(src)+"."+string(q)+".apr")
	if err := convert.ConvertFile(src, out, convert.Options{Quantize: q}); err != nil {
		t.Fatal(err)
	}
	return open(t, out)
}

// fixture writes a synthetic model into t.TempDir() and returns its path.
func fixture(t testing.TB, s fixtures.Spec) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "fixture.gguf")
	if err := fixtures.WriteGGUF(p, s); err != nil {
		t.Fatal(err)
	}
	return p
}

// rewrite copies the GGUF file src to a new file in t.TempDir(), passing
// every tensor's bytes through edit (which may return them unchanged), and
// adding the extra tensors.
func rewrite(t testing.TB, src string, edit func(ti *gguf.TensorInfo, data []byte) []byte, extra ...gguf.TensorInfo) string {
	t.Helper()
	f, err := gguf.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := gguf.NewWriter(f.Version)
	for _, kv := range f.KVs {
		w.AddKV(kv.Key, kv.Value)
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		w.AddTensor(ti.Name, ti.Type, ti.Dims, edit(ti, f.TensorData(ti)))
	}
	for _, ti := range extra {
		size, _ := ti.Type.RowSize(ti.NumElements())
		w.AddTensor(ti.Name, ti.Type, ti.Dims, make([]byte, size))
	}
	out := filepath.Join(t.TempDir(), "rewritten.gguf")
	if err := gguf.WriteFile(out, w); err != nil {
		t.Fatal(err)
	}
	return out
}

// hfOrder undoes llama.cpp's q/k permute on rows of equal byte length,
// written independently of ropeSource, after convert_hf_to_gguf.py's
// LlamaModel.permute: the HF rows, viewed as [n_head][2][hd/2], have their
// last two axes swapped, so HF row (h, a, b) becomes GGUF row (h, b, a).
func hfOrder(data []byte, rows, hd int) []byte {
	rb := len(data) / rows
	out := make([]byte, len(data))
	for h := 0; h < rows/hd; h++ {
		for a := 0; a < 2; a++ {
			for b := 0; b < hd/2; b++ {
				hfRow, ggufRow := h*hd+a*(hd/2)+b, h*hd+b*2+a
				copy(out[hfRow*rb:][:rb], data[ggufRow*rb:][:rb])
			}
		}
	}
	return out
}

func f32Bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}
