//go:build ggmlref && cgo && linux && amd64

package ggmlref

import (
	"math"
	"math/rand/v2"
	"os"
	"sync"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/quant"
)

var (
	loadOnce sync.Once
	loadErr  error
	libDir   string
)

// load builds and opens the C library once per test binary; tests skip
// without LLAMA_CPP_DIR.
func load(t *testing.T) {
	t.Helper()
	dir := os.Getenv("LLAMA_CPP_DIR")
	if dir == "" {
		t.Skip("LLAMA_CPP_DIR not set")
	}
	loadOnce.Do(func() {
		libDir, loadErr = os.MkdirTemp("", "ggmlref")
		if loadErr != nil {
			return
		}
		var so string
		if so, loadErr = Build(dir, libDir); loadErr == nil {
			loadErr = Load(so)
		}
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	if libDir != "" {
		os.RemoveAll(libDir)
	}
	os.Exit(code)
}

var pairs = []struct{ w, a ggml.Type }{
	{ggml.Q4_0, ggml.Q8_0}, {ggml.Q4_1, ggml.Q8_1}, {ggml.Q5_0, ggml.Q8_0}, {ggml.Q5_1, ggml.Q8_1},
	{ggml.Q8_0, ggml.Q8_0}, {ggml.Q2_K, ggml.Q8_K}, {ggml.Q3_K, ggml.Q8_K}, {ggml.Q4_K, ggml.Q8_K},
	{ggml.Q5_K, ggml.Q8_K}, {ggml.Q6_K, ggml.Q8_K}, {ggml.IQ4_NL, ggml.Q8_0}, {ggml.IQ4_XS, ggml.Q8_K},
}

// input draws 1024 values of one of ten shapes that stress the scale
// searches and the corner cases of the conversions: gaussian and uniform
// at random scales, all positive, sparse spikes, half-integers (ties), tiny
// values, blocks of zeros or constants, values so small that 1/scale
// overflows, and NaN/±Inf sprinkled into gaussian data.
func input(r *rand.Rand, kind int) []float32 {
	x := make([]float32, 1024)
	scale := math.Ldexp(1, r.IntN(30)-15)
	for i := range x {
		switch kind % 10 {
		case 0, 1:
			x[i] = float32(r.NormFloat64() * scale)
		case 2:
			x[i] = float32((r.Float64()*2 - 1) * scale)
		case 3:
			x[i] = float32(r.Float64() * scale)
		case 4:
			if r.IntN(10) == 0 {
				x[i] = float32(r.NormFloat64() * scale * 10)
			}
		case 5:
			x[i] = float32(r.IntN(33)-16) * 0.5
		case 6:
			x[i] = float32(r.NormFloat64() * 1e-20)
		case 7:
			x[i] = float32(r.NormFloat64())
			if i/32%3 == 0 {
				x[i] = 0
			}
			if i/32%5 == 1 {
				x[i] = 1.25
			}
		case 8:
			x[i] = float32(r.NormFloat64() * 1e-38)
		case 9:
			x[i] = float32(r.NormFloat64())
			switch r.IntN(100) {
			case 0:
				x[i] = float32(math.NaN())
			case 1:
				x[i] = float32(math.Inf(1 - 2*r.IntN(2)))
			}
		}
	}
	return x
}

func size(t ggml.Type, n int) int {
	rs, err := t.RowSize(int64(n))
	if err != nil {
		panic(err)
	}
	return int(rs)
}

func finite(v float64) bool { return !math.IsInf(v, 0) && !math.IsNaN(v) }

func sameBits(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// TestAgainstGGML runs every kernel of runtimes/quant next to its C
// counterpart on the same inputs.
func TestAgainstGGML(t *testing.T) {
	load(t)
	r := rand.New(rand.NewPCG(21, 22))
	const n = 1024
	worstAVX2 := map[ggml.Type]float64{}
	for trial := 0; trial < 1000; trial++ {
		x, y := input(r, trial), input(r, trial+3)
		for _, p := range pairs {
			goW := make([]byte, size(p.w, n))
			cW := make([]byte, len(goW))
			if err := quant.Quantize(p.w, x, goW); err != nil {
				t.Fatal(err)
			}
			Quantize(p.w, x, cW)
			if string(goW) != string(cW) {
				t.Fatalf("trial %d: Quantize(%s) differs from quantize_%s", trial, p.w, p.w)
			}
			goD, cD := make([]float32, n), make([]float32, n)
			quant.Dequantize(p.w, cW, goD)
			Dequantize(p.w, cW, cD)
			for i := range goD {
				if !sameBits(goD[i], cD[i]) {
					t.Fatalf("trial %d: Dequantize(%s)[%d] = %g, dequantize_row_%s gives %g", trial, p.w, i, goD[i], p.w, cD[i])
				}
			}
			goA := make([]byte, size(p.a, n))
			cA := make([]byte, len(goA))
			if err := quant.QuantizeRow(p.a, y, goA); err != nil {
				t.Fatal(err)
			}
			QuantizeRow(p.a, y, cA)
			if p.a == ggml.Q8_K {
				// quantize_row_q8_K_ref leaves bsums unwritten for an
				// all-zero block (d = 0); we write zeros there.
				for b := 0; b < n/256; b++ {
					o := b * 292
					if cA[o] == 0 && cA[o+1] == 0 && cA[o+2] == 0 && cA[o+3] == 0 {
						copy(cA[o+260:o+292], goA[o+260:o+292])
					}
				}
			}
			if string(goA) != string(cA) {
				t.Fatalf("trial %d: QuantizeRow(%s) differs from quantize_row_%s", trial, p.a, p.a)
			}
			got := quant.VecDot(p.w, goW, goA, n)
			if gen := VecDot(p.w, p.a, true, n, cW, cA); !sameBits(got, gen) {
				t.Fatalf("trial %d: VecDot(%s) = %g, ggml_vec_dot_%s_%s_generic = %g", trial, p.w, got, p.w, p.a, gen)
			}
			avx2 := VecDot(p.w, p.a, false, n, cW, cA)
			goAD := make([]float32, n)
			quant.Dequantize(p.a, goA, goAD)
			var mag float64
			for i := range goD {
				mag += math.Abs(float64(goD[i]) * float64(goAD[i]))
			}
			// Inputs whose scales overflow fp16 (Q8_1's s = d·Σq passes 65504
			// once a block's amax exceeds 2047) make both results infinite
			// or NaN; nothing to measure.
			if finite(mag) && finite(float64(got)) && mag > 0 {
				d := math.Abs(float64(avx2-got)) / mag
				worstAVX2[p.w] = max(worstAVX2[p.w], d)
				if d > 5e-6 {
					t.Errorf("trial %d: %s AVX2 %g vs ours %g: %.2g of Σ|w·a|", trial, p.w, avx2, got, d)
				}
			}
		}
	}
	for _, p := range pairs {
		t.Logf("%-7s·%-4s |AVX2 − ours| ≤ %.2e·Σ|w·a|", p.w, p.a, worstAVX2[p.w])
	}
}

func TestFP16AgainstGGML(t *testing.T) {
	load(t)
	r := rand.New(rand.NewPCG(23, 24))
	for i := 0; i < 4_000_000; i++ {
		f := math.Float32frombits(r.Uint32())
		if i%2 == 0 {
			f = float32(r.NormFloat64() * math.Ldexp(1, r.IntN(48)-32))
		}
		if got, want := quant.FP32ToFP16(f), FP32ToFP16F16C(f); got != want {
			t.Fatalf("FP32ToFP16(%#08x) = %#04x, vcvtps2ph %#04x", math.Float32bits(f), got, want)
		}
		var b [2]byte
		quant.Quantize(ggml.F16, []float32{f}, b[:])
		if got, want := uint16(b[0])|uint16(b[1])<<8, FP32ToFP16Base(f); got != want {
			t.Fatalf("Quantize(F16, %#08x) = %#04x, GGML_FP32_TO_FP16 %#04x", math.Float32bits(f), got, want)
		}
	}
}
