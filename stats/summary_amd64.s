//go:build !noasm

#include "textflag.h"

// func passOneAVX512(xs *float32, n16 int, st *laneState, zeros *[16]int32)
//
// passOneGo over 16·n16 elements, one zmm register per sixteen lanes of
// f32 (lo, hi) and two per sixteen lanes of float64 (sum, Σx²: lanes 0–7
// and 8–15); zeros[j] counts the zeros of lane j. It does not look for
// NaN or ±Inf: either makes a lane of Σx² non-finite (finite f32 values
// cannot overflow a float64 sum of squares), which is how the caller
// tells that it must redo the slice in Go.
// laneState: sum at 0, sumSq at 128, lo at 256, hi at 320.
TEXT ·passOneAVX512(SB), NOSPLIT, $0-32
	MOVQ xs+0(FP), SI
	MOVQ n16+8(FP), CX
	MOVQ st+16(FP), DI
	MOVQ zeros+24(FP), DX
	VMOVUPD 0(DI), Z3
	VMOVUPD 64(DI), Z4
	VMOVUPD 128(DI), Z5
	VMOVUPD 192(DI), Z6
	VMOVUPS 256(DI), Z7
	VMOVUPS 320(DI), Z8
	VMOVDQU32 (DX), Z13
	MOVL $1, AX
	VPBROADCASTD AX, Z14                // ones
	VPXORD Z11, Z11, Z11
	TESTQ CX, CX
	JZ done1

loop1:
	VMOVUPS (SI), Z0
	VCMPPS $0x00, Z11, Z0, K1           // EQ_OQ: x == 0
	VPADDD Z14, Z13, K1, Z13
	VMINPS Z7, Z0, Z7                   // lo = x < lo ? x : lo
	VMAXPS Z8, Z0, Z8                   // hi = x > hi ? x : hi
	VCVTPS2PD Y0, Z1
	VEXTRACTF64X4 $1, Z0, Y2
	VCVTPS2PD Y2, Z2
	VADDPD Z1, Z3, Z3
	VADDPD Z2, Z4, Z4
	VMULPD Z1, Z1, Z1
	VMULPD Z2, Z2, Z2
	VADDPD Z1, Z5, Z5
	VADDPD Z2, Z6, Z6
	ADDQ $64, SI
	DECQ CX
	JNZ loop1

done1:
	VMOVUPD Z3, 0(DI)
	VMOVUPD Z4, 64(DI)
	VMOVUPD Z5, 128(DI)
	VMOVUPD Z6, 192(DI)
	VMOVUPS Z7, 256(DI)
	VMOVUPS Z8, 320(DI)
	VMOVDQU32 Z13, (DX)
	VZEROUPPER
	RET

// func passTwoAVX512(xs *float32, n16 int, mean float64, m2 *[16]float64)
//
// passTwoGo over 16·n16 elements, all finite: lanes 0–7 of m2 in one zmm
// register, 8–15 in another; each element's deviation is squared
// (rounded) and then added, as the Go code does.
TEXT ·passTwoAVX512(SB), NOSPLIT, $0-32
	MOVQ xs+0(FP), SI
	MOVQ n16+8(FP), CX
	VBROADCASTSD mean+16(FP), Z9
	MOVQ m2+24(FP), DI
	VMOVUPD 0(DI), Z3
	VMOVUPD 64(DI), Z4
	TESTQ CX, CX
	JZ done2

loop2:
	VMOVUPS (SI), Z0
	VCVTPS2PD Y0, Z1
	VEXTRACTF64X4 $1, Z0, Y2
	VCVTPS2PD Y2, Z2
	VSUBPD Z9, Z1, Z1
	VSUBPD Z9, Z2, Z2
	VMULPD Z1, Z1, Z1
	VMULPD Z2, Z2, Z2
	VADDPD Z1, Z3, Z3
	VADDPD Z2, Z4, Z4
	ADDQ $64, SI
	DECQ CX
	JNZ loop2

done2:
	VMOVUPD Z3, 0(DI)
	VMOVUPD Z4, 64(DI)
	VZEROUPPER
	RET
