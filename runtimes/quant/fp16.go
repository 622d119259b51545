package quant

import "math"

// IEEE binary16 and bfloat16 conversions.
//
// ggml has two fp32→fp16 conversions that differ only for NaN inputs:
//
//   - ggml-base's GGML_FP32_TO_FP16 (ggml-impl.h, ggml_compute_fp32_to_fp16,
//     Maratyszcza's branch-free algorithm). ggml-base is compiled without
//     -march flags, so ggml-quants.c always uses this one: every fp16 scale
//     written into a quantized block comes from it. A NaN becomes sign|0x7E00.
//   - ggml-cpu's GGML_CPU_FP32_TO_FP16 and ggml_cpu_fp32_to_fp16, which on an
//     x86 build with F16C is the vcvtps2ph instruction with round-to-nearest.
//     A NaN keeps its top 10 payload bits and gets the quiet bit set.
//
// Both round to nearest, ties to even, overflow to ±Inf and produce fp16
// subnormals exactly. FP32ToFP16 implements the F16C one (used for
// activations and the fp16 scales of Q8_0/Q8_1 activation blocks);
// fp32ToFP16Ref implements the ggml-base one (used by the weight
// quantizers).

// FP16ToFP32 converts an IEEE binary16 value (as its bit pattern) to
// float32. The conversion is exact; a NaN keeps its payload shifted left by
// 13 bits, as ggml_compute_fp16_to_fp32 (ggml-base) does. F16C's vcvtph2ps
// agrees except that it also sets the quiet bit of a signalling NaN.
func FP16ToFP32(h uint16) float32 { return fp16Table[h] }

// fp16Table holds every binary16 value as float32 (256 KiB). A lookup is
// what ggml-cpu does too (ggml_table_f32_f16) on targets without F16C.
var fp16Table = func() *[1 << 16]float32 {
	var t [1 << 16]float32
	for i := range t {
		t[i] = fp16ToFP32Bits(uint16(i))
	}
	return &t
}()

// fp16ToFP32Bits decodes binary16 by moving its fields into binary32 ones.
func fp16ToFP32Bits(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0 && mant == 0:
		return math.Float32frombits(sign)
	case exp == 0: // subnormal: mant·2⁻²⁴, normalize into a binary32 normal
		e := uint32(127 - 15 + 1)
		for mant&0x400 == 0 {
			mant <<= 1
			e--
		}
		return math.Float32frombits(sign | e<<23 | (mant&0x3ff)<<13)
	default:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
}

// FP32ToFP16 converts f to binary16 with round to nearest, ties to even, as
// x86 F16C vcvtps2ph does (_MM_FROUND_TO_NEAREST_INT): values beyond the
// fp16 range become ±Inf, tiny values become fp16 subnormals or ±0, and a
// NaN stays a NaN with its top 10 payload bits and the quiet bit set.
func FP32ToFP16(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16)&0x8000 | 0x7e00 | uint16(b>>13)&0x3ff
	}
	return fp32ToFP16Finite(b)
}

// fp32ToFP16Ref is ggml-base's GGML_FP32_TO_FP16: identical to FP32ToFP16
// except that every NaN becomes sign|0x7E00.
func fp32ToFP16Ref(f float32) uint16 {
	b := math.Float32bits(f)
	if b&0x7fffffff > 0x7f800000 {
		return uint16(b>>16)&0x8000 | 0x7e00
	}
	return fp32ToFP16Finite(b)
}

// fp32ToFP16Finite rounds a non-NaN binary32 bit pattern to binary16.
func fp32ToFP16Finite(b uint32) uint16 {
	sign := uint16(b>>16) & 0x8000
	exp := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	e := exp - 127 + 15 // biased binary16 exponent
	switch {
	case exp == 0xff || e >= 0x1f: // Inf, or too large even before rounding
		return sign | 0x7c00
	case e >= 1:
		// Normal result: keep 10 of the 23 mantissa bits. A carry out of the
		// mantissa correctly bumps the exponent, up to Inf (0x7c00).
		h := uint32(e)<<10 | mant>>13
		rem := mant & 0x1fff
		if rem > 0x1000 || rem == 0x1000 && h&1 == 1 {
			h++
		}
		return sign | uint16(h)
	default:
		// Subnormal (or zero) result in units of 2⁻²⁴: the value is
		// m·2^(exp-150) with the implicit bit in m, so shift by 126-exp.
		if exp == 0 {
			return sign // binary32 subnormals are far below half of 2⁻²⁴
		}
		m := mant | 0x800000
		shift := uint32(126 - exp)
		if shift > 24 {
			return sign // below half of the smallest subnormal
		}
		h := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || rem == half && h&1 == 1 {
			h++ // may become 0x400, the smallest normal: still correct
		}
		return sign | uint16(h)
	}
}

// BF16ToFP32 widens a bfloat16 bit pattern to float32 (a 16-bit shift, as
// ggml_compute_bf16_to_fp32).
func BF16ToFP32(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

// FP32ToBF16 rounds f to bfloat16 with round to nearest, ties to even, as
// ggml_compute_fp32_to_bf16: subnormals are kept (not flushed) and a NaN is
// truncated and forced quiet (bit 6 of the result set).
func FP32ToBF16(f float32) uint16 {
	u := math.Float32bits(f)
	if u&0x7fffffff > 0x7f800000 {
		return uint16(u>>16) | 64
	}
	return uint16((u + 0x7fff + (u>>16)&1) >> 16)
}
