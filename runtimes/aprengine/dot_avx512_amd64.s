//go:build !noasm

#include "textflag.h"

// func dot4x4AVX512(w *float32, wStride int, x *float64, xStride, n4 int, acc *[64]float64)
//
// dot's main loop for 4 weight rows × 4 activation rows. Each zmm register
// holds two outputs (rows 2p and 2p+1 of one token), four float64 lanes
// each: lane j of an output adds w[i]·x[i] for i ≡ j (mod 4), in order of
// i, exactly dot's partial sums (the f32·f32 products are exact in
// float64, so the FMA rounds where dot's add does). acc[16t+4r:] receives
// the lanes of row r, token t, and also holds their starting values, so
// that a caller can run the columns in chunks.
TEXT ·dot4x4AVX512(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), SI
	MOVQ wStride+8(FP), DX
	SHLQ $2, DX
	LEAQ (SI)(DX*1), DI
	LEAQ (DI)(DX*1), R12
	LEAQ (R12)(DX*1), R13
	MOVQ x+16(FP), R8
	MOVQ xStride+24(FP), DX
	SHLQ $3, DX
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	MOVQ n4+32(FP), CX
	MOVQ acc+40(FP), DX
	VMOVUPD 0(DX), Z0
	VMOVUPD 64(DX), Z1
	VMOVUPD 128(DX), Z2
	VMOVUPD 192(DX), Z3
	VMOVUPD 256(DX), Z4
	VMOVUPD 320(DX), Z5
	VMOVUPD 384(DX), Z6
	VMOVUPD 448(DX), Z7
	XORQ AX, AX
	XORQ BX, BX
	TESTQ CX, CX
	JZ done44

loop44:
	VMOVUPS (SI)(AX*1), X16
	VINSERTF32X4 $1, (DI)(AX*1), Y16, Y16
	VCVTPS2PD Y16, Z16                 // [w0 i..i+3 | w1 i..i+3]
	VMOVUPS (R12)(AX*1), X17
	VINSERTF32X4 $1, (R13)(AX*1), Y17, Y17
	VCVTPS2PD Y17, Z17                 // [w2 | w3]
	VBROADCASTF64X4 (R8)(BX*1), Z18    // x0 i..i+3, twice
	VBROADCASTF64X4 (R9)(BX*1), Z19
	VBROADCASTF64X4 (R10)(BX*1), Z20
	VBROADCASTF64X4 (R11)(BX*1), Z21
	VFMADD231PD Z18, Z16, Z0
	VFMADD231PD Z18, Z17, Z1
	VFMADD231PD Z19, Z16, Z2
	VFMADD231PD Z19, Z17, Z3
	VFMADD231PD Z20, Z16, Z4
	VFMADD231PD Z20, Z17, Z5
	VFMADD231PD Z21, Z16, Z6
	VFMADD231PD Z21, Z17, Z7
	ADDQ $16, AX
	ADDQ $32, BX
	DECQ CX
	JNZ loop44

done44:
	VMOVUPD Z0, 0(DX)
	VMOVUPD Z1, 64(DX)
	VMOVUPD Z2, 128(DX)
	VMOVUPD Z3, 192(DX)
	VMOVUPD Z4, 256(DX)
	VMOVUPD Z5, 320(DX)
	VMOVUPD Z6, 384(DX)
	VMOVUPD Z7, 448(DX)
	VZEROUPPER
	RET
