package ggufengine

import (
	"math"

	"github.com/layerwise/parity/runtimes/quant"

	"github.com/layerwise/parity/runtimes/fp32"
)

// This file reproduces ggml-cpu's flash attention,
// ggml_compute_forward_flash_attn_ext_f16 (ops.cpp at llama.cpp 3f545bec),
// as the machine that recorded ../shared/llamacpp ran it: AVX-512F/DQ
// without AVX512-FP16 arithmetic, GCC 12 -O3 -march=native, 2 threads.
// llama.cpp uses it by default on CPU (-fa auto resolves to on), and
// build_attn_mha hands it K and V as f16 — the f16 cache itself, or an
// f32 cache cast to f16 — so with flash attention the cache type makes no
// difference. The mask is causal (0 or −Inf, in f16); no ALiBi, softcap or
// sinks.
//
// ggml picks one of three kernels per FLASH_ATTN_EXT node:
//
//   - split-KV, for a single query row (decode) with n_kv ≥ 512: the n_kv
//     cells are cut into one chunk per thread, each chunk runs the
//     one-chunk loop below without the final division, and the partial
//     (M, S, VKQ) triples are merged in chunk order (flashReduce). The
//     result depends on the thread count; flashThreads fixes it to the
//     recording's.
//   - tiled, for 64 or more query rows (GGML_FA_TILE_Q) when the head
//     dimension is a multiple of 16 (GGML_F32_EPR): Q stays f32, K and V
//     are widened from f16, and scores and V sums are f32 FMA chains over
//     tiles of 64 cells (flashTiledRow).
//   - one-chunk otherwise (flashOneChunkRow): Q rounded to f16, f16 dot
//     products, online softmax one cell at a time, V accumulated in an f16
//     buffer.
//
// Every query row is computed on its own in all three (rows share tiles in
// the tiled kernel, but a row's arithmetic never depends on its tile
// mates), so the row loop here need not follow ggml's chunking.
//
// Verified bit for bit: all three kernels against ggml's compiled
// ggml_flash_attn_ext on random inputs (flashattn_test.go), and the
// one-chunk kernel against every kqv_out of the default-mode recordings,
// whose short prompts and n_kv of 256 never reach the other two
// (flashattn_dump_test.go).
//
// An AVX2-only build differs: 8-lane vectors throughout (the f16 dot has
// four 8-lane accumulators, ggml_vec_mad_f16 and ggml_vec_scale_f16 step
// by 32 with 8-element leftovers, ggml_v_expf is the AVX2 variant, the
// softmax sums 8-lane chunks), and the tiled kernel needs a head dimension
// that is a multiple of 8. On a CPU with AVX512-FP16 (enabled by
// -march=native there), the f16 vector kernels compute in f16 instead.

// flashThreads is the thread count of the recordings (-t 2). Only the
// split-KV kernel depends on it: thread i takes the i-th of flashThreads
// chunks of ceil(n_kv/flashThreads) cells.
const flashThreads = 2

// flashTile is GGML_FA_TILE_Q and GGML_FA_TILE_KV: the tiled kernel takes
// at least this many query rows and walks the cells in tiles of this size.
const flashTile = 64

// flashAttend computes the attention output of T query rows at positions
// pos0..pos0+T−1 over the first pos0+T rows of the KV cache, as
// ggml_compute_forward_flash_attn_ext_f16 does for an n_kv-cell view of
// an f16 cache (see the file comment for the kernel choice). kc and vc
// must hold f16 values (the engine rounds them on store when flash
// attention is on); q is f32 and is left unchanged.
//
// q and dst are [T × n_head·hd]; kc and vc hold at least pos0+T rows of
// n_head_kv·hd. nKV is llama.cpp's n_kv for the step (flashNKV); it only
// moves the split-KV chunk boundaries. gqaMod maps query head h to KV head
// h mod n_head_kv (the GQAMap fault) instead of h/(n_head/n_head_kv). buf
// is a reusable buffer, returned grown.
func flashAttend(dst, q, kc, vc []float32, T, pos0, nHead, nHeadKV, hd, nKV int, scale float32, gqaMod bool, buf []float32) []float32 {
	qd, kvd := nHead*hd, nHeadKV*hd
	group := nHead / nHeadKV
	if need := (2 + flashThreads) * hd; cap(buf) < need {
		buf = make([]float32, need)
	}
	q16, acc, parts := buf[:hd], buf[hd:2*hd], buf[2*hd:(2+flashThreads)*hd]
	tiled := T >= flashTile && hd%16 == 0
	split := T == 1 && nKV >= 512
	for t := 0; t < T; t++ {
		n := pos0 + t + 1 // cells visible to this query
		for h := 0; h < nHead; h++ {
			kvh := h / group
			if gqaMod {
				kvh = h % nHeadKV
			}
			qh := q[t*qd+h*hd : t*qd+(h+1)*hd]
			out := dst[t*qd+h*hd : t*qd+(h+1)*hd]
			k, v := kc[kvh*hd:], vc[kvh*hd:]
			switch {
			case tiled:
				flashTiledRow(out, qh, k, v, kvd, n, scale)
			case split:
				copy(q16, qh)
				roundF16(q16)
				chunk := (nKV + flashThreads - 1) / flashThreads
				var m, s [flashThreads]float32
				for i := range flashThreads {
					p := parts[i*hd : (i+1)*hd]
					m[i], s[i] = flashOneChunkRow(p, q16, k, v, kvd, i*chunk, min((i+1)*chunk, n), scale)
				}
				flashReduce(out, parts, m[:], s[:])
			default:
				copy(q16, qh)
				roundF16(q16)
				_, s := flashOneChunkRow(acc, q16, k, v, kvd, 0, n, scale)
				// V /= S, by a multiplication with the f32 reciprocal
				// (ggml_vec_scale_f32).
				inv := float32(0)
				if s != 0 {
					inv = 1 / s
				}
				for i, a := range acc {
					out[i] = a * inv
				}
			}
		}
	}
	return buf
}

// flashNKV is llama.cpp's n_kv for a step that ends with nTot cells in use
// (llama_kv_cache::get_n_kv): the used cells padded to 256. It would be
// capped at the cache size, but llama_context pads that to 256 as well,
// and it holds at least nTot cells.
func flashNKV(nTot int) int {
	return max(256, (nTot+255)/256*256)
}

// flashOneChunkRow is the loop of ggml_compute_forward_flash_attn_ext_f16_one_chunk
// for one query row over cells lo..hi−1, all of them visible (masked cells
// are skipped by the kernel, so they never enter the arithmetic). q16 is
// the query rounded to f16 (the F16 vec_dot_type's from_float); acc
// receives the unnormalised VKQ, f16 values widened to f32; M and S are
// the running maximum and sum. For each cell:
//
//	s  = ggml_vec_dot_f16(k, q16) · scale (+ the mask's 0)
//	if s > M: M = s, ms = expf(Mold − M), VKQ16 ·= ms (ggml_vec_scale_f16)
//	else:     vs = expf(s − M)
//	VKQ16 += v · vs (ggml_vec_mad_f16)
//	S = S·ms + vs
//
// with expf glibc's, and the last line contracted into one FMA by GCC. An
// empty range gives M = −Inf, S = 0 and a zero acc, as ggml's partials of
// a fully masked chunk.
func flashOneChunkRow(acc, q16, k, v []float32, stride, lo, hi int, scale float32) (M, S float32) {
	hd := len(acc)
	M = float32(math.Inf(-1))
	clear(acc)
	for j := lo; j < hi; j++ {
		s := vecDotF16(k[j*stride:j*stride+hd], q16) * scale
		ms, vs := float32(1), float32(1)
		if s > M {
			ms = glibcExpf(M - s)
			M = s
			scaleF16(acc, ms)
		} else {
			vs = glibcExpf(s - M)
		}
		madF16(acc, v[j*stride:j*stride+hd], vs)
		S = fp32.FMA(S, ms, vs)
	}
	return M, S
}

// flashReduce is ggml_flash_attn_ext_reduce_partials for one query head:
// the chunks' (M, S, VKQ) in chunk order, chunks with S = 0 skipped, each
// merged as
//
//	M' = fmaxf(M, Mc), a = expf(M − M'), b = expf(Mc − M')
//	VKQ = VKQ·a + VKQc·b, S = S·a + Sc·b
//
// (GCC contracts the first product of each line into an FMA), then VKQ is
// multiplied by 1/S unless S = 0. parts holds the chunks' VKQ, hd values
// each; dst receives the result.
func flashReduce(dst, parts, m, s []float32) {
	hd := len(dst)
	M, S := float32(math.Inf(-1)), float32(0)
	clear(dst)
	for c := range m {
		if s[c] == 0 {
			continue
		}
		mn := max(M, m[c])
		a, b := glibcExpf(M-mn), glibcExpf(m[c]-mn)
		for i, p := range parts[c*hd : (c+1)*hd] {
			dst[i] = fp32.FMA(dst[i], a, float32(p*b))
		}
		S = fp32.FMA(S, a, float32(s[c]*b))
		M = mn
	}
	if S != 0 {
		inv := 1 / S
		for i := range dst {
			dst[i] *= inv
		}
	}
}

// flashTiledRow is ggml_compute_forward_flash_attn_ext_tiled for one query
// row whose first n cells are visible. Cells are walked in tiles of 64
// from cell 0; for each tile with a visible cell:
//
//	kq[c] = (FMA chain over d of q[d]·k_c[d], from 0) · scale, −Inf if masked
//	M' = fmaxf(M, max kq); if M' > M: VKQ ·= ms, S ·= ms, ms = expf(M − M')
//	p = ggml_v_expf(kq − M') in 16-lane chunks, S = (float)(S + Σ chunks)
//	VKQ[d] = FMA chain over c of p[c]·v_c[d], continuing VKQ[d]
//
// simd_gemm keeps one FMA accumulator per output element, so its blocking
// does not show; masked cells have p = 0 and add nothing. At the end VKQ
// is multiplied by 1/S. q is f32 here: the tiled kernel does not round it.
func flashTiledRow(dst, q, k, v []float32, stride, n int, scale float32) {
	hd := len(dst)
	M, S := float32(math.Inf(-1)), float32(0)
	clear(dst)
	var kq [flashTile]float32
	for ic := 0; ic < n; ic += flashTile {
		vis := min(flashTile, n-ic)
		tileMax := float32(math.Inf(-1))
		for c := range kq {
			kq[c] = float32(math.Inf(-1))
			if c >= vis {
				continue
			}
			kr := k[(ic+c)*stride : (ic+c)*stride+hd]
			var a float32
			for d, x := range q {
				a = fp32.FMA(x, kr[d], a)
			}
			kq[c] = a * scale
			tileMax = max(tileMax, kq[c])
		}
		if mn := max(M, tileMax); mn > M {
			ms := glibcExpf(M - mn)
			for i := range dst {
				dst[i] *= ms
			}
			S *= ms
			M = mn
		}
		var sum float64
		for c := 0; c < vis; c += 16 {
			chunk := (*[16]float32)(kq[c:])
			for l := range chunk {
				chunk[l] = vExpf(chunk[l] - M)
			}
			sum += float64(reduceAdd16(chunk))
		}
		S = float32(float64(S) + sum)
		for c, p := range kq[:vis] {
			vr := v[(ic+c)*stride : (ic+c)*stride+hd]
			for d, x := range vr {
				fmaLane(&dst[d], x, p)
			}
		}
	}
	inv := float32(0)
	if S != 0 {
		inv = 1 / S
	}
	for i := range dst {
		dst[i] *= inv
	}
}

// vecDotF16 is ggml_vec_dot_f16 (vec.cpp) on the AVX-512F build without
// AVX512-FP16 arithmetic, over values that are f16 already: the first
// n&^63 products go by FMA into four 16-lane f32 accumulators (lane i%64)
// reduced like ggml_vec_dot_f32's, the total is a double, and each
// leftover adds (double)(float)(x·y); the result is rounded to float.
func vecDotF16(x, y []float32) float32 {
	n := len(x)
	np := n &^ 63
	var sum float64
	if np > 0 {
		var acc [64]float32
		for i := 0; i < np; i++ {
			fmaLane(&acc[i&63], x[i], y[i])
		}
		sum = float64(reduceVecDot(&acc))
	}
	for i := np; i < n; i++ {
		sum += float64(float32(x[i] * y[i]))
	}
	return float32(sum)
}

// madF16 is ggml_vec_mad_f16 on y and x holding f16 values: y = f16(x·v +
// y), an f32 FMA rounded to f16 (vcvtps2ph, nearest even), for the first
// len&^63 elements (GGML_F16_STEP); the scalar leftovers compute
// f16(y + x·v), which GCC contracts the same way.
func madF16(y, x []float32, v float32) {
	for i, xi := range x[:len(y)] {
		y[i] = f16Round(fp32.FMA(xi, v, y[i]))
	}
}

// scaleF16 is ggml_vec_scale_f16 on y holding f16 values: y = f16(y·v),
// the f32 product rounded to f16, in the vector loop and the leftovers
// alike.
func scaleF16(y []float32, v float32) {
	for i, yi := range y {
		y[i] = f16Round(yi * v)
	}
}

// f16Round rounds x to the nearest f16 value (ties to even), as vcvtps2ph
// with rounding mode 0 and ggml's scalar GGML_CPU_FP32_TO_FP16 do.
func f16Round(x float32) float32 { return quant.FP16ToFP32(quant.FP32ToFP16(x)) }
