package ggufengine

import (
	"math"

	"github.com/layerwise/parity/runtimes/quant"

	"github.com/layerwise/parity/runtimes/fp32"
)

// This file holds the element-wise and row-wise operations of the forward
// pass, each written to reproduce ggml-cpu's arithmetic at commit 3f545bec
// (ggml/src/ggml-cpu/ops.cpp, vec.h, vec.cpp). Where ggml uses a SIMD
// kernel whose rounding differs from the plain scalar formula (ggml_v_expf,
// ggml_v_silu, the dot products) or calls libm (cosf, sinf, expf), the
// emulations in simd_emul.go and libm_emul.go are used, so that the f32
// values fed to the next quantized matmul round the same way.

// rmsNormMul computes y = x · 1/sqrt(mean(x²)+eps) · w for each row of n
// elements (ggml_compute_forward_rms_norm_f32, fused with MUL): the squares
// are f32 products summed in float64, the mean is rounded to f32, and the
// scale is 1.0f/sqrtf(mean+eps) in f32. y and x may alias.
func rmsNormMul(y, x, w []float32, n int, eps float32) {
	for r := 0; r+n <= len(x); r += n {
		row := x[r : r+n]
		var sum float64
		for _, v := range row {
			sum += float64(v * v)
		}
		mean := float32(sum / float64(n))
		scale := 1 / float32(math.Sqrt(float64(mean+eps)))
		out := y[r : r+n]
		for i, v := range row {
			out[i] = v * scale * w[i]
		}
	}
}

// ropeCache fills cache with (cos θ_i, sin θ_i) pairs for one position, the
// way ggml_rope_cache_init does without YaRN (ext_factor 0, attn_factor 1):
// theta_scale = powf(base, -2/n_dims) and θ is advanced by repeated f32
// multiplication, not by pow per index; freq_scale multiplies θ before
// cosf/sinf, which are glibc's (libm_emul.go), not the correctly rounded
// functions. len(cache) is the head dimension.
func ropeCache(cache []float32, pos int, thetaScale, freqScale float32) {
	theta := float32(pos)
	for i := 0; i+1 < len(cache); i += 2 {
		t := freqScale * theta
		cache[i] = glibcCosf(t)
		cache[i+1] = glibcSinf(t)
		theta *= thetaScale
	}
}

// ropeThetaScale is ggml's powf(freq_base, -2.0f/n_dims). glibc's powf is
// not correctly rounded in general, but it agrees with the correctly
// rounded value used here on every pair checked: eight bases from 1e4 to
// 8e6 (1e4, 5e5 and 1e6 among them), each with every even n_dims up to 512.
func ropeThetaScale(base float32, nDims int) float32 {
	return float32(math.Pow(float64(base), float64(float32(-2.0)/float32(nDims))))
}

// ropeHead rotates one head of x in place. neox pairs (i, i+nDims/2)
// (GGML_ROPE_TYPE_NEOX); otherwise adjacent pairs (2i, 2i+1). Elements past
// nDims are left as they are (partial rotary).
//
// The rotation is rotate_pairs (ops.cpp): x0·cos − x1·sin and
// x0·sin + x1·cos, which the compiler contracts into FMAs on the first
// product, fma(x0, cos, −(x1·sin)) and fma(x0, sin, x1·cos) — except in the
// scalar remainder of the NORM loop, whose stride-2 pairs are vectorized
// four at a time: there the products are rounded separately. That is what
// GCC 12 -O3 -march=native (AVX-512) makes of rotate_pairs, and what the
// dumps show bit for bit (head dim 4 NORM: all plain; 8 NORM and 64 NEOX:
// all fused).
func ropeHead(x, cache []float32, nDims int, neox bool) {
	fusedPairs := nDims / 2
	if !neox {
		fusedPairs &^= 3
	}
	for i0 := 0; i0 < nDims; i0 += 2 {
		c, s := cache[i0], cache[i0+1]
		a, b := i0, i0+1
		if neox {
			a, b = i0/2, i0/2+nDims/2
		}
		x0, x1 := x[a], x[b]
		if i0/2 < fusedPairs {
			x[a] = fp32.FMA(x0, c, -float32(x1*s))
			x[b] = fp32.FMA(x0, s, float32(x1*c))
		} else {
			// The conversions keep Go from fusing on FMA targets.
			x[a] = float32(x0*c) - float32(x1*s)
			x[b] = float32(x0*s) + float32(x1*c)
		}
	}
}

// siluRows applies ggml_vec_silu_f32 to each row of n values of x in
// place: the first n&^15 values of a row by the 16-lane ggml_v_silu
// (vSilu), the rest by the scalar ggml_silu_f32, x/(1.0f+expf(-x)) with
// glibc's expf (glibcExpf). The engine's SWIGLU is this followed by the
// product with the up projection, as ggml_vec_swiglu_f32 computes it.
// Every value is computed on its own, so the work is split over
// GOMAXPROCS goroutines in contiguous ranges without changing a bit.
func siluRows(x []float32, n int) {
	simd := n &^ 15
	parallelRange(len(x), 4096, func(_, lo, hi int) {
		for lo < hi {
			row := lo - lo%n
			if v := min(hi, row+simd); lo < v {
				siluVec(x[lo:v])
				lo = v
			}
			for e := min(hi, row+n); lo < e; lo++ {
				x[lo] = x[lo] / (1 + glibcExpf(-x[lo]))
			}
		}
	})
}

// siluVec applies vSilu to every value of x. The amd64 build replaces it
// with an assembly twin.
var siluVec = siluVecGo

func siluVecGo(x []float32) {
	for i, v := range x {
		x[i] = vSilu(v)
	}
}

// roundF16 rounds every element to the nearest f16 value, as storing into an
// f16 KV cache (SET_ROWS) or converting an activation for an f16 dot does.
func roundF16(x []float32) {
	for i, v := range x {
		x[i] = quant.FP16ToFP32(quant.FP32ToFP16(v))
	}
}
