// Package diff lines two traces up and judges them: alignment by
// (step, layer, slot) in execution order, the sample-parity gate that
// refuses to compare statistics taken over different tokens, the metric
// ledger, verdicts and thresholds, and the first-divergence scan. Diff
// returns a Result that renderers (package reports) show without computing
// anything themselves.
//
// It reads traces (probes) and computes metrics (stats). It talks to
// engines only through interfaces it defines itself; it must never import
// a concrete runtime or a renderer (reports).
//
// # Token check
//
// Trace A is the reference. Both traces must have been fed the same prompt
// ids (same length, same ids), else the whole result is REFUSED naming the
// first differing position and both ids, and nothing is compared. Decode
// steps are paired while both runs fed the same id; from the first step
// whose fed id differs (two engines' greedy choices parting), every pair is
// REFUSED with that reason, and earlier steps are still compared. Steps
// only one trace ran, and records only one trace has, are left unpaired and
// counted in the Result's notes.
//
// # The sample-parity gate
//
// A pair is comparable only over the same token positions with the same
// elements per position. Different per-token sizes are always REFUSED. The
// Align policy decides the positions: auto compares the positions both
// records cover and notes "A covered 0-6, B covered 6; compared position
// 6" when that drops any; strict refuses any difference; last takes the
// step's last position; all requires every position of the step on both
// sides. Restricting a record uses its per-position summaries or its full
// rows; a record with neither can only be used over exactly the positions
// it covers. Whatever cannot be reconciled is REFUSED with the reason and
// the fix. A refused pair carries no metrics: only the gate builds the
// input the ledger accepts, so Pair.Metrics is nil exactly for REFUSED.
//
// # Metric ledger and verdicts
//
// Every comparable pair is judged by its slot's NMSE budget b (Threshold):
// PASS when the NMSE is at most b, WARN up to WarnFactor·b, FAIL beyond
// (NaN fails). The evidence decides what is measured:
//
//   - Full tensors on both sides: stats.Compare of B against A over exactly
//     the compared rows (NMSE, NMSEVar, cosine, SQNR, max abs diff with its
//     position and element, rel_diff), judged on NMSE; logits add KL and
//     top-1/top-5 agreement per position (reported, not judged: a top-1
//     flip on a near-tie is within the noise the budget allows). Non-finite
//     values that differ between the sides FAIL; identical ones are dropped
//     and the pair is at least WARN.
//   - Summaries only (weak evidence): std ratio B/A, mean shift in units of
//     A's std, both sides' moments, and NMSEBound = Σ_p n_p((Δmean_p)² +
//     (Δstd_p)²) / Σ_p Σx²_A,p over the compared positions p. Because
//     Σe² = n(mean(e)² + var(e)) and the population std is a seminorm
//     (|std(A+e) − std(A)| ≤ std(e)), every pair of tensors with these
//     summaries has an NMSE of at least NMSEBound. The bound is judged like
//     an NMSE: a FAIL on summaries is proof, a PASS only says the summaries
//     are consistent with the budget, and is labelled weak. This is the
//     std-ratio and mean-shift band, scaled by rms/std so that it can never
//     fail a pair the full tensors would pass.
//   - Partial records (llama.cpp's stock eval-callback text: a few printed
//     elements and a float32 sum): each printed element is checked against
//     the other side's full tensor with tolerance PrintTolerance (5e-5,
//     half the %.4f print step) + KnownSpread·√b·rms, and the mean from the
//     sum against the other side's mean with tolerance √b·rms (the same
//     one-sided bound as above) plus the float32 sum's worst-case error.
//     Without the other side's full tensor only the mean is checked. Always
//     weak; the printed sum covers all the record's positions, so a partial
//     record is never restricted.
//
// The first divergence is the first FAIL in execution order
// (probes.CompareOrder). The overall verdict is the worst pair's, REFUSED
// outranking FAIL, and REFUSED when nothing could be paired.
//
// # Decode path
//
// When both traces ran decode steps fed alike, Result.Decode regroups the
// pairs by step: at each step's last position the logits' KL, both
// argmaxes and the top-5 overlap; the step's first failing pair; the first
// step whose argmax differs (with B teacher-forced, the first token B would
// have generated differently); and the divergence rate over steps with a
// 95% Wilson score interval. CompareDecode is the check that needs no
// second runtime: one engine's prefill of the whole sequence against its
// decode through the KV cache, position by position (its doc gives the
// budgets and why).
//
// # Tolerance profiles
//
// ProfileExact gives every slot b = 1e-8, for two engines computing in
// f32 from the same weights: the APR and GGUF engines on f32 models
// (stories260K, tiny-qwen2-bpe-f32, tiny-qwen3-random-f32) differ by at
// most 6.6e-13 NMSE in any slot, four decades below. An engine that
// converts activations to f16 for F16 weights already reaches 7e-7
// (llama-2-tiny-random) and needs ProfileQuant.
//
// ProfileQuant (the default) is for an f32-activation engine against one
// that quantizes activations (llama.cpp's Q8_K/Q8_0 vec_dot path, as the
// GGUF engine does). Its budgets come from measuring that difference: the
// APR engine (A) against the GGUF engine (B) on the same file, full
// tensors, every position of five prompts (2 to 105 tokens, depending on
// the tokenizer) and of 4 or 8 greedy decode steps (up to the step where
// the two engines' greedy choices parted), on stories260K-Q8_0, tiny-qwen2-random-Q8_0,
// tiny-qwen2-random-Q4_K_M, tiny-qwen3-random-Q8_0,
// tiny-qwen3-random-Q4_K_M and tiny-qwen2-bpe-Q4_K_M. Worst NMSE per slot
// over all layers, steps and models (the noisiest model in brackets):
//
//	embed        0                     attn_resid   6.4e-4 (qwen2-bpe)
//	attn_norm    7.8e-4 (qwen2-bpe)    ffn_norm     6.1e-4 (qwen2-bpe)
//	q            8.7e-4 (qwen2-bpe)    ffn_gate     6.8e-4 (qwen2-bpe)
//	k, k_rope    1.07e-3 (qwen2-bpe)   ffn_up       7.2e-4 (qwen2-bpe)
//	v            1.15e-3 (stories-Q8)  ffn_act      7.4e-4 (qwen2-bpe)
//	q_norm       3.3e-4 (qwen3-Q4_K)   ffn_swiglu   1.62e-3 (qwen2-bpe)
//	k_norm       2.9e-4 (qwen3-Q4_K)   ffn_out      2.10e-3 (qwen2-bpe)
//	attn_ctx     1.22e-3 (stories-Q8)  out          1.04e-3 (qwen2-bpe)
//	attn_out     2.04e-3 (stories-Q8)  final_norm   1.03e-3 (qwen2-bpe)
//	                                   logits       1.16e-3 (qwen2-bpe)
//
// The logits' KL reached 7.9e-2 nats and the top-1 token flipped at 20
// positions of these random-weight models, all on near-ties. The budgets
// are about 3× the worst measurement of each slot family, rounded up, so a
// model noisier than these tiny ones still passes, and FAIL starts at
// about 30× the measured floor:
//
//	family                                              worst     budget  FAIL above
//	embed (both engines dequantize the same row)        0         1e-6    1e-5
//	attn_norm attn_resid ffn_norm out final_norm        1.04e-3   5e-3    5e-2
//	q k v q_norm k_norm q_rope k_rope                   1.15e-3   5e-3    5e-2
//	ffn_gate ffn_up ffn_act router_logits               7.4e-4    3e-3    3e-2
//	attn_ctx attn_out ffn_swiglu ffn_out moe_out        2.10e-3   1e-2    1e-1
//	logits                                              1.16e-3   5e-3    5e-2
//	expert_ids (discrete)                               –         0       0
//
// The floor grows with depth, since every layer adds its quantization noise
// to the residual stream; these models have 2 to 5 layers. For deep models
// a WARN band at the last layers is expected, and --threshold
// SLOTS=VALUE (globs over slot names, later overrides win) sets any budget.
package diff
