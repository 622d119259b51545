//go:build !noasm

package quant

import (
	"math"
	"math/rand/v2"
	"testing"
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
		asm.q4KGemm4(n, q4, a, aRow, &g)
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
