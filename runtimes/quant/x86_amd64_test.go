//go:build !noasm

package quant

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// sameFloat reports whether the assembly and Go results are the same
// float32: equal bits, or both NaN. (NaN payloads may differ: the Go
// compiler may commute the operands of a multiply, and x86 propagates the
// first operand's payload.)
func sameFloat(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || a != a && b != b
}

// edgeBlocks fills buf with random bytes, then overwrites the float
// fields (at offsets fp16s and f32s within each block of size bs) with
// special values for some blocks: zeros, ±Inf, NaN, subnormals, extremes.
func edgeBlocks(r *rand.Rand, buf []byte, bs int, fp16s, f32s []int, special bool) {
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	h16 := []uint16{0, 0x8000, 0x7c00, 0xfc00, 0x7e01, 0x0001, 0x83ff, 0x7bff, 0x3c00, 0x1400}
	f32 := []uint32{0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00001, 0x00000001, 0x807fffff, 0x7f7fffff, 0x3f800000, 0x3a800000}
	for b := 0; b+bs <= len(buf); b += bs {
		for _, o := range fp16s {
			v := uint16(r.Uint32()&0x3fff) | 0x0400 // a tame normal
			if special && r.IntN(4) == 0 {
				v = h16[r.IntN(len(h16))]
			}
			putF16(buf[b+o:], v)
		}
		for _, o := range f32s {
			v := math.Float32bits(float32(r.NormFloat64() * 1e-2))
			if special && r.IntN(4) == 0 {
				v = f32[r.IntN(len(f32))]
			}
			buf[b+o], buf[b+o+1], buf[b+o+2], buf[b+o+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		}
	}
}

// TestX86AssemblyMatchesGo runs every assembly kernel and its Go twin on
// random blocks (random bytes for the integer parts, tame or special
// values for the scales) for 0..9 super-blocks.
func TestX86AssemblyMatchesGo(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2/FMA/F16C")
	}
	r := rand.New(rand.NewPCG(3, 4))
	asm, ref := x86Kernels, goX86Kernels
	for iter := 0; iter < 300; iter++ {
		nb := iter % 10
		special := iter%3 == 0
		n := nb * qkK
		q4 := make([]byte, nb*144)
		q6 := make([]byte, nb*210)
		aRow := nb*292 + 8*(iter%2) // rows need not be back to back
		a := make([]byte, 4*aRow)
		edgeBlocks(r, q4, 144, []int{0, 2}, nil, special)
		edgeBlocks(r, q6, 210, []int{208}, nil, special)
		for tok := 0; tok < 4; tok++ {
			edgeBlocks(r, a[tok*aRow:tok*aRow+nb*292], 292, nil, []int{0}, special)
			fixBsums(a[tok*aRow : tok*aRow+nb*292])
		}
		check := func(name string, got, want float32) {
			t.Helper()
			if !sameFloat(got, want) {
				t.Fatalf("iter %d (%d blocks): %s = %g (%#08x), Go twin %g (%#08x)", iter, nb, name, got, math.Float32bits(got), want, math.Float32bits(want))
			}
		}
		check("q4KGemv", asm.q4KGemv(n, q4, a), ref.q4KGemv(n, q4, a))
		check("q6K", asm.q6K(n, q6, a), ref.q6K(n, q6, a))
		var g, w [4]float32
		ax := a
		if asm.q8KInter4 != nil {
			ax = make([]byte, nb*q8KInter4Bytes)
			asm.q8KInter4(ax, a, aRow, nb)
		}
		asm.q4KGemm4(n, q4, ax, aRow, &g)
		if asm.q4KPrep != nil {
			ref.q4KGemm4(n, q4, a, aRow, &w)
			for i := range g {
				check("q4KGemm4", g[i], w[i])
			}
			wp := make([]byte, nb*q4KPrepBytes)
			asm.q4KPrep(wp, q4, nb)
			asm.q4KGemm4P(n, wp, ax, aRow, &g)
		}
		ref.q4KGemm4(n, q4, a, aRow, &w)
		for i := range g {
			check("q4KGemm4", g[i], w[i])
		}
		asm.q6K4(n, q6, a, aRow, &g)
		ref.q6K4(n, q6, a, aRow, &w)
		for i := range g {
			check("q6K4", g[i], w[i])
		}
	}
}

// fixBsums makes every Q8_K block's bsums the sums of its quants, as
// fromFloatQ8_K writes them (the interleaved GEMM relies on their range).
func fixBsums(blocks []byte) {
	for b := 0; b+292 <= len(blocks); b += 292 {
		for j := 0; j < 16; j++ {
			var sum int32
			for _, q := range blocks[b+4+16*j : b+20+16*j] {
				sum += int32(int8(q))
			}
			putF16(blocks[b+260+2*j:], uint16(sum))
		}
	}
}

// BenchmarkX86Kernels times each assembly kernel on one weight row of 35
// super-blocks (8960 values, Qwen2.5-1.5B's ffn_down row) against four
// activation rows, reporting GFLOP/s (a multiply and an add per weight
// and token) and GB/s of weights.
func BenchmarkX86Kernels(b *testing.B) {
	if !hasAVX2 {
		b.Skip("no AVX2/FMA/F16C")
	}
	const nb = 35
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, 4*nb*qkK)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	a := make([]byte, 4*nb*292)
	if err := QuantizeRow(ggml.Q8_K, x, a); err != nil {
		b.Fatal(err)
	}
	q4 := make([]byte, nb*144)
	q6 := make([]byte, nb*210)
	Quantize(ggml.Q4_K, x[:nb*qkK], q4)
	Quantize(ggml.Q6_K, x[:nb*qkK], q6)
	ax := make([]byte, nb*q8KInter4Bytes)
	var dst [4]float32
	run := func(name string, wbytes, toks int, f func()) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(wbytes))
			for b.Loop() {
				f()
			}
			b.ReportMetric(2*nb*qkK*float64(toks)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
	run("q4K-gemv-avx2", len(q4), 1, func() { q4KGemvAVX2(&q4[0], &a[0], nb) })
	run("q4K-gemm4-avx2", len(q4), 4, func() { q4KGemm4AVX2(&q4[0], &a[0], nb*292, nb, &dst) })
	if hasVNNI {
		q8KInterleave4(ax, a, nb*292, nb)
		run("q4K-gemm4-vnni", len(q4), 4, func() { q4KGemm4VNNI(&q4[0], &ax[0], nb, &dst) })
		wp := make([]byte, nb*q4KPrepBytes)
		q4KPrepare(&wp[0], &q4[0], nb)
		run("q4K-gemm4-vnni-prepared", len(q4), 4, func() { q4KGemm4Prep(&wp[0], &ax[0], nb, &dst) })
		run("q4K-prepare", len(q4), 0, func() { q4KPrepare(&wp[0], &q4[0], nb) })
	}
	run("q6K-dot-avx2", len(q6), 1, func() { q6KDotAVX2(&q6[0], &a[0], nb) })
	run("q6K-dot4-avx2", len(q6), 4, func() { q6KDot4AVX2(&q6[0], &a[0], nb*292, nb, &dst) })

	// Q8_0 over the same length: 8·nb blocks of 32.
	nb0 := nb * qkK / qk
	q8 := make([]byte, nb0*34)
	a8 := make([]byte, 4*nb0*34)
	Quantize(ggml.Q8_0, x[:nb*qkK], q8)
	if err := QuantizeRow(ggml.Q8_0, x, a8); err != nil {
		b.Fatal(err)
	}
	run("q8_0-dot-avx2", len(q8), 1, func() { q8_0DotAVX2(&q8[0], &a8[0], nb0) })
	run("q8_0-dot4-avx2", len(q8), 4, func() { q8_0Dot4AVX2(&q8[0], &a8[0], nb0*34, nb0, &dst) })
	if hasVNNI {
		run("q8_0-dot-vnni", len(q8), 1, func() { q8_0DotVNNI(&q8[0], &a8[0], nb0) })
		a8x := make([]byte, nb0*q80Inter4Bytes)
		q80Interleave4(a8x, a8, nb0*34, nb0)
		run("q8_0-gemm4-vnni", len(q8), 4, func() { q8_0Gemm4VNNI(&q8[0], &a8x[0], nb0, &dst) })
	}
}
