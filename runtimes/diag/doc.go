// Package diag holds the checks to run before bisecting two runtimes: the
// seed team's one-off diagnostics (diag_compare_embedding,
// diag_compare_rmsnorm_layer0) made first-class and general.
//
//   - CompareEmbedding: are the token embedding tables the same, and are
//     the rows this prompt reads the same? Whole-table bytes and values,
//     then per prompt token both rows' statistics (n, mean, population
//     std, min, max) and their largest difference, in bands: identical
//     < 1e-6 ≤ quantization rounding < 1e-3 ≤ suspicious < 1e-1 ≤ defect.
//   - CompareWeights: every tensor paired through the GGUF ↔ Hugging Face
//     name map, shapes reconciled (model.Weights gives both formats in
//     ggml order), and judged bit-identical, equal after dequant, within
//     quantization noise (an NMSE budget per encoding, nmseBudget), or one
//     of the layout traps — rope permutation (llama.cpp's q/k permute),
//     transposed, reshaped — before "different". Unpaired tensors are
//     listed.
//   - CompareOp: one operation of one layer, replayed by two engines on the
//     same recorded input (engine A's activations), so the difference is the
//     op's own, not inherited drift; per position max |diff|, relative
//     difference and both sides' std.
//
// Every comparison dequantizes to f32 (a block of rows at a time, so a
// large table costs two small buffers) and compares bytes first where both
// sides store the same encoding. Results are plain structs with JSON tags;
// non-finite numbers survive JSON as strings (Float).
//
// Operation mapping for CompareOp (Ops, OpSlots):
//
//	rmsnorm   → attn_norm          (from the layer input: embed, or the previous layer's out)
//	rope      → q_rope and k_rope  (from q, k; q_norm, k_norm on qwen3)
//	attention → attn_ctx           (from q_rope, k_rope, v)
//	softmax   → attn_ctx           (the softmax has no slot of its own)
//	matmul    → q                  (from attn_norm; OpOptions.Slot picks any other slot)
//	swiglu    → ffn_swiglu         (from ffn_act, ffn_up)
//
// Each result renders itself (Write): a terminal section with tables, or a
// markdown section for a pull request. Package reports renders diff
// results and imports no runtime, and runtimes must not import reports, so
// the two meet through interfaces: cmd/parity passes reports.Painter and
// reports.NewTable in RenderOptions.
//
// The package must not import diff or reports. It reads models only
// through runtimes/model and replays operations only through the engines'
// own ReplayOp, never a copy of their arithmetic.
package diag
