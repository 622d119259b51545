// Package convert turns a GGUF model into an APR v2 file the way aprender's
// `apr import model.gguf -o model.apr` does, so that the APR side of a
// parity comparison holds the same weights realizar would load. Running one
// engine on both files then separates a conversion bug from an engine bug.
//
// What a conversion does (apr-v2.md §9–§10):
//
//   - Names. qwen2 and qwen3 tensors are renamed to their Hugging Face names
//     (blk.0.attn_q.weight → model.layers.0.self_attn.q_proj.weight,
//     token_embd.weight → model.embed_tokens.weight, ...); names without a
//     known role are kept. llama and mistral keep their GGUF names
//     (aprender's identity mapper for the llama family).
//   - Shapes. A 2-D GGUF shape [ne0, ne1] becomes [ne1, ne0] ([out, in]);
//     1-D and ≥ 3-D shapes are kept. The bytes are never transposed: GGUF
//     data is already row-major over [ne1, ne0].
//   - Types. F32, F16, BF16, Q4_K and Q6_K payloads are copied byte for
//     byte. Every other type runtimes/quant can dequantize (Q8_0, Q4_0,
//     Q5_0, Q5_K, ...) is dequantized to f32 and written per
//     Options.Quantize: f32, f16, q4k (ggml Q4_K, rows zero-padded to 256),
//     apr-q8 or apr-q4. The integer modes keep norms, biases and tensors of
//     fewer than 1024 elements in F32 (aprender's should_skip_quantization);
//     f16 converts everything, as aprender's does.
//   - Tied embeddings. A model without output.weight gets a copy of the
//     embedding as lm_head.weight and the custom key tied_embeddings: true.
//   - Metadata. The typed dimensions (hidden_size, num_layers, num_heads,
//     num_kv_heads, vocab_size, intermediate_size, max_position_embeddings,
//     rope_theta, rope_type, rms_norm_eps, head_dim) from the resolved
//     model.Config, the dotted model.* duplicates, tensor_shapes, and the
//     tokenizer (model.TokenizerToAPR), so that model.OpenAPR on the result
//     yields the same Config and tokenizer as model.OpenGGUF on the source.
//
// Where this differs from aprender, on purpose:
//
//   - aprender's raw import fails on the first tensor it cannot copy and
//     then re-imports the whole model through f32 (GH-375), so one Q8_0
//     tensor costs the Q4_K/Q6_K ones their original bytes too. Here the
//     decision is per tensor: whatever can be copied is.
//   - aprender refuses BF16, Q2_K, Q3_K and the IQ types; they convert here
//     (BF16 is copied; APR has a BF16 dtype).
//   - Q4_K blocks come from llama.cpp's reference quantizer, not aprender's
//     (valid Q4_K, different bytes); APR-Q8/Q4 and f16 are aprender's
//     encodings exactly.
//   - A model the engines cannot run (unsupported architecture, missing or
//     misshapen tensor, RoPE scaling APR metadata cannot express) is
//     refused rather than converted.
//
// The package must not read or write anything but the files it is given,
// must not implement a file format (runtimes/gguf, runtimes/apr) or a block
// codec (runtimes/quant, runtimes/apr), and must not know architecture
// details beyond the naming rule: shapes and roles come from runtimes/model.
package convert
