//go:build !noasm

package quant

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// specialF32 and specialF16 are the values edge tests mix into random
// data: signed zeros, subnormals, the extremes, infinities, quiet and
// signalling NaNs.
var (
	specialF32 = []uint32{0, 0x80000000, 0x00000001, 0x807fffff, 0x7f7fffff, 0xff7fffff, 0x7f800000, 0xff800000, 0x7fc00001, 0x7f800001, 0xffa00000}
	specialF16 = []uint16{0, 0x8000, 0x0001, 0x83ff, 0x7bff, 0xfbff, 0x7c00, 0xfc00, 0x7e01, 0x7c01, 0xfd00}
)

func randF32Row(r *rand.Rand, n int, special bool) []byte {
	b := make([]byte, 4*n)
	for i := 0; i < n; i++ {
		v := math.Float32bits(float32(r.NormFloat64() * math.Exp(2*r.NormFloat64())))
		if special && r.IntN(8) == 0 {
			v = specialF32[r.IntN(len(specialF32))]
		}
		putF32(b[4*i:], math.Float32frombits(v))
	}
	return b
}

func randF16Row(r *rand.Rand, n int, special bool) []byte {
	b := make([]byte, 2*n)
	for i := 0; i < n; i++ {
		v := FP32ToFP16(float32(r.NormFloat64() * math.Exp(2*r.NormFloat64())))
		if special && r.IntN(8) == 0 {
			v = specialF16[r.IntN(len(specialF16))]
		}
		putF16(b[2*i:], v)
	}
	return b
}

// TestFloatAssemblyMatchesGo checks the F32/F16/Q8_0 dot twins and the
// F16/Q4_K/Q6_K dequantizer twins against the Go kernels, bit for bit, on
// random and special values, for lengths that are and are not multiples
// of the vector widths.
func TestFloatAssemblyMatchesGo(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2/FMA/F16C")
	}
	r := rand.New(rand.NewPCG(9, 10))
	asm, ref := x86Kernels, goX86Kernels
	for iter := 0; iter < 400; iter++ {
		special := iter%3 == 0
		n := 16 * (iter % 23)
		if iter%2 == 1 {
			n = iter % 200 // vec kernels take any length
		}
		w32, a32 := randF32Row(r, n, special), randF32Row(r, n, special)
		w16, a16 := randF16Row(r, n, special), randF16Row(r, n, special)
		check := func(name string, got, want float32) {
			t.Helper()
			if !sameFloat(got, want) {
				t.Fatalf("iter %d, n=%d: %s = %g, Go %g", iter, n, name, got, want)
			}
		}
		if n%16 == 0 {
			check("f32Tiny", asm.f32Tiny(n, w32, a32), ref.f32Tiny(n, w32, a32))
			check("f16Tiny", asm.f16Tiny(n, w16, a16), ref.f16Tiny(n, w16, a16))
		}
		check("f32Vec", asm.f32Vec(n, w32, a32), ref.f32Vec(n, w32, a32))
		check("f16Vec", asm.f16Vec(n, w16, a16), ref.f16Vec(n, w16, a16))

		nb := iter % 9
		q8w, q8a := make([]byte, nb*34), make([]byte, nb*34)
		edgeBlocks(r, q8w, 34, []int{0}, nil, special)
		edgeBlocks(r, q8a, 34, []int{0}, nil, special)
		check("q8_0", asm.q8_0(nb*qk, q8w, q8a), ref.q8_0(nb*qk, q8w, q8a))
		// Four activation rows, a stride apart that is not the row length.
		aRow := nb*34 + 34*(iter%2)
		q8a4 := make([]byte, 3*aRow+nb*34)
		edgeBlocks(r, q8a4, 34, []int{0}, nil, special)
		var g4, w4 [4]float32
		asm.q8_04(nb*qk, q8w, q8a4, aRow, &g4)
		ref.q8_04(nb*qk, q8w, q8a4, aRow, &w4)
		for i := range g4 {
			check("q8_04", g4[i], w4[i])
			check("q8_04 vs q8_0", g4[i], ref.q8_0(nb*qk, q8w, q8a4[i*aRow:]))
		}
		if asm.q80Inter4 != nil && nb > 0 {
			ax := make([]byte, nb*q80Inter4Bytes)
			asm.q80Inter4(ax, q8a4, aRow, nb)
			asm.q8_04I(nb*qk, q8w, ax, aRow, &g4)
			for i := range g4 {
				check("q8_04 VNNI", g4[i], ref.q8_0(nb*qk, q8w, q8a4[i*aRow:]))
			}
		}

		h := randF16Row(r, n, special)
		got, want := make([]float32, n), make([]float32, n)
		dequantF16AVX2(h, got)
		dequantF16(h, want)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Fatalf("f16 dequant of %#04x: %#08x, Go %#08x", le16(h[2*i:]), math.Float32bits(got[i]), math.Float32bits(want[i]))
			}
		}
		kb := iter % 37
		for _, c := range []struct {
			typ      ggml.Type
			bs       int
			fp16s    []int
			asm, ref func([]byte, []float32)
		}{
			{ggml.Q4_K, 144, []int{0, 2}, dequantQ4_KAVX2, dequantQ4_K},
			{ggml.Q6_K, 210, []int{208}, dequantQ6_KAVX2, dequantQ6_K},
		} {
			src := make([]byte, kb*c.bs)
			edgeBlocks(r, src, c.bs, c.fp16s, nil, special)
			got, want := make([]float32, kb*qkK), make([]float32, kb*qkK)
			c.asm(src, got)
			c.ref(src, want)
			for i := range got {
				if !sameFloat(got[i], want[i]) {
					t.Fatalf("%s dequant, %d blocks, value %d: %g, Go %g", c.typ, kb, i, got[i], want[i])
				}
			}
		}
	}
}

// TestAssemblyDispatch checks that the dispatch tables point at the
// assembly twins on a CPU that has them.
func TestAssemblyDispatch(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2/FMA/F16C")
	}
	ptr := func(f any) uintptr { return reflect.ValueOf(f).Pointer() }
	for typ, f := range map[ggml.Type]func([]byte, []float32){ggml.F16: dequantF16AVX2, ggml.Q4_K: dequantQ4_KAVX2, ggml.Q6_K: dequantQ6_KAVX2} {
		if ptr(lookup(typ).dequant) != ptr(f) {
			t.Errorf("%s dequantizer is not the assembly twin", typ)
		}
	}
	if ptr(x86Kernels.q6K) == ptr(goX86Kernels.q6K) || ptr(x86Kernels.f32Vec) == ptr(goX86Kernels.f32Vec) {
		t.Error("x86 kernels are the Go ones")
	}
	if hasVNNI && x86Kernels.q8KInter4 == nil {
		t.Error("AVX-512 VNNI CPU, but the Q4_K GEMM is not the VNNI kernel")
	}
}
