package quant

import "math"

// Legacy 32-element block types (ggml-common.h):
//
//	Q4_0  18 B: d fp16 | qs[16]            x = d·(q-8),  q = nibble
//	Q4_1  20 B: d fp16 | m fp16 | qs[16]   x = d·q + m
//	Q5_0  22 B: d fp16 | qh[4] | qs[16]    x = d·(q-16), q = nibble | bit<<4
//	Q5_1  24 B: d fp16 | m fp16 | qh[4] | qs[16]
//	Q8_0  34 B: d fp16 | qs[32] int8       x = d·q
//	Q8_1  36 B: d fp16 | s fp16 | qs[32]   s = d·Σq (activations only)
//
// Nibble j of qs holds element j (low nibble) and element j+16 (high
// nibble); bit j of the little-endian uint32 qh is bit 4 of element j.
//
// Arithmetic note for every function in this package: ggml evaluates these
// formulas in float32, one rounding per operation, left to right, and
// ggml-base (which holds ggml-quants.c) is compiled for baseline x86-64
// without FMA, so the C compiler cannot contract a*b+c. Go may fuse x*y+z
// on some targets (arm64, ppc64, s390x, amd64 with GOAMD64=v3) unless the
// product is explicitly converted, so products that feed an addition are
// written float32(x*y).

const qk = 32 // QK4_0 = QK4_1 = QK5_0 = QK5_1 = QK8_0 = QK8_1 = QK4_NL

// cvtt is cvttss2si, which is how gcc converts float to int (and to int8_t
// or uint8_t, keeping the low byte) on x86-64: truncation toward zero, and
// the "integer indefinite" 0x80000000 for NaN and values outside int32.
// Go's own conversion leaves those cases to the implementation (arm64
// saturates), so the quantizers use this to stay exact for every input.
func cvtt(f float32) int32 {
	if !(f >= -2147483648 && f < 2147483648) {
		return math.MinInt32
	}
	return int32(f)
}

// cvtRNE is _mm256_round_ps(_MM_ROUND_NEAREST) followed by
// _mm256_cvtps_epi32: round half to even, integer indefinite for NaN and
// out-of-range values.
func cvtRNE(f float32) int32 {
	switch a := abs32(f); {
	case a < 1<<22:
		return nearestInt(f) // exact in this range
	case a < 1<<31:
		return int32(math.RoundToEven(float64(f)))
	}
	return math.MinInt32
}

// truncI8 is C's (int8_t) cast of a float.
func truncI8(f float32) int32 { return int32(int8(cvtt(f))) }

func dequantQ4_0(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qk; i++ {
		b := (*[18]byte)(src[i*18:])
		y := (*[qk]float32)(dst[i*qk:])
		d := f16(b[0:])
		for j := 0; j < qk/2; j++ {
			y[j] = float32(int32(b[2+j]&0x0f)-8) * d
			y[j+qk/2] = float32(int32(b[2+j]>>4)-8) * d
		}
	}
}

func dequantQ4_1(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qk; i++ {
		b := (*[20]byte)(src[i*20:])
		y := (*[qk]float32)(dst[i*qk:])
		d, m := f16(b[0:]), f16(b[2:])
		for j := 0; j < qk/2; j++ {
			y[j] = float32(float32(b[4+j]&0x0f)*d) + m
			y[j+qk/2] = float32(float32(b[4+j]>>4)*d) + m
		}
	}
}

func dequantQ5_0(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qk; i++ {
		b := (*[22]byte)(src[i*22:])
		y := (*[qk]float32)(dst[i*qk:])
		d := f16(b[0:])
		qh := uint32(b[2]) | uint32(b[3])<<8 | uint32(b[4])<<16 | uint32(b[5])<<24
		for j := 0; j < qk/2; j++ {
			x0 := int32(b[6+j]&0x0f) | int32(qh>>j<<4&0x10)
			x1 := int32(b[6+j]>>4) | int32(qh>>(j+12)&0x10)
			y[j] = float32(x0-16) * d
			y[j+qk/2] = float32(x1-16) * d
		}
	}
}

func dequantQ5_1(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qk; i++ {
		b := (*[24]byte)(src[i*24:])
		y := (*[qk]float32)(dst[i*qk:])
		d, m := f16(b[0:]), f16(b[2:])
		qh := uint32(b[4]) | uint32(b[5])<<8 | uint32(b[6])<<16 | uint32(b[7])<<24
		for j := 0; j < qk/2; j++ {
			x0 := int32(b[8+j]&0x0f) | int32(qh>>j<<4&0x10)
			x1 := int32(b[8+j]>>4) | int32(qh>>(j+12)&0x10)
			y[j] = float32(float32(x0)*d) + m
			y[j+qk/2] = float32(float32(x1)*d) + m
		}
	}
}

func dequantQ8_0(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qk; i++ {
		b := (*[34]byte)(src[i*34:])
		y := (*[qk]float32)(dst[i*qk:])
		d := f16(b[0:])
		for j := 0; j < qk; j++ {
			y[j] = float32(int8(b[2+j])) * d
		}
	}
}

// dequantQ8_1 ignores s, as ggml's Q8_1 to_float would if it had one (it
// has none; Q8_1 only ever holds activations).
func dequantQ8_1(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qk; i++ {
		b := (*[36]byte)(src[i*36:])
		y := (*[qk]float32)(dst[i*qk:])
		d := f16(b[0:])
		for j := 0; j < qk; j++ {
			y[j] = float32(int8(b[4+j])) * d
		}
	}
}

// absMaxSigned returns the value of largest magnitude (the first one on
// ties) and its magnitude, as the "if (amax < fabsf(v))" loops of
// quantize_row_q4_0_ref and q5_0_ref find them.
func absMaxSigned(x []float32) (max, amax float32) {
	for _, v := range x {
		if a := abs32(v); amax < a {
			amax, max = a, v
		}
	}
	return max, amax
}

func abs32(v float32) float32 { return math.Float32frombits(math.Float32bits(v) &^ (1 << 31)) }

func minMax(x []float32) (min, max float32) {
	min, max = math.MaxFloat32, -math.MaxFloat32
	for _, v := range x {
		if v < min {
			min = v
		}
		if v > max {
			max = v
		}
	}
	return min, max
}

// quantQ4_0 is quantize_row_q4_0_ref: d = max/-8, q = min(15, trunc(x/d+8.5)).
func quantQ4_0(src []float32, dst []byte) {
	for i := 0; i < len(src)/qk; i++ {
		x := (*[qk]float32)(src[i*qk:])
		b := (*[18]byte)(dst[i*18:])
		max, _ := absMaxSigned(x[:])
		d := max / -8
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(b[0:], fp32ToFP16Ref(d))
		for j := 0; j < qk/2; j++ {
			xi0 := min(15, truncI8(float32(x[j]*id)+8.5))
			xi1 := min(15, truncI8(float32(x[j+qk/2]*id)+8.5))
			b[2+j] = uint8(xi0) | uint8(xi1)<<4
		}
	}
}

// quantQ4_1 is quantize_row_q4_1_ref: d = (max-min)/15, m = min,
// q = min(15, trunc((x-min)/d+0.5)).
func quantQ4_1(src []float32, dst []byte) {
	for i := 0; i < len(src)/qk; i++ {
		x := (*[qk]float32)(src[i*qk:])
		b := (*[20]byte)(dst[i*20:])
		mn, mx := minMax(x[:])
		d := (mx - mn) / 15
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(b[0:], fp32ToFP16Ref(d))
		putF16(b[2:], fp32ToFP16Ref(mn))
		for j := 0; j < qk/2; j++ {
			xi0 := min(15, truncI8(float32((x[j]-mn)*id)+0.5))
			xi1 := min(15, truncI8(float32((x[j+qk/2]-mn)*id)+0.5))
			b[4+j] = uint8(xi0) | uint8(xi1)<<4
		}
	}
}

// quantQ5_0 is quantize_row_q5_0_ref: d = max/-16, q = min(31, trunc(x/d+16.5)).
func quantQ5_0(src []float32, dst []byte) {
	for i := 0; i < len(src)/qk; i++ {
		x := (*[qk]float32)(src[i*qk:])
		b := (*[22]byte)(dst[i*22:])
		max, _ := absMaxSigned(x[:])
		d := max / -16
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(b[0:], fp32ToFP16Ref(d))
		var qh uint32
		for j := 0; j < qk/2; j++ {
			xi0 := uint32(uint8(min(31, truncI8(float32(x[j]*id)+16.5))))
			xi1 := uint32(uint8(min(31, truncI8(float32(x[j+qk/2]*id)+16.5))))
			b[6+j] = uint8(xi0&0x0f | (xi1&0x0f)<<4)
			qh |= (xi0 & 0x10 >> 4) << j
			qh |= (xi1 & 0x10 >> 4) << (j + qk/2)
		}
		b[2], b[3], b[4], b[5] = byte(qh), byte(qh>>8), byte(qh>>16), byte(qh>>24)
	}
}

// quantQ5_1 is quantize_row_q5_1_ref: d = (max-min)/31, m = min,
// q = trunc((x-min)/d+0.5) (no clamp in the C code).
func quantQ5_1(src []float32, dst []byte) {
	for i := 0; i < len(src)/qk; i++ {
		x := (*[qk]float32)(src[i*qk:])
		b := (*[24]byte)(dst[i*24:])
		mn, mx := minMax(x[:])
		d := (mx - mn) / 31
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(b[0:], fp32ToFP16Ref(d))
		putF16(b[2:], fp32ToFP16Ref(mn))
		var qh uint32
		for j := 0; j < qk/2; j++ {
			xi0 := uint32(uint8(cvtt(float32((x[j]-mn)*id) + 0.5)))
			xi1 := uint32(uint8(cvtt(float32((x[j+qk/2]-mn)*id) + 0.5)))
			b[8+j] = uint8(xi0&0x0f | (xi1&0x0f)<<4)
			qh |= (xi0 & 0x10 >> 4) << j
			qh |= (xi1 & 0x10 >> 4) << (j + qk/2)
		}
		b[4], b[5], b[6], b[7] = byte(qh), byte(qh>>8), byte(qh>>16), byte(qh>>24)
	}
}

// quantQ8_0 is quantize_row_q8_0_ref, what llama-quantize writes for Q8_0
// (quantize_q8_0 ignores any importance matrix): d = amax/127,
// id = 1/d, q = roundf(x·id), rounding half away from zero.
func quantQ8_0(src []float32, dst []byte) {
	for i := 0; i < len(src)/qk; i++ {
		x := (*[qk]float32)(src[i*qk:])
		b := (*[34]byte)(dst[i*34:])
		var amax float32
		for _, v := range x {
			if a := abs32(v); !(amax > a) { // C's MAX(amax, fabsf(v))
				amax = a
			}
		}
		d := amax / 127
		var id float32
		if d != 0 {
			id = 1 / d
		}
		putF16(b[0:], fp32ToFP16Ref(d))
		for j, v := range x {
			b[2+j] = byte(cvtt(float32(math.Round(float64(v * id)))))
		}
	}
}

// q8Block32 quantizes 32 activations the way ggml-cpu's AVX/AVX2
// quantize_row_q8_0 and quantize_row_q8_1 do, writing the quants to qs and
// returning the float32 scale d = amax/127 and the exact sum of the quants.
func q8Block32(x *[qk]float32, qs *[qk]byte) (d float32, sum int32) {
	amax := absMax32AVX(x)
	d = amax / 127
	var id float32
	if amax != 0 {
		id = 127 / amax
	}
	for j, v := range x {
		// _mm256_round_ps(_MM_ROUND_NEAREST), cvtps_epi32, then two
		// saturating packs to int8. Σq is taken from the int32 values before
		// the packs, as hsum_i32_8 does; on finite input |v·id| ≤ 127 (up
		// to rounding), so saturation never happens there.
		q := cvtRNE(v * id)
		sum += q
		qs[j] = byte(int8(max(-128, min(127, q))))
	}
	return d, sum
}

// maxps is _mm_max_ps on one lane: a > b ? a : b, so a NaN in either
// operand yields b.
func maxps(a, b float32) float32 {
	if a > b {
		return a
	}
	return b
}

// absMax32AVX is max|x| reduced in the order of the AVX quantize_row_q8_0:
// four 8-lane vectors folded lane-wise, then 8→4→2→1 lanes. For inputs
// without NaN any order gives the same value; this order also reproduces
// which NaN (or non-NaN) survives when there are NaNs.
func absMax32AVX(x *[qk]float32) float32 {
	var m [8]float32
	for l := range m {
		m[l] = abs32(x[l])
		m[l] = maxps(m[l], abs32(x[8+l]))
		m[l] = maxps(m[l], abs32(x[16+l]))
		m[l] = maxps(m[l], abs32(x[24+l]))
	}
	var h [4]float32
	for l := range h {
		h[l] = maxps(m[4+l], m[l]) // _mm_max_ps(upper half, lower half)
	}
	return maxps(maxps(h[0], h[2]), maxps(h[1], h[3]))
}

// fromFloatQ8_0 is ggml-cpu's x86 quantize_row_q8_0 (see QuantizeRow).
func fromFloatQ8_0(src []float32, dst []byte) {
	for i := 0; i < len(src)/qk; i++ {
		b := (*[34]byte)(dst[i*34:])
		d, _ := q8Block32((*[qk]float32)(src[i*qk:]), (*[qk]byte)(b[2:]))
		putF16(b[0:], FP32ToFP16(d))
	}
}

// fromFloatQ8_1 is ggml-cpu's x86 quantize_row_q8_1: the Q8_0 block plus
// s = fp16(d·Σq) with d the unrounded float32 scale.
func fromFloatQ8_1(src []float32, dst []byte) {
	for i := 0; i < len(src)/qk; i++ {
		b := (*[36]byte)(dst[i*36:])
		d, sum := q8Block32((*[qk]float32)(src[i*qk:]), (*[qk]byte)(b[4:]))
		putF16(b[0:], FP32ToFP16(d))
		putF16(b[2:], FP32ToFP16(d*float32(sum)))
	}
}
