package ggufengine

import (
	"math"

	"github.com/layerwise/parity/runtimes/quant"
)

// This file holds the element-wise and row-wise operations of the forward
// pass, each written to reproduce ggml-cpu's scalar arithmetic at commit
// 3f545bec (ggml/src/ggml-cpu/ops.cpp, vec.h). Where ggml uses a SIMD
// approximation (ggml_v_expf, ggml_v_silu) we use the correctly rounded
// function; the two differ by about one ulp, far inside the fidelity budget.

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
// cosf/sinf. len(cache) is the head dimension.
func ropeCache(cache []float32, pos int, thetaScale, freqScale float32) {
	theta := float32(pos)
	for i := 0; i+1 < len(cache); i += 2 {
		t := freqScale * theta
		cache[i] = float32(math.Cos(float64(t)))
		cache[i+1] = float32(math.Sin(float64(t)))
		theta *= thetaScale
	}
}

// ropeThetaScale is ggml's powf(freq_base, -2.0f/n_dims).
func ropeThetaScale(base float32, nDims int) float32 {
	return float32(math.Pow(float64(base), float64(float32(-2.0)/float32(nDims))))
}

// ropeHead rotates one head of x in place. neox pairs (i, i+nDims/2)
// (GGML_ROPE_TYPE_NEOX); otherwise adjacent pairs (2i, 2i+1). Elements past
// nDims are left as they are (partial rotary).
func ropeHead(x, cache []float32, nDims int, neox bool) {
	for i0 := 0; i0 < nDims; i0 += 2 {
		c, s := cache[i0], cache[i0+1]
		a, b := i0, i0+1
		if neox {
			a, b = i0/2, i0/2+nDims/2
		}
		x0, x1 := x[a], x[b]
		x[a] = x0*c - x1*s
		x[b] = x0*s + x1*c
	}
}

// silu is ggml_silu_f32: x / (1 + expf(-x)).
func silu(x float32) float32 {
	return x / (1 + float32(math.Exp(float64(-x))))
}

// softmaxScaled turns scores into probabilities in place as
// ggml_compute_forward_soft_max_f32 does for an unmasked row: scale, subtract
// the max, expf, sum in float64, multiply by (float)(1/sum).
func softmaxScaled(p []float32, scale float32) {
	max := float32(math.Inf(-1))
	for i := range p {
		p[i] *= scale
		if p[i] > max {
			max = p[i]
		}
	}
	var sum float64
	for i, v := range p {
		e := float32(math.Exp(float64(v - max)))
		p[i] = e
		sum += float64(e)
	}
	inv := float32(1 / sum)
	for i := range p {
		p[i] *= inv
	}
}

// dotF32 is the f32 dot product with a float64 accumulator, the order
// ggml_vec_dot_f32's scalar path uses.
func dotF32(a, b []float32) float32 {
	var s float64
	for i, v := range a {
		s += float64(v * b[i])
	}
	return float32(s)
}

// roundF16 rounds every element to the nearest f16 value, as storing into an
// f16 KV cache (SET_ROWS) or converting an activation for an f16 dot does.
func roundF16(x []float32) {
	for i, v := range x {
		x[i] = quant.FP16ToFP32(quant.FP32ToFP16(v))
	}
}
