// Package aprengine is parity's reference engine: a second, independent
// forward pass of the same models ggufengine runs, written as the textbook
// math rather than as a copy of ggml. It re-creates in spirit the upstream
// APR engine (realizar's AprTransformer::forward_traced: f32 dequantized
// weights, the whole prompt as one sequence, scalar math, RMSNorm dividing
// by the RMS) so that a trace of either file format can be compared against
// a computation that shares none of llama.cpp's numerical shortcuts.
//
// The numerics, exactly:
//   - Matmuls: weights stay in the file in their stored type and are
//     dequantized to f32 a block of whole rows at a time (TileFloats = 64 Ki
//     floats per tile, one tile per worker, reused) with the same
//     dequantizers llama.cpp's GET_ROWS uses; activations stay f32 (no
//     activation quantization). Each output is Σ w·x with every f32·f32
//     product exact in float64 and the sum in float64 (four interleaved
//     partial sums in a fixed order), rounded once to f32. No f32 copy of a
//     whole matrix ever exists: peak extra memory for weights is one tile
//     per worker, Threads × max(TileFloats, row length)·4 bytes (0.5 MiB
//     for two threads), plus the batch's activations widened to float64
//     once per matmul, and per worker the float64 partial sums of one
//     tile's outputs (rows · tokens · 32 bytes). On amd64 the dots run in
//     assembly, each output's four partial sums in the four float64 lanes
//     of one register (AVX2: two rows by four tokens; AVX-512: four by
//     four, over the columns in chunks of 512 so the activations stay in
//     cache): the same sums in the same order, the same bits. A prefill
//     is then bound by float64 FMA throughput: the semantics cost a
//     float64 multiply-add per weight and token, where ggml does int8 dot
//     products.
//     The price is time: every Forward dequantizes every matrix again, so a
//     decode step costs a full pass of dequantization (prefill amortizes
//     it over the batch).
//   - RMSNorm: y = x / sqrt(Σx²/n + eps) · w, squares and sum in float64,
//     dividing by the RMS (as the upstream APR engine does), one rounding.
//     The qwen3 per-head q/k norm is the same function over head_dim.
//   - RoPE: θ_i = pos · freq_scale · base^(−2i/n_rot) with math.Pow per
//     index, cos/sin and the rotation in float64; NORM (adjacent) pairs for
//     llama/mistral, NEOX (half-split) pairs for qwen2/qwen3, from
//     model.Config.Arch.Rope. Dimensions past n_rot are not rotated.
//   - Attention: causal, scale 1/√head_dim, query head h reads KV head
//     h/(n_head/n_head_kv). Scores, softmax (max-subtracted exp) and the
//     probability-weighted sum of V are all float64, so the softmax is a
//     float64 softmax; the KV cache holds f32 k (after RoPE) and v.
//   - SiLU x/(1+e^(−x)) in float64; SwiGLU silu(gate)·up, residual adds and
//     the qwen2 q/k/v bias adds in f32.
//   - Tied embeddings: the LM head is Weights.LMHead() (output.weight, else
//     token_embd).
//
// How this differs from ggufengine, and why that makes it a reference:
// ggufengine quantizes every activation row to the weight type's
// vec_dot_type (Q8_K, Q8_0, Q8_1, F16) before integer block dots,
// multiplies by a rounded 1/rms, builds RoPE angles by repeated f32
// multiplication and computes the softmax in f32 — all to reproduce
// llama.cpp bit for bit. This engine does none of that, so on an f32 model
// the two agree only as far as f32 arithmetic allows (≈1e-13 NMSE against
// llama.cpp's exact mode), and on a quantized model their difference is
// exactly the cost of activation quantization (≈5e-5 NMSE per matmul,
// 3e-4..1e-3 at the logits; see the tests for the measured tables). A divergence that also shows up here is in the
// model or the weights; one that does not is in the engine.
//
// Like ggufengine it runs a batch per call (the prompt in one batch, then
// one token per decode step), appends to a KV cache and returns the logits
// of every position of the batch; it calls the probes.Recorder at every
// slot of the catalog in the same execution order, for every position of
// the step. Results are bit-identical for every thread count, and a decode
// through the cache is bit-identical to a prefill of the whole sequence:
// every value of a position depends only on that position's row and the
// cached rows before it, each reduced by one goroutine in a fixed order.
//
// Each operation of a layer is a method of its own (attnNorm, project,
// qkNorm, rope, store, attention, activate), so the forward pass and
// replay run the same code. ReplayLayer runs one layer alone on a given
// layer input, and ReplayOp one operation on given input slots (teacher
// forcing: another run's recorded tensors), both over positions 0..T−1
// with a fresh cache and recorded as step 0, leaving the engine's cache
// alone; their results are bit-identical to the forward pass on the same
// inputs. Options.Faults plants the engine faults of runtimes/faults at
// their layer, as ggufengine plants them but in this engine's numerics:
// RMSEps (eps faults.WrongEps in the attention norm), SkipQKVBias, SkipQKNorm,
// RopeStyle, AttnScale (1/hd), GQAMap (h mod n_head_kv), GELU (tanh
// approximation, float64), KVF16 (K and V rounded to f16 on store, every
// step; the probabilities are not rounded, as there is no f16 product
// here), and on decode steps (step > 0) DecodeRopePos (rotate for p+1),
// SwapKV (K stored in the V cache and V in the K cache) and StaleKV (the
// new rows also overwrite the previous positions' rows).
//
// It must not import ggufengine or share its kernels (a differential tool
// needs two independent implementations), and it never judges what it
// computed.
package aprengine
