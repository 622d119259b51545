//go:build !noasm

#include "textflag.h"

// func dot2x4AVX2(w *float32, wStride int, x *float64, xStride int, n4 int, acc *[8][4]float64)
//
// The main loop of dot for 2 weight rows (w, w+wStride floats) times 4
// activation rows (x, x+xStride, … float64s) at once: output (r, t) keeps
// the four interleaved float64 partial sums of dot in the four lanes of one
// ymm register, lane j adding w[i]·x[i] for i ≡ j (mod 4), i < 4·n4, in
// order of i. Each f32·f32 product is exact in float64, so the FMA rounds
// exactly where dot's add does. acc[2t+r] receives the lanes; the caller
// adds the tail and combines them as dot does.
TEXT ·dot2x4AVX2(SB), NOSPLIT, $0-48
	MOVQ w+0(FP), SI
	MOVQ wStride+8(FP), DI
	SHLQ $2, DI
	ADDQ SI, DI
	MOVQ x+16(FP), R8
	MOVQ xStride+24(FP), DX
	SHLQ $3, DX
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	MOVQ n4+32(FP), CX
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	VXORPD Y12, Y12, Y12
	VXORPD Y13, Y13, Y13
	VXORPD Y14, Y14, Y14
	VXORPD Y15, Y15, Y15
	XORQ AX, AX
	XORQ BX, BX
	TESTQ CX, CX
	JZ done

loop:
	VCVTPS2PD (SI)(AX*1), Y0
	VCVTPS2PD (DI)(AX*1), Y1
	VMOVUPD (R8)(BX*1), Y2
	VMOVUPD (R9)(BX*1), Y3
	VFMADD231PD Y2, Y0, Y8
	VFMADD231PD Y2, Y1, Y9
	VFMADD231PD Y3, Y0, Y10
	VFMADD231PD Y3, Y1, Y11
	VMOVUPD (R10)(BX*1), Y4
	VMOVUPD (R11)(BX*1), Y5
	VFMADD231PD Y4, Y0, Y12
	VFMADD231PD Y4, Y1, Y13
	VFMADD231PD Y5, Y0, Y14
	VFMADD231PD Y5, Y1, Y15
	ADDQ $16, AX
	ADDQ $32, BX
	DECQ CX
	JNZ loop

done:
	MOVQ acc+40(FP), DX
	VMOVUPD Y8, 0(DX)
	VMOVUPD Y9, 32(DX)
	VMOVUPD Y10, 64(DX)
	VMOVUPD Y11, 96(DX)
	VMOVUPD Y12, 128(DX)
	VMOVUPD Y13, 160(DX)
	VMOVUPD Y14, 192(DX)
	VMOVUPD Y15, 224(DX)
	VZEROUPPER
	RET

// func dot4x1AVX2(w *float32, wStride int, x *float64, n4 int, acc *[4][4]float64)
//
// dot2x4AVX2's loop for 4 weight rows and one activation row: acc[r]
// receives the four partial-sum lanes of row r.
TEXT ·dot4x1AVX2(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ wStride+8(FP), DX
	SHLQ $2, DX
	LEAQ (SI)(DX*1), DI
	LEAQ (DI)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	MOVQ x+16(FP), R8
	MOVQ n4+24(FP), CX
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	XORQ AX, AX
	XORQ BX, BX
	TESTQ CX, CX
	JZ done41

loop41:
	VMOVUPD (R8)(BX*1), Y4
	VCVTPS2PD (SI)(AX*1), Y0
	VCVTPS2PD (DI)(AX*1), Y1
	VCVTPS2PD (R9)(AX*1), Y2
	VCVTPS2PD (R10)(AX*1), Y3
	VFMADD231PD Y4, Y0, Y8
	VFMADD231PD Y4, Y1, Y9
	VFMADD231PD Y4, Y2, Y10
	VFMADD231PD Y4, Y3, Y11
	ADDQ $16, AX
	ADDQ $32, BX
	DECQ CX
	JNZ loop41

done41:
	MOVQ acc+32(FP), DX
	VMOVUPD Y8, 0(DX)
	VMOVUPD Y9, 32(DX)
	VMOVUPD Y10, 64(DX)
	VMOVUPD Y11, 96(DX)
	VZEROUPPER
	RET
