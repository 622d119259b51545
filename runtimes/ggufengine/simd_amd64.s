//go:build !noasm

#include "textflag.h"

// func dot64AVX2(x, y *float32, n64 int) float32
//
// vecDotF32's SIMD part for the first 64·n64 elements: 64 lanes (eight
// ymm registers), lane l adding fma(x[i], y[i]) for i ≡ l (mod 64) in
// order of i, then reduceVecDot: (acc[l]+acc[32+l]) + (acc[16+l]+acc[48+l])
// for l < 16, and reduceAdd16 of those sixteen.
TEXT ·dot64AVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n64+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TESTQ CX, CX
	JZ    reduce

loop:
	VMOVUPS 0(SI), Y8
	VMOVUPS 32(SI), Y9
	VMOVUPS 64(SI), Y10
	VMOVUPS 96(SI), Y11
	VFMADD231PS 0(DI), Y8, Y0
	VFMADD231PS 32(DI), Y9, Y1
	VFMADD231PS 64(DI), Y10, Y2
	VFMADD231PS 96(DI), Y11, Y3
	VMOVUPS 128(SI), Y8
	VMOVUPS 160(SI), Y9
	VMOVUPS 192(SI), Y10
	VMOVUPS 224(SI), Y11
	VFMADD231PS 128(DI), Y8, Y4
	VFMADD231PS 160(DI), Y9, Y5
	VFMADD231PS 192(DI), Y10, Y6
	VFMADD231PS 224(DI), Y11, Y7
	ADDQ $256, SI
	ADDQ $256, DI
	DECQ CX
	JNZ  loop

reduce:
	// lanes 0..7: (acc[l]+acc[32+l]) + (acc[16+l]+acc[48+l]) = (Y0+Y4)+(Y2+Y6)
	VADDPS Y4, Y0, Y0
	VADDPS Y6, Y2, Y2
	VADDPS Y2, Y0, Y0
	// lanes 8..15: (Y1+Y5)+(Y3+Y7)
	VADDPS Y5, Y1, Y1
	VADDPS Y7, Y3, Y3
	VADDPS Y3, Y1, Y1
	// reduceAdd16: a[i] = v[i] + v[i+8], b[k] = a[k] + a[k+4],
	// (b0+b2) + (b1+b3).
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS   X1, X0, X0
	VMOVHLPS X0, X0, X1
	VADDPS   X1, X0, X0
	VMOVSHDUP X0, X1
	VADDSS   X1, X0, X0
	VMOVSS   X0, ret+24(FP)
	VZEROUPPER
	RET

// func axpyAVX2(acc, x *float32, a float32, n8 int)
//
// acc[i] = fma(x[i], a, acc[i]) for i < 8·n8, one rounding each (fmaLane
// on a contiguous row of lanes).
TEXT ·axpyAVX2(SB), NOSPLIT, $0-32
	MOVQ acc+0(FP), DI
	MOVQ x+8(FP), SI
	VBROADCASTSS a+16(FP), Y15
	MOVQ n8+24(FP), CX
	TESTQ CX, CX
	JZ    axdone

axloop:
	VMOVUPS (DI), Y0
	VFMADD231PS (SI), Y15, Y0
	VMOVUPS Y0, (DI)
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  axloop

axdone:
	VZEROUPPER
	RET
