// Package probes holds what a runtime records about one forward pass and
// how it is stored:
//
//   - the slot catalog: the canonical capture points (Slot, SlotInfo) in
//     execution order, each with the model dimension its per-token size
//     derives from, its llama.cpp graph node(s) and its seed slot;
//   - Policy: which slots, layers, steps and positions to capture, stats
//     only or full tensors, and the flag parsers behind it;
//   - Recorder: what the engines call at every capture point;
//   - Trace, Header and Record, with the reconciliation helpers the diff
//     needs (Record.Restrict, Record.FullRows, CommonPositions);
//   - the trace file codec (WriteFile, ReadFile).
//
// It must not know any engine, compare two traces or decide a verdict:
// that is package diff. It imports stats and, for the sidecar container
// only, runtimes/gguf (with runtimes/ggml for the F32 type id).
//
// # Why per-position statistics
//
// The seed's parity check compared the std of a tensor over 7 prompt
// tokens on one side with the std over the last token on the other and
// reported an 18.23× divergence that was only a difference of samples.
// Every record here therefore carries one summary per token position next
// to the aggregate, and the aggregate is by construction the ordered merge
// of those (stats.MergeAll in row order; Validate checks it bit for bit).
// A diff can restrict both sides to their common positions after the fact
// (Record.Restrict), and must refuse when it cannot.
//
// # Trace file format, version 1
//
// A trace is two files side by side:
//
//	NAME.trace.jsonl.zst   the trace: zstd-compressed JSON Lines
//	NAME.tensors.gguf      full tensors, only if some record kept them
//
// The trace file is a single zstd frame (klauspost/compress: level
// SpeedDefault, one encoder goroutine, 8 MiB window, content checksum on,
// no dictionary; these fixed settings make equal traces give equal bytes
// with a given library version). Decompressed, it is UTF-8 text of
// '\n'-terminated lines, each one JSON object; no blank lines.
//
// Line 1 is the header:
//
//	{"format":"parity-trace","version":1,"records":N,
//	 "tensors":{"file":"NAME.tensors.gguf","size":BYTES,"sha256":HEX},   (only with a sidecar)
//	 "runtime":"parity","engine":"gguf","engine_options":{"k":"v"},      (keys sorted)
//	 "model":{"path":P,"size":BYTES,"sha256":HEX,"arch":"qwen2",
//	          "dims":{"n_embd":896,"n_layer":24,"n_head":14,"n_head_kv":2,"head_dim":64,
//	                  "n_ff":4864,"n_vocab":151936}},                    (+ n_expert, n_expert_used for MoE)
//	 "tokens":[ids],"prompt_len":7,"tokens_sha256":HEX,
//	 "policy":{"slots":["q","k"],"layers":"0-3","steps":"0","positions":"all","mode":"stats","head":8},
//	 "tool":"parity v0.1.0","created":"2026-…"}                          (both optional)
//
// "records" is the number of lines that follow, so a truncated file is
// detected. "tokens" lists every id fed, prompt first, then one per decode
// step; "tokens_sha256" is the hex SHA-256 of those ids as little-endian
// int32s (TokenHash). The policy's integer lists use the compact syntax
// of ParseInts ("0-3,7"); empty lists (= all) are omitted.
//
// Every further line is one record, keys in this order, optional ones
// omitted when empty or false:
//
//	{"step":0,"layer":3,"slot":"q","positions":"0-6","per_token":896,"count":6272,
//	 "stats":SUMMARY,"per_pos":[SUMMARY,…],"head":[0.25,-1.5,…],"tensor":"s0.l3.q",
//	 "partial":true,"sum":12.5,"known":[[0,0.25],[895,"NaN"]],"derived":true,"note":"…"}
//
// where:
//
//   - layer is −1 for global slots (embed, final_norm, logits); slot is the
//     canonical name.
//   - positions lists the token positions of the rows, in row order, in
//     the ParseInts syntax (runs of consecutive ascending positions as
//     "a-b"). Row i of the tensor is position positions[i].
//   - count = len(positions) × per_token.
//   - SUMMARY is stats.Summary's JSON object (see stats.Summary.AppendJSON):
//     count, nan, inf, zero, mean, m2, min, max, sum_sq. stats is omitted
//     exactly for partial records.
//   - head holds the first values of the row-major tensor; known holds
//     [flat index, value] pairs of a partial record, indices increasing;
//     sum is the sum a partial record's runtime reported.
//   - Floats are JSON numbers in the shortest form that reads back to the
//     same bits (float32 precision for values, min and max), and the
//     strings "NaN", "+Inf", "-Inf" where JSON has no number.
//   - tensor names the record's full tensor in the sidecar; it is always
//     "s<step>.l<layer>.<slot>", or "s<step>.<slot>" for global slots.
//
// Keys (step, layer, slot) are unique. Records appear in capture order,
// which for our engines is execution order (CompareOrder).
//
// The sidecar is a GGUF v3 file written by runtimes/gguf, with KVs
// parity.trace.kind = "tensors" and parity.trace.version = 1, and one F32
// tensor per record that kept its full tensor, in record order, with dims
// [per_token, len(positions)] (ne[0] first), i.e. the row-major tensor
// above. The header pins its size and SHA-256, so a sidecar from another
// run is refused rather than silently paired.
//
// Readers ignore unknown keys, so a later version may add fields older
// readers can skip; any change they must not skip bumps "version", and a
// reader refuses versions it does not know.
//
// # Reader guarantees
//
// ReadFile validates everything above (header first, known format and
// version, token hash, each record against the header via
// Record.Validate, record count, sidecar identity and tensor shapes) and
// returns an error, typically a *FormatError with line and offset, for any
// malformed input; it never panics. Allocation is bounded: a line may not
// exceed 64 MiB, the decompressed stream may not exceed 1 MiB plus 1024
// bytes per compressed byte, the zstd window is capped at 16 MiB, the
// record count a header announces reserves nothing, a record cannot list
// more positions than the header has tokens, a policy list is at most
// MaxList long, and full tensors are only read from the sidecar file,
// whose size bounds them. Apart from the policy lists, what a file makes
// the reader allocate is a small multiple of the decompressed bytes it
// reads.
package probes
