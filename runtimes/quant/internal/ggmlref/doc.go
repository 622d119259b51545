// Package ggmlref loads ggml's own C quantization code into the test
// process so that runtimes/quant can be checked against it bit for bit.
//
// It is opt-in: everything but this file needs the build tag ggmlref, cgo,
// linux/amd64 and gcc, and its test needs LLAMA_CPP_DIR pointing at a
// llama.cpp source tree (commit 3f545bec). Build compiles the relevant C
// files into a shared library the way a CMake Release build compiles them:
//
//   - ggml/src/ggml-quants.c (ggml-base): -O3, baseline x86-64, so no FMA
//     and no contraction, exactly what llama-quantize runs;
//   - ggml/src/ggml-cpu/arch/x86/quants.c: -O3 -mavx2 -mfma -mf16c, for
//     quantize_row_q8_0/q8_1 and the AVX2 dot kernels;
//   - ggml/src/ggml-cpu/quants.c: the same flags plus -ffp-contract=off,
//     for the ggml_vec_dot_*_generic kernels in source order;
//   - a few stubs (ggml_abort, ggml_row_size, the fp16 table, fp16
//     conversion wrappers).
//
// Load opens it with dlopen. Run:
//
//	LLAMA_CPP_DIR=/path/to/llama.cpp go test -tags ggmlref ./runtimes/quant/internal/ggmlref
//
// It must stay out of every default build and must not be imported by
// non-test code.
package ggmlref
