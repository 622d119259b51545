// Package quant implements ggml's block types in pure Go, bit-exact with
// ggml's C reference at llama.cpp commit 3f545bec: dequantization, the
// weight quantizers llama-quantize runs, the activation quantizers the CPU
// backend runs before a matrix multiplication, the dot products it pairs
// them with, and a matrix routine built from those pieces.
//
// What it mirrors:
//
//   - Dequantize: dequantize_row_* (ggml-quants.c) for F32, F16, BF16,
//     Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1, Q2_K…Q6_K, Q8_K, IQ4_NL, IQ4_XS.
//   - Quantize: ggml_quantize_chunk without an importance matrix, i.e.
//     quantize_row_{q4_0,q4_1,q5_0,q5_1,q8_0,q2_K,q3_K,q4_K,q5_K,q6_K}_ref
//     with their searches make_qx_quants, make_q3_quants and
//     make_qkx2_quants, and quantize_iq4_nl / quantize_iq4_xs
//     (quantize_row_iq4_nl_impl, ntry 7). Re-quantizing the F32 source of
//     a llama-quantize output reproduces its blocks byte for byte.
//   - QuantizeRow: type_traits_cpu[t].from_float (ggml-cpu.c) for the
//     vec_dot types as an x86 AVX2/F16C build runs them: quantize_row_q8_0
//     and quantize_row_q8_1 of ggml-cpu/arch/x86/quants.c (fp16 scale
//     amax/127, multiplier 127/amax, round half to even),
//     quantize_row_q8_K_ref, ggml_cpu_fp32_to_fp16 (vcvtps2ph) and
//     ggml_cpu_fp32_to_bf16.
//   - VecDotType / VecDot: type_traits_cpu's vec_dot_type and vec_dot,
//     following the scalar ggml_vec_dot_*_generic (ggml-cpu/quants.c) and
//     ggml_vec_dot_f32/f16/bf16 (vec.cpp); integer block sums are exact and
//     each kernel's doc states its float order and how an AVX2 build's
//     differs.
//   - MatMul: ggml_compute_forward_mul_mat's vec_dot path (convert each
//     activation row once, then one dot per output), threaded over rows
//     with a result independent of the thread count.
//   - Kernel.MatMul: the same with the float summation order of a chosen
//     ggml build. KernelGeneric is MatMul; KernelX86AVX512 emulates the
//     build that made the shared llama.cpp recordings (GCC, -march=native
//     AVX-512, llamafile's tinyBLAS, the CPU_REPACK Q4_K GEMM/GEMV and the
//     x86 SIMD dots) bit for bit, with a float32 FMA done in float64 with
//     round-to-odd (fma.go, x86.go, kernel.go).
//   - FP16ToFP32, FP32ToFP16, BF16ToFP32, FP32ToBF16: ggml-impl.h's
//     conversions and x86 F16C (they differ only in NaN payloads; see
//     fp16.go).
//
// Float arithmetic is float32 with one rounding per C operation, in C's
// order. ggml-quants.c lives in ggml-base, which is compiled for baseline
// x86-64 (no FMA), so the C compiler never contracts a*b+c there; this
// package writes float32(a*b) wherever Go could otherwise fuse, so results
// are the same on every GOARCH and GOAMD64 level. Contraction does matter:
// ggml-quants.c built with -march=haswell (gcc contracts by default) writes
// 241 of the 4480 Q4_K blocks and 4 of the 1152 Q6_K blocks of the
// tiny-qwen3 Q4_K_M fixture differently; the baseline build, and this
// package, reproduce all of them.
//
// Verification: the llama-quantize fixtures in ../shared/models/derived
// (acceptance_test.go), hand-built blocks, and internal/ggmlref, an opt-in
// test (build tag ggmlref, cgo, LLAMA_CPP_DIR) that compiles ggml's C
// quantization code and compares every quantizer, dequantizer, activation
// quantizer and generic dot with it bit for bit. KernelX86AVX512 is checked
// against outputs of the compiled ggml CPU backend stored in testdata
// (x86_test.go), and, in runtimes/ggufengine, against every matmul of the
// recorded llama.cpp dumps.
//
// Assembly (amd64, build tag !noasm, chosen at start-up with
// golang.org/x/sys/cpu): AVX2/FMA/F16C twins of KernelX86AVX512's Q4_K
// GEMV and four-token GEMM, Q6_K dot (one and four tokens), Q8_0 dot
// (one and four tokens), F32/F16 tinyBLAS and vec_dot orders, of the
// generic Q5_K×Q8_K and Q4_0×Q8_0 dots, of the Q8_K and Q8_0 activation
// quantizers, and of the F16, Q4_K and Q6_K dequantizers; on AVX-512 (F,
// BW, VL) with VNNI the Q4_K and Q8_0 four-token kernels read the
// tokens' activations interleaved (q8KInterleave4, q80Interleave4) and
// sum byte products with VPDPBUSD. The emulations are lane-structured
// (fixed lanes, one FMA per lane and element, fixed reduction trees), so
// the assembly uses the same lanes and the same instructions' rounding:
// it returns the Go kernels' bits exactly, NaN payloads aside (the
// *_amd64_test.go files check random and special values: signed zeros,
// subnormals, infinities, NaNs). Integer block sums are exact however the
// assembly forms them. -tags noasm, or a CPU without AVX2/FMA/F16C, runs
// the Go kernels. Macros shared by several .s files live in
// hsum_amd64.h (cmd/asm expands macros per file).
//
// What it must not do: import anything of this project but runtimes/ggml
// and runtimes/fp32 (and golang.org/x/sys/cpu); read files (callers hand it bytes);
// approximate (a kernel that cannot be bit-exact with its C counterpart
// documents the difference, as the dot kernels do for AVX2 summation
// order); let an assembly kernel differ from its Go twin by a bit.
// IQ1/IQ2/IQ3, TQ, MXFP4/NVFP4 and Q1_0/Q2_0 are not implemented; the
// functions return *UnsupportedError for them and for unknown type ids.
package quant
