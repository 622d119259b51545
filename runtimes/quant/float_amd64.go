//go:build !noasm

package quant

import "github.com/layerwise/parity/runtimes/ggml"

// Assembly twins of the float kernels (float_avx2_amd64.s): the F32, F16
// and Q8_0 dots of KernelX86AVX512 and the F16, Q4_K and Q6_K
// dequantizers. Same bits as the Go functions (float_amd64_test.go).

//go:noescape
func f32Dot16AVX2(x, y *byte, n16 int) float32

//go:noescape
func f16Dot16AVX2(x, y *byte, n16 int) float32

//go:noescape
func f32Dot64AVX2(x, y *byte, n64 int) float32

//go:noescape
func f16Dot64AVX2(x, y *byte, n64 int) float32

//go:noescape
func q8_0DotAVX2(w, a *byte, nb int) float32

//go:noescape
func q8_0Dot4AVX2(w, a *byte, aStride, nb int, dst *[4]float32)

//go:noescape
func f16ToF32AVX2(dst *float32, src *byte, n8 int)

//go:noescape
func q4KScalesAVX2(f *float32, src *byte, nb int)

//go:noescape
func q6KScalesAVX2(ds *float32, src *byte, nb int)

//go:noescape
func q4KDequantAVX2(dst *float32, src *byte, scales *float32, nb int)

//go:noescape
func q6KDequantAVX2(dst *float32, src *byte, ds *float32, nb int)

func init() {
	if !hasAVX2 {
		return
	}
	k := &x86Kernels
	k.q8_0 = func(n int, w, a []byte) float32 {
		nb := n / qk
		if nb == 0 {
			return 0
		}
		_, _ = w[nb*34-1], a[nb*34-1]
		return q8_0DotAVX2(&w[0], &a[0], nb)
	}
	k.q8_04 = func(n int, w, a []byte, aRow int, dst *[4]float32) {
		nb := n / qk
		if nb == 0 {
			*dst = [4]float32{}
			return
		}
		_, _ = w[nb*34-1], a[3*aRow+nb*34-1]
		q8_0Dot4AVX2(&w[0], &a[0], aRow, nb, dst)
	}
	k.f32Tiny = func(n int, w, a []byte) float32 {
		if n < 16 {
			return dotF32Tiny(n, w, a)
		}
		_, _ = w[4*n-1], a[4*n-1]
		return f32Dot16AVX2(&w[0], &a[0], n/16)
	}
	k.f16Tiny = func(n int, w, a []byte) float32 {
		if n < 16 {
			return dotF16Tiny(n, w, a)
		}
		_, _ = w[2*n-1], a[2*n-1]
		return f16Dot16AVX2(&w[0], &a[0], n/16)
	}
	k.f32Vec = func(n int, w, a []byte) float32 {
		if n < 64 {
			return dotF32Vec(n, w, a)
		}
		_, _ = w[4*n-1], a[4*n-1]
		return f32VecTail(n, w, a, f32Dot64AVX2(&w[0], &a[0], n/64))
	}
	k.f16Vec = func(n int, w, a []byte) float32 {
		if n < 64 {
			return dotF16Vec(n, w, a)
		}
		_, _ = w[2*n-1], a[2*n-1]
		return f16VecTail(n, w, a, f16Dot64AVX2(&w[0], &a[0], n/64))
	}
	kernels[ggml.F16].dequant = dequantF16AVX2
	kernels[ggml.Q4_K].dequant = dequantQ4_KAVX2
	kernels[ggml.Q6_K].dequant = dequantQ6_KAVX2
}

func dequantF16AVX2(src []byte, dst []float32) {
	n8 := len(dst) / 8
	if n8 > 0 {
		_ = src[16*n8-1]
		f16ToF32AVX2(&dst[0], &src[0], n8)
	}
	dequantF16(src[16*n8:], dst[8*n8:])
}

// dqGroup is how many blocks the K-quant dequantizers take per assembly
// call: their per-block float factors go into a stack array first
// (q4KScalesAVX2, q6KScalesAVX2), then the values are written.
const dqGroup = 16

func dequantQ4_KAVX2(src []byte, dst []float32) {
	var f [dqGroup * 16]float32
	for i := 0; i < len(dst)/qkK; i += dqGroup {
		nb := min(dqGroup, len(dst)/qkK-i)
		blocks := src[i*144 : (i+nb)*144]
		q4KScalesAVX2(&f[0], &blocks[0], nb)
		_ = dst[(i+nb)*qkK-1]
		q4KDequantAVX2(&dst[i*qkK], &blocks[0], &f[0], nb)
	}
}

func dequantQ6_KAVX2(src []byte, dst []float32) {
	var f [dqGroup * 16]float32
	for i := 0; i < len(dst)/qkK; i += dqGroup {
		nb := min(dqGroup, len(dst)/qkK-i)
		blocks := src[i*210 : (i+nb)*210]
		q6KScalesAVX2(&f[0], &blocks[0], nb)
		_ = dst[(i+nb)*qkK-1]
		q6KDequantAVX2(&dst[i*qkK], &blocks[0], &f[0], nb)
	}
}
