// Package runtimes is the door to everything that computes a forward pass:
// the Runtime interface both in-repo engines and the llama.cpp adapter
// implement, Open(path, engine) which picks the file format and the engine,
// and Describe, which reports what a model file holds (parity inspect).
//
// Its subpackages hold the file formats (gguf, apr), the shared type table
// (ggml), the kernels (quant), the model view (model), the tokenizers, the
// engines and the fixtures. Nothing under runtimes imports diff or reports:
// the engines compute and record, they never judge.
package runtimes
