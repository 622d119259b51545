//go:build !noasm

package quant

import "github.com/layerwise/parity/runtimes/ggml"

// Assembly twins of the activation quantizers QuantizeRow runs for Q8_K
// and Q8_0 (quantize_avx2_amd64.s), installed when the CPU has AVX2, FMA
// and F16C (hasAVX2). They write exactly the bytes of fromFloatQ8_K and
// fromFloatQ8_0 for every input, NaNs and infinities included
// (quantize_amd64_test.go). Build with -tags noasm to run the Go code.

// q8KFromFloatAVX2 writes nb Q8_K blocks of 292 bytes at dst from the
// 256·nb float32 at src, byte for byte what fromFloatQ8_K writes: per
// block, max is the first value of largest magnitude (NaNs never count),
// and a block of only ±0 and NaN values is 292 zero bytes;
// otherwise iscale = -127/max (float32), q[j] = int8(min(127,
// nearestInt(iscale·x[j]))) with nearestInt's 1.5·2²³ trick and Go's
// truncating int8 conversion, bsums[k] = Σ q[16k..16k+15] as int16, and
// d = 1/iscale as float32.
//
//go:noescape
func q8KFromFloatAVX2(dst *byte, src *float32, nb int)

// q8_0FromFloatAVX2 writes nb Q8_0 blocks of 34 bytes at dst from the
// 32·nb float32 at src, byte for byte what fromFloatQ8_0 writes: amax is
// absMax32AVX's reduction (vmaxps in the same operand order, so the same
// NaN or number survives), d = amax/127 stored as FP32ToFP16(d) (the
// vcvtps2ph rounding), id = 127/amax or 0 if amax == 0, and q[j] =
// cvtRNE(x[j]·id) saturated to int8.
//
//go:noescape
func q8_0FromFloatAVX2(dst *byte, src *float32, nb int)

func init() {
	if !hasAVX2 {
		return
	}
	kernels[ggml.Q8_K].fromFloat = fromFloatQ8_KAVX2
	kernels[ggml.Q8_0].fromFloat = fromFloatQ8_0AVX2
}

// fromFloatQ8_KAVX2 is fromFloatQ8_K (len(src)/256 blocks) in assembly.
// It panics, before writing anything, if dst is shorter than 292 bytes per
// block.
func fromFloatQ8_KAVX2(src []float32, dst []byte) {
	nb := len(src) / qkK
	if nb == 0 {
		return
	}
	_, _ = src[nb*qkK-1], dst[nb*292-1]
	q8KFromFloatAVX2(&dst[0], &src[0], nb)
}

// fromFloatQ8_0AVX2 is fromFloatQ8_0 (len(src)/32 blocks) in assembly. It
// panics, before writing anything, if dst is shorter than 34 bytes per
// block.
func fromFloatQ8_0AVX2(src []float32, dst []byte) {
	nb := len(src) / qk
	if nb == 0 {
		return
	}
	_, _ = src[nb*qk-1], dst[nb*34-1]
	q8_0FromFloatAVX2(&dst[0], &src[0], nb)
}
