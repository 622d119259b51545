//go:build !noasm

#include "textflag.h"

// func passOneAVX2(xs *float32, n16 int, st *laneState, zero *int64)
//
// passOneGo over 16·n16 elements: the float64 lanes of sum and Σx² four
// to a register (lanes 0–3, 4–7, 8–11, 12–15), lo and hi eight to a
// register; *zero receives the count of zeros. It does not look for NaN
// or ±Inf: either makes a lane of Σx² non-finite (finite f32 values
// cannot overflow a float64 sum of squares), which is how the caller
// tells that it must redo the slice in Go. laneState: sum at 0, sumSq at
// 128, lo at 256, hi at 320. (512-bit registers were measured no faster:
// the loop is bound by the float64 conversions, not the width.)
TEXT ·passOneAVX2(SB), NOSPLIT, $0-32
	MOVQ xs+0(FP), SI
	MOVQ n16+8(FP), CX
	MOVQ st+16(FP), DI
	VMOVUPD 0(DI), Y0
	VMOVUPD 32(DI), Y1
	VMOVUPD 64(DI), Y2
	VMOVUPD 96(DI), Y3
	VMOVUPD 128(DI), Y4
	VMOVUPD 160(DI), Y5
	VMOVUPD 192(DI), Y6
	VMOVUPD 224(DI), Y7
	VMOVUPS 256(DI), Y8
	VMOVUPS 288(DI), Y9
	VMOVUPS 320(DI), Y10
	VMOVUPS 352(DI), Y11
	VXORPS Y15, Y15, Y15
	XORQ BX, BX
	TESTQ CX, CX
	JZ done1a

loop1a:
	PREFETCHT0 1024(SI)                 // a prefill's FFN rows arrive from L3; pass two finds them in cache

	VCVTPS2PD 0(SI), Y12
	VCVTPS2PD 16(SI), Y13
	VADDPD Y12, Y0, Y0
	VADDPD Y13, Y1, Y1
	VMULPD Y12, Y12, Y12
	VMULPD Y13, Y13, Y13
	VADDPD Y12, Y4, Y4
	VADDPD Y13, Y5, Y5
	VCVTPS2PD 32(SI), Y12
	VCVTPS2PD 48(SI), Y13
	VADDPD Y12, Y2, Y2
	VADDPD Y13, Y3, Y3
	VMULPD Y12, Y12, Y12
	VMULPD Y13, Y13, Y13
	VADDPD Y12, Y6, Y6
	VADDPD Y13, Y7, Y7
	VMOVUPS 0(SI), Y14
	VMINPS Y8, Y14, Y8                  // lo = x < lo ? x : lo
	VMAXPS Y10, Y14, Y10                // hi = x > hi ? x : hi
	VCMPPS $0x00, Y15, Y14, Y14         // EQ_OQ: x == 0
	VMOVMSKPS Y14, AX
	POPCNTL AX, AX
	ADDQ AX, BX
	VMOVUPS 32(SI), Y14
	VMINPS Y9, Y14, Y9
	VMAXPS Y11, Y14, Y11
	VCMPPS $0x00, Y15, Y14, Y14
	VMOVMSKPS Y14, AX
	POPCNTL AX, AX
	ADDQ AX, BX
	ADDQ $64, SI
	DECQ CX
	JNZ loop1a

done1a:
	VMOVUPD Y0, 0(DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VMOVUPD Y4, 128(DI)
	VMOVUPD Y5, 160(DI)
	VMOVUPD Y6, 192(DI)
	VMOVUPD Y7, 224(DI)
	VMOVUPS Y8, 256(DI)
	VMOVUPS Y9, 288(DI)
	VMOVUPS Y10, 320(DI)
	VMOVUPS Y11, 352(DI)
	MOVQ zero+24(FP), DX
	MOVQ BX, (DX)
	VZEROUPPER
	RET

// func passTwoAVX2(xs *float32, n16 int, mean float64, m2 *[16]float64)
//
// passTwoGo over 16·n16 elements, all finite: m2's lanes four to a
// register; each element's deviation is squared (rounded) and then added,
// as the Go code does.
TEXT ·passTwoAVX2(SB), NOSPLIT, $0-32
	MOVQ xs+0(FP), SI
	MOVQ n16+8(FP), CX
	VBROADCASTSD mean+16(FP), Y9
	MOVQ m2+24(FP), DI
	VMOVUPD 0(DI), Y0
	VMOVUPD 32(DI), Y1
	VMOVUPD 64(DI), Y2
	VMOVUPD 96(DI), Y3
	TESTQ CX, CX
	JZ done2a

loop2a:
	VCVTPS2PD 0(SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y6
	VCVTPS2PD 48(SI), Y7
	VSUBPD Y9, Y4, Y4
	VSUBPD Y9, Y5, Y5
	VSUBPD Y9, Y6, Y6
	VSUBPD Y9, Y7, Y7
	VMULPD Y4, Y4, Y4
	VMULPD Y5, Y5, Y5
	VMULPD Y6, Y6, Y6
	VMULPD Y7, Y7, Y7
	VADDPD Y4, Y0, Y0
	VADDPD Y5, Y1, Y1
	VADDPD Y6, Y2, Y2
	VADDPD Y7, Y3, Y3
	ADDQ $64, SI
	DECQ CX
	JNZ loop2a

done2a:
	VMOVUPD Y0, 0(DI)
	VMOVUPD Y1, 32(DI)
	VMOVUPD Y2, 64(DI)
	VMOVUPD Y3, 96(DI)
	VZEROUPPER
	RET
