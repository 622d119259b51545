package quant

import (
	"fmt"

	"github.com/layerwise/parity/runtimes/ggml"
)

// kernel collects what this package implements for one ggml type. A nil
// field means "not supported for this type".
type kernel struct {
	// dequant expands len(dst)/blockSize whole blocks of src.
	dequant func(src []byte, dst []float32)
	// quant is what ggml_quantize_chunk writes without an importance
	// matrix (the quantize_<type> entry points of ggml-quants.c).
	quant func(src []float32, dst []byte)
	// fromFloat is type_traits_cpu[t].from_float as an x86 AVX2 build runs
	// it; set only for the types that are some weight type's vec_dot_type.
	fromFloat func(src []float32, dst []byte)
	// vecDotType and dot are type_traits_cpu[t].vec_dot_type and .vec_dot.
	vecDotType ggml.Type
	dot        func(n int, w, a []byte) float32
}

// kernels is indexed by type id; ggml has 43 of them. It is a variable
// initializer, not an init function, so that it is complete before any
// init function runs (the amd64 build's swap in assembly twins).
var kernels = func() (k [64]kernel) {
	k[ggml.F32] = kernel{dequant: dequantF32, quant: fromFloatF32, fromFloat: fromFloatF32, vecDotType: ggml.F32, dot: dotF32}
	k[ggml.F16] = kernel{dequant: dequantF16, quant: quantF16Ref, fromFloat: fromFloatF16, vecDotType: ggml.F16, dot: dotF16}
	k[ggml.BF16] = kernel{dequant: dequantBF16, quant: fromFloatBF16, fromFloat: fromFloatBF16, vecDotType: ggml.BF16, dot: dotBF16}
	k[ggml.Q4_0] = kernel{dequant: dequantQ4_0, quant: quantQ4_0, vecDotType: ggml.Q8_0, dot: dotQ4_0Q8_0}
	k[ggml.Q4_1] = kernel{dequant: dequantQ4_1, quant: quantQ4_1, vecDotType: ggml.Q8_1, dot: dotQ4_1Q8_1}
	k[ggml.Q5_0] = kernel{dequant: dequantQ5_0, quant: quantQ5_0, vecDotType: ggml.Q8_0, dot: dotQ5_0Q8_0}
	k[ggml.Q5_1] = kernel{dequant: dequantQ5_1, quant: quantQ5_1, vecDotType: ggml.Q8_1, dot: dotQ5_1Q8_1}
	k[ggml.Q8_0] = kernel{dequant: dequantQ8_0, quant: quantQ8_0, fromFloat: fromFloatQ8_0, vecDotType: ggml.Q8_0, dot: dotQ8_0Q8_0}
	k[ggml.Q8_1] = kernel{dequant: dequantQ8_1, fromFloat: fromFloatQ8_1}
	k[ggml.Q2_K] = kernel{dequant: dequantQ2_K, quant: quantQ2_K, vecDotType: ggml.Q8_K, dot: dotQ2_KQ8_K}
	k[ggml.Q3_K] = kernel{dequant: dequantQ3_K, quant: quantQ3_K, vecDotType: ggml.Q8_K, dot: dotQ3_KQ8_K}
	k[ggml.Q4_K] = kernel{dequant: dequantQ4_K, quant: quantQ4_K, vecDotType: ggml.Q8_K, dot: dotQ4_KQ8_K}
	k[ggml.Q5_K] = kernel{dequant: dequantQ5_K, quant: quantQ5_K, vecDotType: ggml.Q8_K, dot: dotQ5_KQ8_K}
	k[ggml.Q6_K] = kernel{dequant: dequantQ6_K, quant: quantQ6_K, vecDotType: ggml.Q8_K, dot: dotQ6_KQ8_K}
	k[ggml.Q8_K] = kernel{dequant: dequantQ8_K, fromFloat: fromFloatQ8_K}
	k[ggml.IQ4_NL] = kernel{dequant: dequantIQ4_NL, quant: quantIQ4_NL, vecDotType: ggml.Q8_0, dot: dotIQ4_NLQ8_0}
	k[ggml.IQ4_XS] = kernel{dequant: dequantIQ4_XS, quant: quantIQ4_XS, vecDotType: ggml.Q8_K, dot: dotIQ4_XSQ8_K}
	return
}()

var noKernel kernel

func lookup(t ggml.Type) *kernel {
	if uint32(t) >= uint32(len(kernels)) {
		return &noKernel
	}
	return &kernels[t]
}

// UnsupportedError reports a type that an operation does not handle: an id
// absent from ggml's type table, or a known type this package has no kernel
// for (the IQ1/IQ2/IQ3 grids, ternary and FP4 types, integer types).
type UnsupportedError struct {
	Op   string // "dequantize", "quantize", "quantize activations", "dot"
	Type ggml.Type
}

func (e *UnsupportedError) Error() string {
	if !e.Type.Known() {
		return fmt.Sprintf("quant: %s: unknown type id %d", e.Op, uint32(e.Type))
	}
	return fmt.Sprintf("quant: %s: type %s (id %d) is not supported", e.Op, e.Type, uint32(e.Type))
}

// checkLen validates that n elements of t fill exactly nbytes.
func checkLen(op string, t ggml.Type, n, nbytes int) error {
	bs := t.BlockSize()
	if n%bs != 0 {
		return fmt.Errorf("quant: %s %s: %d elements is not a multiple of the block size %d", op, t, n, bs)
	}
	if want := n / bs * t.TypeSize(); nbytes != want {
		return fmt.Errorf("quant: %s %s: %d elements need %d bytes, have %d", op, t, n, want, nbytes)
	}
	return nil
}

// Supported reports whether Dequantize handles t.
func Supported(t ggml.Type) bool { return lookup(t).dequant != nil }

// Dequantize expands len(dst) elements of type t from src into dst, as
// ggml's to_float (dequantize_row_* in ggml-quants.c, which both GET_ROWS
// and llama.cpp's model loader use). len(dst) must be a multiple of the
// block size and len(src) exactly t's row size for len(dst) elements.
//
// The result is bit-identical to ggml's: each element is computed with the
// same float32 operations in the same order, never fused into an FMA
// (ggml-base is compiled for baseline x86-64, which has no FMA).
func Dequantize(t ggml.Type, src []byte, dst []float32) error {
	k := lookup(t)
	if k.dequant == nil {
		return &UnsupportedError{"dequantize", t}
	}
	if err := checkLen("dequantize", t, len(dst), len(src)); err != nil {
		return err
	}
	k.dequant(src, dst)
	return nil
}

// Quantize writes src as type t into dst exactly as llama-quantize does
// without an importance matrix: ggml_quantize_chunk(t, src, dst, 0, 1,
// len(src), NULL), i.e. quantize_row_<t>_ref for the legacy and K types
// (Q8_0 rounds half away from zero with roundf), quantize_iq4_nl /
// quantize_iq4_xs with ntry = 7 for the IQ4 types, the ggml-base fp16
// conversion for F16, round-to-nearest-even for BF16 and a copy for F32.
// Blocks never straddle, so quantizing a tensor row by row or as one flat
// array gives the same bytes.
//
// Supported: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K,
// Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS. Activation-only types (Q8_1, Q8_K)
// go through QuantizeRow.
func Quantize(t ggml.Type, src []float32, dst []byte) error {
	k := lookup(t)
	if k.quant == nil {
		return &UnsupportedError{"quantize", t}
	}
	if err := checkLen("quantize", t, len(src), len(dst)); err != nil {
		return err
	}
	k.quant(src, dst)
	return nil
}

// QuantizeRow converts activations into t, one of the vec_dot types (F32,
// F16, BF16, Q8_0, Q8_1, Q8_K), exactly as ggml-cpu's from_float does on an
// x86 build with AVX2 and F16C before a matrix multiplication:
//
//   - Q8_0 (quantize_row_q8_0, arch/x86/quants.c): per 32 values,
//     amax = max|x|; d = amax/127 stored as fp16; the multiplier is
//     id = 127/amax (0 when amax is 0), not 1/d; q = round-half-to-even(x·id).
//   - Q8_1 (quantize_row_q8_1): as Q8_0, plus s = fp16(d·Σq) where d is the
//     float32 amax/127 (not its fp16 rounding) and Σq is the exact integer sum.
//   - Q8_K (quantize_row_q8_K → quantize_row_q8_K_ref): per 256 values, the
//     signed value of largest magnitude max; iscale = -127/max;
//     q = min(127, nearest_int(iscale·x)) (round half to even); d = 1/iscale
//     as float32; bsums = sums of q over each 16 values. All-zero → d = 0.
//   - F16: vcvtps2ph, round to nearest even (FP32ToFP16). BF16: FP32ToBF16.
//     F32: a copy.
//
// Q8_0 here differs from Quantize(Q8_0), the weight quantizer, in both the
// scale multiplier and the rounding of ties.
func QuantizeRow(t ggml.Type, src []float32, dst []byte) error {
	k := lookup(t)
	if k.fromFloat == nil {
		return &UnsupportedError{"quantize activations", t}
	}
	if err := checkLen("quantize activations", t, len(src), len(dst)); err != nil {
		return err
	}
	k.fromFloat(src, dst)
	return nil
}

// VecDotType returns the type ggml-cpu converts activations to before
// multiplying them with weights of type wt (type_traits_cpu[wt].vec_dot_type),
// and false when this package has no dot kernel for wt.
//
//	F32→F32, F16→F16, BF16→BF16; Q4_0, Q5_0, Q8_0, IQ4_NL→Q8_0;
//	Q4_1, Q5_1→Q8_1; Q2_K…Q6_K, IQ4_XS→Q8_K.
func VecDotType(wt ggml.Type) (ggml.Type, bool) {
	k := lookup(wt)
	return k.vecDotType, k.dot != nil
}

// VecDot returns the dot product of n elements: wrow holds them as type wt,
// act as VecDotType(wt) (produced by QuantizeRow). It mirrors the pair's
// ggml_vec_dot_<wt>_<act>_generic: integer sums inside a block are exact;
// the float order of each pair is documented on its kernel (dot_*.go).
//
// VecDot panics, like a slice index out of range, when wt has no dot
// kernel, n is not a multiple of the block size, or a slice is shorter than
// n elements need; it does not allocate.
func VecDot(wt ggml.Type, wrow, act []byte, n int) float32 {
	k := lookup(wt)
	if k.dot == nil {
		panic((&UnsupportedError{"dot", wt}).Error())
	}
	if n%wt.BlockSize() != 0 {
		panic(fmt.Sprintf("quant: dot %s: n=%d is not a multiple of the block size %d", wt, n, wt.BlockSize()))
	}
	return k.dot(n, wrow, act)
}
