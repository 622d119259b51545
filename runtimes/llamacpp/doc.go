// Package llamacpp puts the user's own llama.cpp build beside parity's
// engines as a reference runtime (engine "llamacpp"), run as a subprocess.
//
// It holds:
//
//   - Runtime (Open, Run): runs a GGUF model through llama.cpp and feeds a
//     probes.Recorder, so that `parity trace --engine llamacpp` writes an
//     ordinary trace. Two kinds of program, told apart by file name:
//   - the project's dumper, llama-dump (C++ in dumper/, against llama.h's
//     public API, built by `make llama-dump LLAMA_CPP_DIR=…`): token ids in,
//     every slot's whole tensor out, at every decode step (full mode);
//   - stock llama-eval-callback or llama-debug --no-warmup: the prompt only,
//     tokenized by llama.cpp itself (the run is refused unless it produced
//     the requested ids), and of each tensor the printed first/last values
//     and a float32 sum, which become partial records (probes.Record.Partial:
//     Known elements at their flat indices, Sum, no statistics).
//   - The dump format (ReadDump, ReadNPY: index.tsv + .npy, as recorded in
//     ../shared/llamacpp) and the stock text format (ParseText, with
//     detection of output cut short by llama.cpp's logger at exit).
//   - The name mapping (MapNodes): llama.cpp graph names, picked by op and
//     occurrence, to parity slots per architecture, driven by the probes
//     catalog (probes.LlamaCppNode). qwen's unnamed o_proj output is read
//     from the stock node_N by its weight, or derived from a dump as
//     ffn_inp − layer input (marked Derived); slots llama.cpp fuses away
//     (ffn_act) are reported unavailable; unknown names are reported, not
//     guessed at.
//   - Positions exactly as llama.cpp computed them (RowPositions): in the
//     last layer after attention, and for the final norm and logits, only
//     the output rows exist unless every logit was requested, and each
//     record says so, so that a diff reconciles or refuses.
//   - Modes: "exact" (-fa off -ctk f32 -ctv f32 and, for the dumper, every
//     prompt position's logits: f32 attention, the reference for an f32
//     engine) and "default" (llama.cpp's defaults).
//
// It must not link llama.cpp or load its libraries into parity: a crashing
// or hanging build is an error message (binary not found with how to build
// it, exit status with the end of stderr, timeout and cancellation killing
// the whole process group), never a crash of parity. It must not download
// or build llama.cpp, compare traces (package diff) or render anything.
// It imports probes, and runtimes/model for the model's configuration and
// tokenizer only.
package llamacpp
