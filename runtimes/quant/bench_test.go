package quant

import (
	"math/rand/v2"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// Benchmarks report GB/s of quantized input (b.SetBytes) and, for dots and
// MatMul, GFLOP/s counting a multiply and an add per weight element.

const benchN = 4096

func BenchmarkDequantize(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := randVec(r, benchN, 0)
	for _, typ := range append(dotTypes, ggml.Q8_K) {
		b.Run(typ.String(), func(b *testing.B) {
			q := make([]byte, rowSize(b, typ, benchN))
			if typ == ggml.Q8_K {
				QuantizeRow(typ, x, q)
			} else {
				Quantize(typ, x, q)
			}
			y := make([]float32, benchN)
			b.SetBytes(int64(len(q)))
			for b.Loop() {
				Dequantize(typ, q, y)
			}
		})
	}
}

func BenchmarkQuantize(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := randVec(r, benchN, 0)
	for _, typ := range weightTypes {
		b.Run(typ.String(), func(b *testing.B) {
			q := make([]byte, rowSize(b, typ, benchN))
			b.SetBytes(int64(4 * benchN))
			for b.Loop() {
				Quantize(typ, x, q)
			}
		})
	}
}

func BenchmarkQuantizeRow(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	x := randVec(r, benchN, 0)
	for _, typ := range []ggml.Type{ggml.F16, ggml.BF16, ggml.Q8_0, ggml.Q8_1, ggml.Q8_K} {
		b.Run(typ.String(), func(b *testing.B) {
			q := make([]byte, rowSize(b, typ, benchN))
			b.SetBytes(int64(4 * benchN))
			for b.Loop() {
				QuantizeRow(typ, x, q)
			}
		})
	}
}

func BenchmarkVecDot(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, wt := range dotTypes {
		at, _ := VecDotType(wt)
		b.Run(wt.String()+"x"+at.String(), func(b *testing.B) {
			wq := make([]byte, rowSize(b, wt, benchN))
			aq := make([]byte, rowSize(b, at, benchN))
			Quantize(wt, randVec(r, benchN, 0), wq)
			QuantizeRow(at, randVec(r, benchN, 0), aq)
			b.SetBytes(int64(len(wq)))
			for b.Loop() {
				VecDot(wt, wq, aq, benchN)
			}
			b.ReportMetric(2*benchN*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMatMul is a decode-sized matrix-vector product (one token) and a
// small prefill (16 tokens) over a 1024×1024 weight matrix.
func BenchmarkMatMul(b *testing.B) {
	const rows, cols = 1024, 1024
	r := rand.New(rand.NewPCG(1, 2))
	for _, wt := range []ggml.Type{ggml.F32, ggml.Q8_0, ggml.Q4_K, ggml.Q6_K} {
		w := make([]byte, rows*rowSize(b, wt, cols))
		Quantize(wt, randVec(r, rows*cols, 0), w)
		for _, toks := range []int{1, 16} {
			for _, threads := range []int{1, 2} {
				x := randVec(r, toks*cols, 0)
				dst := make([]float32, toks*rows)
				for _, k := range []Kernel{KernelGeneric, KernelX86AVX512} {
					b.Run(k.String()+"/"+wt.String()+"/tok"+itoa(toks)+"/thr"+itoa(threads), func(b *testing.B) {
						b.SetBytes(int64(len(w)))
						for b.Loop() {
							if err := k.MatMul(dst, w, wt, rows, cols, x, toks, threads); err != nil {
								b.Fatal(err)
							}
						}
						b.ReportMetric(2*rows*cols*float64(toks)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}

func itoa(v int) string {
	if v < 10 {
		return string(rune('0' + v))
	}
	return itoa(v/10) + string(rune('0'+v%10))
}
