package aprengine

import "math"

// This file holds the element-wise and row-wise operations, written as the
// textbook formulas in float64 with one rounding to f32 per stored value.
// None of them imitates ggml: the point of this engine is to be a second,
// independent computation of the same model (see doc.go).

// rmsNorm computes y = x / sqrt(mean(x²) + eps) · w for each row of n
// elements, dividing by the RMS as the upstream APR engine does (ggml
// multiplies by a rounded 1/rms instead). Squares of f32 values are exact
// in float64; the sum, the mean, the RMS and x/rms·w are float64, and each
// output is rounded to f32 once. y and x may alias.
func rmsNorm(y, x, w []float32, n int, eps float32) {
	for r := 0; r+n <= len(x); r += n {
		row := x[r : r+n]
		var sum float64
		for _, v := range row {
			sum += float64(v) * float64(v)
		}
		rms := math.Sqrt(sum/float64(n) + float64(eps))
		out := y[r : r+n]
		for i, v := range row {
			out[i] = float32(float64(v) / rms * float64(w[i]))
		}
	}
}

// ropeTable holds cos θ and sin θ for every row of a batch and every
// rotated pair, θ_i = pos · freq_scale · base^(−2i/n_rot), each θ computed
// directly with math.Pow in float64 (ggml instead advances θ by repeated
// f32 multiplication by base^(−2/n_rot)). The zero value holds no rows.
type ropeTable struct {
	pos0, T  int       // positions pos0..pos0+T−1
	half     int       // n_rot / 2 pairs per head
	cos, sin []float64 // [T × half]
}

// fill makes the table hold positions pos0..pos0+T−1, recomputing it only
// when it holds other positions, so the q and k of a batch share one table.
func (rt *ropeTable) fill(pos0, T, nRot int, base, freqScale float32) {
	if rt.cos != nil && rt.pos0 == pos0 && rt.T == T && rt.half == nRot/2 {
		return
	}
	rt.pos0, rt.T, rt.half = pos0, T, nRot/2
	rt.cos, rt.sin = make([]float64, T*rt.half), make([]float64, T*rt.half)
	for t := 0; t < T; t++ {
		for i := 0; i < rt.half; i++ {
			theta := float64(pos0+t) * float64(freqScale) * math.Pow(float64(base), -2*float64(i)/float64(nRot))
			rt.cos[t*rt.half+i] = math.Cos(theta)
			rt.sin[t*rt.half+i] = math.Sin(theta)
		}
	}
}

// rotate applies RoPE at batch row t to one head x in place. neox pairs
// (x[i], x[i+n_rot/2]) (qwen2, qwen3); otherwise adjacent pairs
// (x[2i], x[2i+1]) (llama, mistral). Elements past n_rot are left as they
// are (partial rotary). Each rotated value is computed in float64 and
// rounded once.
func (rt *ropeTable) rotate(x []float32, t int, neox bool) {
	cs, sn := rt.cos[t*rt.half:(t+1)*rt.half], rt.sin[t*rt.half:(t+1)*rt.half]
	for i := 0; i < rt.half; i++ {
		a, b := 2*i, 2*i+1
		if neox {
			a, b = i, i+rt.half
		}
		x0, x1 := float64(x[a]), float64(x[b])
		x[a] = float32(x0*cs[i] - x1*sn[i])
		x[b] = float32(x0*sn[i] + x1*cs[i])
	}
}

// silu is x / (1 + e^(−x)) in float64, rounded to f32.
func silu(x float32) float32 {
	v := float64(x)
	return float32(v / (1 + math.Exp(-v)))
}

// geluTanh is GELU's tanh approximation, ½·x·(1 + tanh(√(2/π)·(x +
// 0.044715·x³))), in float64, rounded to f32 (the GELU fault).
func geluTanh(x float32) float32 {
	v := float64(x)
	return float32(0.5 * v * (1 + math.Tanh(math.Sqrt(2/math.Pi)*(v+0.044715*v*v*v))))
}

// attendHead computes one query head's attention output over n visible
// keys: out = Σ_j p_j·v_j with p = softmax(q·k_j · scale). keys and values
// hold rows of stride elements; the head's slice starts at off. Scores,
// softmax and the weighted sum are all float64 (scores and acc are scratch
// of at least n and len(out)), with one rounding per output element; the
// sum over j runs in position order. Masked (future) positions are simply
// not visited: a causal mask contributes exp(−∞) = 0.
func attendHead(out, q, keys, values []float32, n, stride, off int, scale float64, scores, acc []float64) {
	hd := len(q)
	s := scores[:n]
	best := math.Inf(-1)
	for j := range s {
		k := keys[j*stride+off : j*stride+off+hd]
		var d float64
		for i, qv := range q {
			d += float64(qv) * float64(k[i])
		}
		s[j] = d * scale
		best = max(best, s[j])
	}
	var z float64
	for j, v := range s {
		s[j] = math.Exp(v - best)
		z += s[j]
	}
	a := acc[:len(out)]
	clear(a)
	for j, p := range s {
		v := values[j*stride+off : j*stride+off+len(out)]
		for i, vi := range v {
			a[i] += p * float64(vi)
		}
	}
	for i, v := range a {
		out[i] = float32(v / z)
	}
}
