package ggufengine

import (
	"math"
	"runtime"

	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/quant"
)

// attention computes s.ctx = softmax(Q·Kᵀ/√hd + causal mask)·V per head,
// with query head h reading KV head h/(n_head/n_head_kv), as llama.cpp's
// flash attention (Options.FlashAttn, see flashAttend) or its non-flash
// attention (see attend) does. The non-flash path with an f16 cache rounds
// s.q to f16 in place first.
//
// Faults: AttnScale scales by 1/hd instead of 1/√hd; GQAMap sends query head
// h to KV head h mod n_head_kv.
func (e *Engine) attention(l int, s *scratch, kv *kvLayer, pos0 int) {
	c := e.cfg
	scale := 1 / float32(math.Sqrt(float64(float32(c.HeadDim))))
	if e.opts.Faults.At(faults.AttnScale, l) {
		scale = 1 / float32(c.HeadDim)
	}
	if e.opts.FlashAttn {
		s.scores = flashAttend(s.ctx, s.q, kv.k, kv.v, s.T, pos0, c.NHead, c.NHeadKV, c.HeadDim,
			flashNKV(pos0+s.T), scale, e.opts.Faults.At(faults.GQAMap, l), s.scores)
		return
	}
	if e.opts.KVType == ggml.F16 {
		roundF16(s.q) // the f16 K·Q dot converts Q to f16 first
	}
	s.scores = attend(s.ctx, s.q, kv.k, kv.v, s.T, pos0, c.NHead, c.NHeadKV, c.HeadDim, scale,
		e.opts.KVType == ggml.F16 || e.opts.Faults.At(faults.KVF16, l), e.opts.Faults.At(faults.GQAMap, l), s.scores)
}

// attend computes the attention output of T query rows at positions
// pos0..pos0+T−1 over the first pos0+T rows of the KV cache, reproducing
// llm_graph_context::build_attn_mha without flash attention and ggml-cpu's
// arithmetic for it at commit 3f545bec on the reference (AVX-512) machine:
//
//   - kq = mul_mat(K, Q). Q is a permuted, non-contiguous view, so neither
//     llamafile_sgemm call site applies and every score is one
//     ggml_vec_dot_f32 of length hd (quant.VecDotF32).
//   - soft_max_ext(kq, mask, scale) over a row of n_kv = max(256,
//     pad(used cells, 256)) scores (softMax).
//   - kqv = mul_mat(V, kq) with V the transposed V cache: output dimension i
//     is a dot of length n_kv between row i of Vᵀ and the probabilities.
//     They are contiguous, so for a batch of T ≥ 2 rows llamafile_sgemm
//     takes it when hd % 4 == 0: tinyBLAS<16> keeps one 16-lane FMA
//     accumulator per output and sums it with _mm512_reduce_add_ps (its
//     tiling decides which outputs are computed together, never the
//     arithmetic of one). A single row (decode) goes to ggml_vec_dot_f32,
//     with n_kv a multiple of 64, all in its four 16-lane accumulators.
//     Either way position j feeds lane j%16 or j%64 of every output, in
//     order of j, so the cache is read row by row here and no transposed
//     copy is needed. Masked probabilities and unused cells are exact zeros
//     and add nothing, so only the first pos0+t+1 positions are visited.
//
// With roundF16Probs (an f16 KV cache) the probabilities are rounded to f16
// before the V product, as converting src1 to F16 does; the f16 dot kernels
// are then approximated by the f32 ones above on f16-valued inputs.
//
// q and dst are [T × n_head·hd]; kc and vc hold at least pos0+T rows of
// n_head_kv·hd. gqaMod maps query head h to KV head h mod n_head_kv (the
// GQAMap fault) instead of h/(n_head/n_head_kv). buf is a reusable buffer,
// returned grown.
func attend(dst, q, kc, vc []float32, T, pos0, nHead, nHeadKV, hd int, scale float32, roundF16Probs, gqaMod bool, buf []float32) []float32 {
	qd, kvd := nHead*hd, nHeadKV*hd
	group := nHead / nHeadKV
	nTot := pos0 + T
	nLanes := 64 // ggml_vec_dot_f32
	if T >= 2 && hd%4 == 0 {
		nLanes = 16 // tinyBLAS
	}
	// Each (row, head) pair is independent: workers take them one at a
	// time, each with its own scores and lanes in buf.
	per := nTot + 64*hd
	items := T * nHead
	workers := min(runtime.GOMAXPROCS(0), items)
	if cap(buf) < workers*per {
		// Twice what this step needs: the rows grow by one position per
		// decode step, and should not cost an allocation each.
		buf = make([]float32, 2*workers*per)
	}
	buf = buf[:cap(buf)]
	parallelRange(items, 1, func(wi, lo, hi int) {
		w := buf[wi*per : (wi+1)*per]
		scores, lanes := w[:nTot], w[nTot:nTot+nLanes*hd]
		for it := lo; it < hi; it++ {
			t, h := it/nHead, it%nHead
			n := pos0 + t + 1 // keys visible to this query
			qh := q[t*qd+h*hd : t*qd+(h+1)*hd]
			kvh := h / group
			if gqaMod {
				kvh = h % nHeadKV
			}
			p := scores[:n]
			for j := range p {
				p[j] = quant.VecDotF32(kc[j*kvd+kvh*hd:j*kvd+(kvh+1)*hd], qh)
			}
			softMax(p, scale)
			if roundF16Probs {
				roundF16(p)
			}
			// lanes[l·hd + i] is output i's accumulator lane l.
			clear(lanes)
			for j, pj := range p {
				l := j % nLanes
				axpy(lanes[l*hd:(l+1)*hd], vc[j*kvd+kvh*hd:j*kvd+(kvh+1)*hd], pj)
			}
			out := dst[t*qd+h*hd : t*qd+(h+1)*hd]
			var acc [64]float32
			for i := range out {
				for l := 0; l < nLanes; l++ {
					acc[l] = lanes[l*hd+i]
				}
				if nLanes == 16 {
					out[i] = reduceAdd16((*[16]float32)(acc[:16]))
				} else {
					out[i] = reduceVecDot(&acc)
				}
			}
		}
	})
	return buf
}

// softMax turns the visible scores of one row into probabilities in place,
// as ggml_compute_forward_soft_max_f32 does with a causal mask (slope 1,
// no ALiBi, no sinks): p·scale, max, ggml_v_expf(p − max) on 16-wide
// chunks each summed with _mm512_reduce_add_ps into a float64 total, then
// p·(float)(1/total). The masked tail of the n_kv-long row contributes
// exact zeros to every step, so it is left out; a partial last chunk is
// padded with those zeros.
func softMax(p []float32, scale float32) {
	max := float32(math.Inf(-1))
	for i := range p {
		p[i] *= scale
		if p[i] > max {
			max = p[i]
		}
	}
	var sum float64
	for c := 0; c < len(p); c += 16 {
		var chunk [16]float32
		for l := 0; l < 16 && c+l < len(p); l++ {
			chunk[l] = vExpf(p[c+l] - max)
			p[c+l] = chunk[l]
		}
		sum += float64(reduceAdd16(&chunk))
	}
	inv := float32(1 / sum)
	for i := range p {
		p[i] *= inv
	}
}
