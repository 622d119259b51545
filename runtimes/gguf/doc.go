// Package gguf reads and writes GGUF files (versions 2 and 3), the container
// llama.cpp stores models and vocabularies in.
//
// The reader, [Open], maps the file into memory and validates it the way
// llama.cpp's gguf.cpp loader does, so a file this package accepts is one
// llama.cpp would load and a file it rejects fails with a *[FormatError]
// carrying the byte offset of the offending field. Tensor data is never
// copied: [File.TensorData] returns a view into the mapping. [Parse] does
// the same over a byte slice, for tests and fuzzing.
//
// The writer, [Writer], lays a file out exactly as llama.cpp's gguf writer
// does (KVs and tensors in the order given, zero padding to the alignment),
// so reading a file and writing it back reproduces it byte for byte. The
// format itself is described in format.go.
//
// The package knows the container only: it does not interpret tensor bytes
// (runtimes/quant does), does not know what the keys mean (runtimes/model
// does), and imports nothing of this project but runtimes/ggml, for the
// tensor type table. A hostile file must yield an error, never a panic or an
// allocation beyond a small multiple of the file's size.
package gguf
