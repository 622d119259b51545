package ggufengine

import (
	"math"

	"github.com/layerwise/parity/runtimes/fp32"
)

// This file emulates, in pure Go and bit for bit, the float32 SIMD kernels
// ggml-cpu runs on an x86 machine with AVX-512F and AVX-512DQ at llama.cpp
// commit 3f545bec — the machine the reference dumps in ../shared/llamacpp
// were recorded on. Where an AVX2-only build would compute differently, the
// functions follow the AVX-512 build and say what the AVX2 one does.
//
// Every emulated instruction is a correctly rounded float32 operation
// (round to nearest even, no flush-to-zero: ggml-cpu does not set FTZ/DAZ),
// so the only things to reproduce are the operation order and which steps
// are fused multiply-adds. Go has no float32 FMA; fp32.FMA provides one.
//
// Intrinsics fix most of that; where plain C is compiled (loop leftovers,
// RoPE), the order and the contractions are GCC 12's at -O3 -march=native,
// the reference build's compiler as far as the dumps can tell: every
// dumped tensor these functions produce matches bit for bit, and so do
// ggml's vec.cpp kernels compiled that way on an AVX-512 machine and run on
// random inputs of every length up to 520.

// reduceAdd16 is _mm512_reduce_add_ps: a halving tree over the 16 lanes,
// v[i]+v[i+8], then +4, +2, +1 (GCC's and Clang's expansions agree).
func reduceAdd16(v *[16]float32) float32 {
	var a [8]float32
	for i := range a {
		a[i] = v[i] + v[i+8]
	}
	b := [4]float32{a[0] + a[4], a[1] + a[5], a[2] + a[6], a[3] + a[7]}
	return (b[0] + b[2]) + (b[1] + b[3])
}

// The f32 dot kernels keep their partial sums in lanes, and every product
// goes to its lane by one FMA in order of position. With 64 lanes, position
// i goes to lane i%64, which is ggml_vec_dot_f32's accumulator (i/16)%4,
// element i%16; with 16 lanes (tinyBLAS), to lane i%16.

// fmaLane does *a = fp32.FMA(x, y, *a), with fp32.FMAFast inlined into it.
func fmaLane(a *float32, x, y float32) {
	if r, ok := fp32.FMAFast(x, y, *a); ok {
		*a = r
	} else {
		*a = fp32.FMA(x, y, *a)
	}
}

// reduceVecDot is GGML_F32_VEC_REDUCE in the AVX-512 build (GGML_F32_ARR
// = 4): accumulator 2 is added into 0 and 3 into 1, then 1 into 0, and the
// 16 lanes of 0 are reduced with _mm512_reduce_add_ps.
func reduceVecDot(acc *[64]float32) float32 {
	var v [16]float32
	for l := range v {
		v[l] = (acc[l] + acc[32+l]) + (acc[16+l] + acc[48+l])
	}
	return reduceAdd16(&v)
}

// axpy does acc[i] = fp32.FMA(x[i], a, acc[i]) for every i: one position's
// product added into a row of lanes. The amd64 build replaces it with an
// assembly twin.
var axpy = axpyGo

func axpyGo(acc, x []float32, a float32) {
	x = x[:len(acc)]
	for i := range acc {
		fmaLane(&acc[i], x[i], a)
	}
}

// vExpf is one lane of ggml_v_expf(__m512) (vec.h, AVX-512F+DQ), ARM's
// optimized-routines expf: with n = round(x·log2 e) by the 1.5·2²³ trick and
// b = x − n·ln2 in two FMA steps (hi and lo parts of ln2), a degree-5
// polynomial j ≈ eᵇ (Estrin-style, FMAs throughout, including the constant
// 1) is scaled by 2ⁿ with _mm512_scalef_ps; |n| > 192 gives 0 or +Inf.
// x = −Inf (a masked score) gives 0.
//
// The AVX2 variant differs: it computes j without the constant 1 and
// returns k + k·j with k = 2ⁿ built in the exponent bits, which rounds
// differently.
func vExpf(x float32) float32 {
	const r = float32(0x1.8p23)
	z := fp32.FMA(x, 0x1.715476p+0, r)
	n := z - r
	if math.Abs(float64(n)) > 192 { // _CMP_GT_OQ: NaN compares false
		if n <= 0 {
			return 0
		}
		return float32(math.Inf(1))
	}
	b := fp32.FMA(-n, 0x1.7f7d1cp-20, fp32.FMA(-n, 0x1.62e4p-1, x))
	u := float32(b * b)
	j := fp32.FMA(
		fp32.FMA(fp32.FMA(0x1.0e4020p-7, b, 0x1.573e2ep-5), u, fp32.FMA(0x1.555e66p-3, b, 0x1.fffdb6p-2)),
		u,
		fp32.FMA(0x1.ffffecp-1, b, 1))
	// scalef: j·2ⁿ rounded once (the float64 product is exact).
	return float32(math.Ldexp(float64(j), int(n)))
}

// vSilu is one lane of ggml_v_silu(__m512): x / (1 + vExpf(0 − x)), each
// step a float32 operation.
func vSilu(x float32) float32 {
	return x / (1 + vExpf(0-x))
}
