// Package fp32 holds the float32 arithmetic Go lacks and parity's
// engines and kernels need bit for bit: a fused multiply-add rounded once
// to float32, as vfmadd…ps computes it. ggufengine's emulation of ggml's
// SIMD kernels, quant's x86 kernel orders and aprengine's lane sums all
// define their results through it, so there is one implementation.
//
// It must not import anything of this project.
package fp32
