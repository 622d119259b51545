//go:build !noasm

package quant

import "github.com/layerwise/parity/runtimes/ggml"

// Assembly twins of two generic-order dots (dot_q5k_q40_avx2_amd64.s):
// dotQ5_KQ8_K and dotQ4_0Q8_0. They replace the kernel table's dot for
// Q5_K and Q4_0, which KernelGeneric, MatMul, VecDot and KernelX86AVX512
// (for these two types) all take. Each returns exactly the bits of the Go
// function, NaN payloads aside (dot_q5k_q40_amd64_test.go); -tags noasm
// keeps the Go functions.

// q5KDotAVX2 is dotQ5_KQ8_K over nb Q5_K blocks at w and nb Q8_K blocks at
// a; nb must be ≥ 0 and both ranges readable.
//
//go:noescape
func q5KDotAVX2(w, a *byte, nb int) float32

// q4_0DotAVX2 is dotQ4_0Q8_0 over nb Q4_0 blocks at w and nb Q8_0 blocks
// at a; nb must be ≥ 0 and both ranges readable.
//
//go:noescape
func q4_0DotAVX2(w, a *byte, nb int) float32

// kernels is a variable initializer, so it is complete before this runs.
func init() {
	if !hasAVX2 { // AVX2 for the integer sums, F16C for the fp16 scales
		return
	}
	kernels[ggml.Q5_K].dot = dotQ5_KQ8_KAVX2
	kernels[ggml.Q4_0].dot = dotQ4_0Q8_0AVX2
}

// dotQ5_KQ8_KAVX2 returns dotQ5_KQ8_K(n, w, a): the dot of the first
// n/256 Q5_K blocks of w with as many Q8_K blocks of a. It panics, as the
// Go function does, if w or a is shorter than that.
func dotQ5_KQ8_KAVX2(n int, w, a []byte) float32 {
	nb := n / qkK
	if nb <= 0 {
		return 0
	}
	_, _ = w[nb*176-1], a[nb*292-1]
	return q5KDotAVX2(&w[0], &a[0], nb)
}

// dotQ4_0Q8_0AVX2 returns dotQ4_0Q8_0(n, w, a): the dot of the first n/32
// Q4_0 blocks of w with as many Q8_0 blocks of a. It panics, as the Go
// function does, if w or a is shorter than that.
func dotQ4_0Q8_0AVX2(n int, w, a []byte) float32 {
	nb := n / qk
	if nb <= 0 {
		return 0
	}
	_, _ = w[nb*18-1], a[nb*34-1]
	return q4_0DotAVX2(&w[0], &a[0], nb)
}
