// Package tokenizer turns a prompt into exactly the token ids llama.cpp
// produces for it, and ids back into text, over a plain vocabulary (Vocab).
//
// It implements the two tokenizer models small GGUF models use:
// SentencePiece (tokenizer.ggml.model "llama": score-ordered bigram merges
// with byte fallback, spm.go) and byte-level BPE ("gpt2": GPT-2's byte
// mapping, rank-ordered merges and the pre-tokenizer selected by
// tokenizer.ggml.pre, bpe.go and pretok.go). Special-token handling
// (special.go) and detokenization (detok.go) follow llama.cpp's
// llama-vocab.cpp at commit 3f545bec, including its quirks; each file says
// which ones. Character classes come from llama.cpp's Unicode 15.1 table,
// not from a regex engine (unicode.go).
//
// The contract is llama.cpp's output, not the reference tokenizers': where
// llama.cpp differs from SentencePiece or Hugging Face, this package differs
// too. It is checked against llama.cpp's test vectors by runtimes/model's
// tests.
//
// The package does no file access and imports nothing from this project:
// runtimes/model reads a Vocab out of a GGUF or APR file. It must not grow a
// dependency on either file format.
package tokenizer
