// Package ggml holds the ggml tensor type table: the numeric ids that GGUF
// and APR files store, the canonical type names, and each type's block size
// and bytes per block.
//
// It is the vocabulary shared by the file formats (runtimes/gguf,
// runtimes/apr) and the kernels (runtimes/quant). It knows nothing about
// how a block is laid out inside: that is runtimes/quant's business. It must
// import nothing from this project.
package ggml
