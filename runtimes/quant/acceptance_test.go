package quant_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/gguf"
	"github.com/layerwise/parity/runtimes/quant"
)

// This file reads real GGUF files through runtimes/gguf; it is an external
// test package so that quant itself imports nothing but ggml.

// derivedModels returns ../shared/models/derived relative to the module
// root, skipping the test when the shared data is absent.
func derivedModels(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test directory")
		}
		dir = parent
	}
	d := filepath.Join(dir, "..", "shared", "models", "derived")
	if _, err := os.Stat(d); err != nil {
		t.Skipf("shared models not available: %v", err)
	}
	return d
}

func openGGUF(t testing.TB, path string) *gguf.File {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func f32Tensor(t testing.TB, f *gguf.File, ti *gguf.TensorInfo) []float32 {
	t.Helper()
	if ti.Type != ggml.F32 {
		t.Fatalf("%s is %s, want f32", ti.Name, ti.Type)
	}
	b := f.TensorData(ti)
	x := make([]float32, len(b)/4)
	for i := range x {
		x[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return x
}

// TestAcceptanceRequantize re-quantizes the F32 source of the tiny-qwen3
// fixtures and compares every quantized tensor block by block with what
// llama-quantize (commit 3f545bec) wrote: Q8_0 for the Q8_0 file, Q4_K and
// Q6_K for the Q4_K_M file. Every block must be identical.
func TestAcceptanceRequantize(t *testing.T) {
	dir := derivedModels(t)
	src := openGGUF(t, filepath.Join(dir, "tiny-qwen3-random-f32.gguf"))
	for _, name := range []string{"tiny-qwen3-random-Q8_0.gguf", "tiny-qwen3-random-Q4_K_M.gguf"} {
		qf := openGGUF(t, filepath.Join(dir, name))
		type count struct{ tensors, blocks, identical int }
		per := map[ggml.Type]*count{}
		for i := range qf.Tensors {
			ti := &qf.Tensors[i]
			if !ti.Type.IsQuantized() {
				continue
			}
			si, ok := src.Tensor(ti.Name)
			if !ok {
				t.Fatalf("%s: %s missing from the f32 source", name, ti.Name)
			}
			x := f32Tensor(t, src, si)
			want := qf.TensorData(ti)
			got := make([]byte, len(want))
			if err := quant.Quantize(ti.Type, x, got); err != nil {
				t.Fatalf("%s %s: %v", name, ti.Name, err)
			}
			c := per[ti.Type]
			if c == nil {
				c = &count{}
				per[ti.Type] = c
			}
			c.tensors++
			bs := ti.Type.TypeSize()
			var firstBad []string
			for off := 0; off < len(want); off += bs {
				c.blocks++
				if string(got[off:off+bs]) == string(want[off:off+bs]) {
					c.identical++
				} else if len(firstBad) < 3 {
					firstBad = append(firstBad, fmt.Sprint(off/bs))
				}
			}
			if firstBad != nil {
				t.Errorf("%s %s (%s): blocks %s… differ from llama-quantize", name, ti.Name, ti.Type, strings.Join(firstBad, ", "))
			}
		}
		if len(per) == 0 {
			t.Fatalf("%s: no quantized tensors", name)
		}
		for typ, c := range per {
			t.Logf("%s: %s %d tensors, %d/%d blocks identical", name, typ, c.tensors, c.identical, c.blocks)
		}
	}
}

// TestDequantizeError quantizes the matrices of layer 0 and the output
// matrix of the f32 source with each
// type Quantize supports, dequantizes it, and logs the error against the
// source. The NMSE ceilings are about twice the measured values for these
// N(0,σ) weights, so a broken scale or bit layout fails loudly. It also
// checks that dequantizing the stored llama-quantize tensors gives the same
// values as dequantizing our own quantization (which the acceptance test
// proves byte-identical).
func TestDequantizeError(t *testing.T) {
	dir := derivedModels(t)
	src := openGGUF(t, filepath.Join(dir, "tiny-qwen3-random-f32.gguf"))
	ceiling := map[ggml.Type]float64{
		ggml.F16: 1e-7, ggml.BF16: 6e-6, ggml.Q8_0: 6e-5,
		ggml.Q6_K: 6e-4, ggml.Q5_1: 3e-3, ggml.Q5_0: 4e-3, ggml.Q5_K: 3e-3,
		ggml.Q4_1: 1.2e-2, ggml.Q4_0: 1.5e-2, ggml.Q4_K: 1e-2, ggml.IQ4_NL: 1.2e-2, ggml.IQ4_XS: 1.2e-2,
		ggml.Q3_K: 5e-2, ggml.Q2_K: 0.18,
	}
	types := []ggml.Type{ggml.F16, ggml.BF16, ggml.Q8_0, ggml.Q6_K, ggml.Q5_K, ggml.Q5_1, ggml.Q5_0,
		ggml.Q4_K, ggml.Q4_1, ggml.Q4_0, ggml.IQ4_XS, ggml.IQ4_NL, ggml.Q3_K, ggml.Q2_K}
	var mats []*gguf.TensorInfo
	for i := range src.Tensors {
		if ti := &src.Tensors[i]; len(ti.Dims) == 2 && (strings.HasPrefix(ti.Name, "blk.0.") || ti.Name == "output.weight") {
			mats = append(mats, ti)
		}
	}
	t.Logf("%-7s %8s %12s %12s  (%d matrices)", "type", "bits/w", "max |err|", "NMSE", len(mats))
	for _, typ := range types {
		var sumErr2, sumX2, maxAbs float64
		var elems, bytes int64
		for _, ti := range mats {
			x := f32Tensor(t, src, ti)
			q := make([]byte, ti.Size/4*int64(typ.TypeSize())/int64(typ.BlockSize()))
			if err := quant.Quantize(typ, x, q); err != nil {
				t.Fatal(err)
			}
			y := make([]float32, len(x))
			if err := quant.Dequantize(typ, q, y); err != nil {
				t.Fatal(err)
			}
			for i, v := range x {
				d := float64(y[i]) - float64(v)
				sumErr2 += d * d
				sumX2 += float64(v) * float64(v)
				maxAbs = math.Max(maxAbs, math.Abs(d))
			}
			elems += int64(len(x))
			bytes += int64(len(q))
		}
		nmse := sumErr2 / sumX2
		t.Logf("%-7s %8.3f %12.4g %12.4g", typ, float64(8*bytes)/float64(elems), maxAbs, nmse)
		if nmse > ceiling[typ] {
			t.Errorf("%s: NMSE %.3g above %.3g", typ, nmse, ceiling[typ])
		}
	}

	// The stored tensors dequantize to the values of our quantization.
	for _, name := range []string{"tiny-qwen3-random-Q8_0.gguf", "tiny-qwen3-random-Q4_K_M.gguf"} {
		qf := openGGUF(t, filepath.Join(dir, name))
		for i := range qf.Tensors {
			ti := &qf.Tensors[i]
			if !ti.Type.IsQuantized() {
				continue
			}
			si, _ := src.Tensor(ti.Name)
			x := f32Tensor(t, src, si)
			ours := make([]byte, ti.Size)
			if err := quant.Quantize(ti.Type, x, ours); err != nil {
				t.Fatal(err)
			}
			a, b := make([]float32, len(x)), make([]float32, len(x))
			if err := quant.Dequantize(ti.Type, qf.TensorData(ti), a); err != nil {
				t.Fatal(err)
			}
			if err := quant.Dequantize(ti.Type, ours, b); err != nil {
				t.Fatal(err)
			}
			for j := range a {
				if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
					t.Errorf("%s %s: element %d dequantizes to %g from the file, %g from ours", name, ti.Name, j, a[j], b[j])
					break
				}
			}
		}
	}
}
