// Package ggufengine is parity's llama.cpp-faithful engine: it runs a
// model the way ggml-cpu does at llama.cpp commit 3f545bec with
// `-fa off -ctk f32 -ctv f32` (the "exact" mode), so that every slot it
// records can be compared with llama.cpp's own tensors to ~1e-8 NMSE.
//
// What "the way ggml-cpu does" means, operation by operation:
//   - matmuls keep weights in their stored type and quantize each activation
//     row to the weight type's vec_dot_type first (Q8_K for K-quants, Q8_0
//     for Q8_0/Q4_0/Q5_0/IQ4_NL, Q8_1 for Q4_1/Q5_1, F16 for F16), then take
//     block dot products with exact integer inner sums (runtimes/quant);
//   - RMSNorm sums f32 squares in float64, rounds the mean to f32 and scales
//     by 1.0f/sqrtf(mean+eps);
//   - RoPE builds θ by repeated f32 multiplication by base^(-2/n_rot), NORM
//     pairs for llama, NEOX pairs for qwen2/qwen3;
//   - attention is causal softmax(QKᵀ·scale)V in f32 with a float64
//     softmax sum; the KV cache is f32 by default, or rounded to f16 on
//     store (Options.KVType = F16, llama.cpp's default cache) in which case
//     Q and the probabilities are rounded to f16 before their dots, as the
//     non-flash path does; with Options.FlashAttn it is ggml-cpu's flash
//     attention instead (flashattn.go: f16 K/V, online softmax, the
//     one-chunk, tiled and split-KV kernels), which with the f16 cache is
//     llama.cpp's default mode;
//   - GQA maps query head h to KV head h / (n_head/n_head_kv).
//
// The engine processes a batch of tokens per call (the prompt in one batch,
// then one token per decode step) and appends to its KV cache. It calls the
// probes.Recorder at every capture point of the slot catalog, for every
// position of the step. It never judges what it computed.
//
// Speed never changes a bit: the matmuls run runtimes/quant's assembly
// twins (weights unpacked once per row tile for all token groups, row
// tiles handed to Options.Threads goroutines as they free up); attention
// runs its (row, head) pairs on GOMAXPROCS goroutines, its score dots are
// quant.VecDotF32 (ggml_vec_dot_f32, with quant's assembly), and its lane
// updates (axpy), like ggml_v_silu, have AVX2 assembly twins
// (simd_amd64.s) that keep every lane's FMA chain and every reduction
// tree; a Forward reuses the previous batch's activations when
// the batch size repeats, so a decode step allocates little more than the
// logits it returns. -tags noasm runs the Go versions.
package ggufengine
