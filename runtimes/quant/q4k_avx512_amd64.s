//go:build !noasm

#include "textflag.h"

// AVX-512 (F, BW, VL) + VNNI kernel for the repacked Q4_K GEMM order
// (dotQ4_KGemm), four tokens per weight row. The activations of the four
// tokens come interleaved (q4KInterleave4): per block, for each 16-value
// slice s, the slice of token 0..3 side by side (so one 128-bit lane per
// token), then each token's eight sub-block sums of bsums as int16, then
// each token's scale four times. vpdpbusd then leaves, per token lane, four
// partial sums per sub-block, which are scaled and reduced to the exact
// isum and imin of each pair of sub-blocks, as integers; the float part is
// dotQ4_KGemm's chain, acc = fma(float(isum_sb), fp16(w.d)·a.d, acc) for
// sb = 0..3 and the same for the mins, one token per lane.

DATA scw0<>+0(SB)/8, $0x8000800080008000
DATA scw0<>+8(SB)/8, $0x8001800180018001
DATA scw0<>+16(SB)/8, $0x8000800080008000
DATA scw0<>+24(SB)/8, $0x8001800180018001
DATA scw0<>+32(SB)/8, $0x8000800080008000
DATA scw0<>+40(SB)/8, $0x8001800180018001
DATA scw0<>+48(SB)/8, $0x8000800080008000
DATA scw0<>+56(SB)/8, $0x8001800180018001
GLOBL scw0<>(SB), RODATA|NOPTR, $64
DATA scw1<>+0(SB)/8, $0x8002800280028002
DATA scw1<>+8(SB)/8, $0x8003800380038003
DATA scw1<>+16(SB)/8, $0x8002800280028002
DATA scw1<>+24(SB)/8, $0x8003800380038003
DATA scw1<>+32(SB)/8, $0x8002800280028002
DATA scw1<>+40(SB)/8, $0x8003800380038003
DATA scw1<>+48(SB)/8, $0x8002800280028002
DATA scw1<>+56(SB)/8, $0x8003800380038003
GLOBL scw1<>(SB), RODATA|NOPTR, $64
DATA scw2<>+0(SB)/8, $0x8004800480048004
DATA scw2<>+8(SB)/8, $0x8005800580058005
DATA scw2<>+16(SB)/8, $0x8004800480048004
DATA scw2<>+24(SB)/8, $0x8005800580058005
DATA scw2<>+32(SB)/8, $0x8004800480048004
DATA scw2<>+40(SB)/8, $0x8005800580058005
DATA scw2<>+48(SB)/8, $0x8004800480048004
DATA scw2<>+56(SB)/8, $0x8005800580058005
GLOBL scw2<>(SB), RODATA|NOPTR, $64
DATA scw3<>+0(SB)/8, $0x8006800680068006
DATA scw3<>+8(SB)/8, $0x8007800780078007
DATA scw3<>+16(SB)/8, $0x8006800680068006
DATA scw3<>+24(SB)/8, $0x8007800780078007
DATA scw3<>+32(SB)/8, $0x8006800680068006
DATA scw3<>+40(SB)/8, $0x8007800780078007
DATA scw3<>+48(SB)/8, $0x8006800680068006
DATA scw3<>+56(SB)/8, $0x8007800780078007
GLOBL scw3<>(SB), RODATA|NOPTR, $64
DATA lane0<>+0(SB)/8, $0x0000000400000000
DATA lane0<>+8(SB)/8, $0x0000000c00000008
DATA lane0<>+16(SB)/8, $0x0000000000000000
DATA lane0<>+24(SB)/8, $0x0000000000000000
DATA lane0<>+32(SB)/8, $0x0000000000000000
DATA lane0<>+40(SB)/8, $0x0000000000000000
DATA lane0<>+48(SB)/8, $0x0000000000000000
DATA lane0<>+56(SB)/8, $0x0000000000000000
GLOBL lane0<>(SB), RODATA|NOPTR, $64

DATA nib4z<>+0(SB)/4, $0x0f0f0f0f
GLOBL nib4z<>(SB), RODATA|NOPTR, $4

// CHUNKZ computes V_c (into vc) for chunk c: qs bytes at qoff and qoff+16,
// activation slices at 64·4c .. 64·(4c+3) (soff), scale mask m.
#define CHUNKZ(qoff, soff, m, vc) \
	VBROADCASTI32X4 qoff(SI), Z0           \
	VBROADCASTI32X4 qoff+16(SI), Z1        \
	VPANDD     Z31, Z0, Z2                 \
	VPSRLW     $4, Z0, Z0                  \
	VPANDD     Z31, Z0, Z0                 \
	VPANDD     Z31, Z1, Z3                 \
	VPSRLW     $4, Z1, Z1                  \
	VPANDD     Z31, Z1, Z1                 \
	VPXORD     Z4, Z4, Z4                  \
	VPXORD     Z5, Z5, Z5                  \
	VPDPBUSD   soff(R8), Z2, Z4            \
	VPDPBUSD   soff+64(R8), Z3, Z4         \
	VPDPBUSD   soff+128(R8), Z0, Z5        \
	VPDPBUSD   soff+192(R8), Z1, Z5        \
	VPACKSSDW  Z5, Z4, Z6                  \
	VPSHUFB    m<>(SB), Z30, Z7            \
	VPMADDWD   Z7, Z6, vc

// func q4KGemm4VNNI(w, ax *byte, nb int, dst *[4]float32)
TEXT ·q4KGemm4VNNI(SB), NOSPLIT, $0-32
	MOVQ w+0(FP), SI
	MOVQ ax+8(FP), R8
	MOVQ nb+16(FP), CX
	VPBROADCASTD nib4z<>(SB), Z31
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	TESTQ CX, CX
	JZ    zdone

zloop:
	// get_scale_min_k4 for the 8 sub-blocks: scales in AX, mins in R13.
	MOVL  4(SI), AX
	MOVL  8(SI), BX
	MOVL  12(SI), DX
	MOVL  DX, DI
	SHRL  $4, DI
	ANDL  $0x0f0f0f0f, DI
	MOVL  BX, R12
	SHRL  $6, R12
	ANDL  $0x03030303, R12
	SHLL  $4, R12
	ORL   R12, DI
	MOVL  BX, R13
	ANDL  $0x3f3f3f3f, R13
	ANDL  $0x0f0f0f0f, DX
	MOVL  AX, R12
	SHRL  $6, R12
	ANDL  $0x03030303, R12
	SHLL  $4, R12
	ORL   R12, DX
	ANDL  $0x3f3f3f3f, AX
	SHLQ  $32, DX
	ORQ   DX, AX
	SHLQ  $32, DI
	ORQ   DI, R13
	VPBROADCASTQ AX, Z30
	VMOVQ R13, X20
	VPMOVZXBW X20, X20
	VSHUFI32X4 $0, Z20, Z20, Z20     // mins as words in every token lane
	VPMADDWD 1024(R8), Z20, Z20      // imin_sb per token lane
	VCVTDQ2PS Z20, Z20

	// d, dmin per token: fp16(w.d)·a.d, fp16(w.dmin)·a.d.
	MOVL  (SI), AX
	VMOVD AX, X21
	VCVTPH2PS X21, X21
	VBROADCASTSS X21, Z29
	VPERMILPS $0x55, X21, X21
	VBROADCASTSS X21, Z28
	VMOVUPS 1088(R8), Z21
	VMULPS Z21, Z29, Z29
	VMULPS Z21, Z28, Z28

	CHUNKZ(16, 0, scw0, Z8)
	CHUNKZ(48, 256, scw1, Z9)
	CHUNKZ(80, 512, scw2, Z10)
	CHUNKZ(112, 768, scw3, Z11)

	// Per token lane: [Σ V0, Σ V1, Σ V2, Σ V3] = isum_sb, sb = 0..3.
	VPUNPCKLDQ  Z9, Z8, Z12
	VPUNPCKHDQ  Z9, Z8, Z13
	VPADDD      Z13, Z12, Z12
	VPUNPCKLDQ  Z11, Z10, Z13
	VPUNPCKHDQ  Z11, Z10, Z14
	VPADDD      Z14, Z13, Z13
	VPUNPCKLQDQ Z13, Z12, Z14
	VPUNPCKHQDQ Z13, Z12, Z15
	VPADDD      Z15, Z14, Z14
	VCVTDQ2PS   Z14, Z14

	VPERMILPS $0x00, Z14, Z18
	VFMADD231PS Z29, Z18, Z16
	VPERMILPS $0x00, Z20, Z19
	VFMADD231PS Z28, Z19, Z17
	VPERMILPS $0x55, Z14, Z18
	VFMADD231PS Z29, Z18, Z16
	VPERMILPS $0x55, Z20, Z19
	VFMADD231PS Z28, Z19, Z17
	VPERMILPS $0xaa, Z14, Z18
	VFMADD231PS Z29, Z18, Z16
	VPERMILPS $0xaa, Z20, Z19
	VFMADD231PS Z28, Z19, Z17
	VPERMILPS $0xff, Z14, Z18
	VFMADD231PS Z29, Z18, Z16
	VPERMILPS $0xff, Z20, Z19
	VFMADD231PS Z28, Z19, Z17

	ADDQ $144, SI
	ADDQ $1152, R8
	DECQ CX
	JNZ  zloop

zdone:
	VSUBPS  Z17, Z16, Z16
	VMOVDQU32 lane0<>(SB), Z18
	VPERMD  Z16, Z18, Z16
	MOVQ    dst+24(FP), DI
	VMOVUPS X16, (DI)
	VZEROUPPER
	RET

// Q4_K rows prepared for the four-token VNNI GEMM (q4KPrepare): per
// super-block 352 bytes, so that the nibbles and scales are unpacked once
// per matmul for all token groups rather than once per group:
//   [0, 256)    the 256 quants as bytes, in element order;
//   [256, 320)  per chunk c, the words [s(2c) ×4, s(2c+1) ×4];
//   [320, 336)  the 8 mins as words;
//   [336, 340)  d and dmin as stored (fp16).

// func q4KPrepare(dst, w *byte, nb int)
TEXT ·q4KPrepare(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), R8
	MOVQ w+8(FP), SI
	MOVQ nb+16(FP), CX
	VPBROADCASTD nib4z<>(SB), Y15
	VMOVDQU scw0<>(SB), X8
	VMOVDQU scw1<>(SB), X9
	VMOVDQU scw2<>(SB), X10
	VMOVDQU scw3<>(SB), X11
	TESTQ CX, CX
	JZ    prepdone

preploop:
	VMOVDQU 16(SI), Y0
	VPAND   Y15, Y0, Y1
	VPSRLW  $4, Y0, Y0
	VPAND   Y15, Y0, Y0
	VMOVDQU Y1, 0(R8)
	VMOVDQU Y0, 32(R8)
	VMOVDQU 48(SI), Y0
	VPAND   Y15, Y0, Y1
	VPSRLW  $4, Y0, Y0
	VPAND   Y15, Y0, Y0
	VMOVDQU Y1, 64(R8)
	VMOVDQU Y0, 96(R8)
	VMOVDQU 80(SI), Y0
	VPAND   Y15, Y0, Y1
	VPSRLW  $4, Y0, Y0
	VPAND   Y15, Y0, Y0
	VMOVDQU Y1, 128(R8)
	VMOVDQU Y0, 160(R8)
	VMOVDQU 112(SI), Y0
	VPAND   Y15, Y0, Y1
	VPSRLW  $4, Y0, Y0
	VPAND   Y15, Y0, Y0
	VMOVDQU Y1, 192(R8)
	VMOVDQU Y0, 224(R8)

	MOVL  4(SI), AX
	MOVL  8(SI), BX
	MOVL  12(SI), DX
	MOVL  DX, DI
	SHRL  $4, DI
	ANDL  $0x0f0f0f0f, DI
	MOVL  BX, R12
	SHRL  $6, R12
	ANDL  $0x03030303, R12
	SHLL  $4, R12
	ORL   R12, DI
	MOVL  BX, R13
	ANDL  $0x3f3f3f3f, R13
	ANDL  $0x0f0f0f0f, DX
	MOVL  AX, R12
	SHRL  $6, R12
	ANDL  $0x03030303, R12
	SHLL  $4, R12
	ORL   R12, DX
	ANDL  $0x3f3f3f3f, AX
	SHLQ  $32, DX
	ORQ   DX, AX
	SHLQ  $32, DI
	ORQ   DI, R13
	VMOVQ   AX, X0
	VPSHUFB X8, X0, X1
	VMOVDQU X1, 256(R8)
	VPSHUFB X9, X0, X1
	VMOVDQU X1, 272(R8)
	VPSHUFB X10, X0, X1
	VMOVDQU X1, 288(R8)
	VPSHUFB X11, X0, X1
	VMOVDQU X1, 304(R8)
	VMOVQ   R13, X0
	VPMOVZXBW X0, X0
	VMOVDQU X0, 320(R8)
	MOVL    (SI), AX
	MOVL    AX, 336(R8)

	ADDQ $144, SI
	ADDQ $352, R8
	DECQ CX
	JNZ  preploop

prepdone:
	VZEROUPPER
	RET

// CHUNKP is CHUNKZ on prepared blocks: the four quant slices and the
// scale words of chunk c are broadcast straight from memory.
#define CHUNKP(qoff, scoff, soff, vc) \
	VPXORD     Z4, Z4, Z4                  \
	VPXORD     Z5, Z5, Z5                  \
	VBROADCASTI32X4 qoff(SI), Z2           \
	VBROADCASTI32X4 qoff+16(SI), Z3        \
	VBROADCASTI32X4 qoff+32(SI), Z0        \
	VBROADCASTI32X4 qoff+48(SI), Z1        \
	VPDPBUSD   soff(R8), Z2, Z4            \
	VPDPBUSD   soff+64(R8), Z3, Z4         \
	VPDPBUSD   soff+128(R8), Z0, Z5        \
	VPDPBUSD   soff+192(R8), Z1, Z5        \
	VPACKSSDW  Z5, Z4, Z6                  \
	VBROADCASTI32X4 scoff(SI), Z7          \
	VPMADDWD   Z7, Z6, vc

// func q4KGemm4Prep(wp, ax *byte, nb int, dst *[4]float32)
//
// q4KGemm4VNNI reading a row prepared by q4KPrepare.
TEXT ·q4KGemm4Prep(SB), NOSPLIT, $0-32
	MOVQ wp+0(FP), SI
	MOVQ ax+8(FP), R8
	MOVQ nb+16(FP), CX
	VPXORD Z16, Z16, Z16
	VPXORD Z17, Z17, Z17
	TESTQ CX, CX
	JZ    pdone

ploop:
	VBROADCASTI32X4 320(SI), Z20
	VPMADDWD 1024(R8), Z20, Z20
	VCVTDQ2PS Z20, Z20
	VMOVD  336(SI), X21
	VCVTPH2PS X21, X21
	VBROADCASTSS X21, Z29
	VPERMILPS $0x55, X21, X21
	VBROADCASTSS X21, Z28
	VMOVUPS 1088(R8), Z21
	VMULPS Z21, Z29, Z29
	VMULPS Z21, Z28, Z28

	CHUNKP(0, 256, 0, Z8)
	CHUNKP(64, 272, 256, Z9)
	CHUNKP(128, 288, 512, Z10)
	CHUNKP(192, 304, 768, Z11)

	VPUNPCKLDQ  Z9, Z8, Z12
	VPUNPCKHDQ  Z9, Z8, Z13
	VPADDD      Z13, Z12, Z12
	VPUNPCKLDQ  Z11, Z10, Z13
	VPUNPCKHDQ  Z11, Z10, Z14
	VPADDD      Z14, Z13, Z13
	VPUNPCKLQDQ Z13, Z12, Z14
	VPUNPCKHQDQ Z13, Z12, Z15
	VPADDD      Z15, Z14, Z14
	VCVTDQ2PS   Z14, Z14

	VPERMILPS $0x00, Z14, Z18
	VFMADD231PS Z29, Z18, Z16
	VPERMILPS $0x00, Z20, Z19
	VFMADD231PS Z28, Z19, Z17
	VPERMILPS $0x55, Z14, Z18
	VFMADD231PS Z29, Z18, Z16
	VPERMILPS $0x55, Z20, Z19
	VFMADD231PS Z28, Z19, Z17
	VPERMILPS $0xaa, Z14, Z18
	VFMADD231PS Z29, Z18, Z16
	VPERMILPS $0xaa, Z20, Z19
	VFMADD231PS Z28, Z19, Z17
	VPERMILPS $0xff, Z14, Z18
	VFMADD231PS Z29, Z18, Z16
	VPERMILPS $0xff, Z20, Z19
	VFMADD231PS Z28, Z19, Z17

	ADDQ $352, SI
	ADDQ $1152, R8
	DECQ CX
	JNZ  ploop

pdone:
	VSUBPS  Z17, Z16, Z16
	VMOVDQU32 lane0<>(SB), Z18
	VPERMD  Z16, Z18, Z16
	MOVQ    dst+24(FP), DI
	VMOVUPS X16, (DI)
	VZEROUPPER
	RET
