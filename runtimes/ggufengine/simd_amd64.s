//go:build !noasm

#include "textflag.h"

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

DATA expc<>+0(SB)/4, $0x3fb8aa3b  // 0x1.715476p+0 (log2 e)
DATA expc<>+4(SB)/4, $0x4b400000  // 0x1.8p23
DATA expc<>+8(SB)/4, $0x3f317200  // 0x1.62e4p-1 (ln 2, high part)
DATA expc<>+12(SB)/4, $0x35bfbe8e // 0x1.7f7d1cp-20 (ln 2, low part)
DATA expc<>+16(SB)/4, $0x3c072010 // 0x1.0e4020p-7
DATA expc<>+20(SB)/4, $0x3d2b9f17 // 0x1.573e2ep-5
DATA expc<>+24(SB)/4, $0x3e2aaf33 // 0x1.555e66p-3
DATA expc<>+28(SB)/4, $0x3efffedb // 0x1.fffdb6p-2
DATA expc<>+32(SB)/4, $0x3f7ffff6 // 0x1.ffffecp-1
DATA expc<>+36(SB)/4, $0x3f800000 // 1
DATA expc<>+40(SB)/4, $0x43400000 // 192
DATA expc<>+44(SB)/4, $0x7fffffff // |x| mask
DATA expc<>+48(SB)/4, $0x7f800000 // +Inf
DATA expc<>+52(SB)/4, $0x000003ff // double exponent bias
GLOBL expc<>(SB), RODATA|NOPTR, $56

// func siluAVX2(x *float32, n8 int)
//
// x[i] = vSilu(x[i]) for i < 8·n8: x / (1 + vExpf(0 − x)), vExpf being
// ggml_v_expf(__m512) lane by lane exactly as simd_emul.go computes it
// (every fma a hardware FMA, the 2ⁿ scaling an exact float64 product
// rounded once to float32, |n| > 192 giving 0 or +Inf).
TEXT ·siluAVX2(SB), NOSPLIT, $0-16
	MOVQ x+0(FP), DI
	MOVQ n8+8(FP), CX
	TESTQ CX, CX
	JZ    sdone

sloop:
	VMOVUPS (DI), Y15           // x
	VXORPS  Y0, Y0, Y0
	VSUBPS  Y15, Y0, Y0         // a = 0 − x
	VBROADCASTSS expc<>+4(SB), Y1   // r
	VBROADCASTSS expc<>+0(SB), Y2
	VMOVAPS Y1, Y3
	VFMADD231PS Y2, Y0, Y3      // z = a·log2e + r
	VSUBPS  Y1, Y3, Y3          // n = z − r
	VBROADCASTSS expc<>+8(SB), Y2
	VMOVAPS Y0, Y4
	VFNMADD231PS Y2, Y3, Y4     // t = −n·ln2hi + a
	VBROADCASTSS expc<>+12(SB), Y2
	VFNMADD231PS Y2, Y3, Y4     // b = −n·ln2lo + t
	VMULPS  Y4, Y4, Y5          // u = b·b
	VBROADCASTSS expc<>+16(SB), Y6
	VBROADCASTSS expc<>+20(SB), Y2
	VFMADD213PS Y2, Y4, Y6      // p1 = c5·b + c4
	VBROADCASTSS expc<>+24(SB), Y7
	VBROADCASTSS expc<>+28(SB), Y2
	VFMADD213PS Y2, Y4, Y7      // p2 = c3·b + c2
	VFMADD213PS Y7, Y5, Y6      // p3 = p1·u + p2
	VBROADCASTSS expc<>+32(SB), Y8
	VBROADCASTSS expc<>+36(SB), Y9  // 1
	VFMADD213PS Y9, Y4, Y8      // p4 = c1·b + 1
	VFMADD213PS Y8, Y5, Y6      // j = p3·u + p4
	// 2ⁿ·j: float64 halves, 2ⁿ built in the exponent field.
	VCVTPS2DQ Y3, Y10           // n as int32 (integral)
	VPBROADCASTD expc<>+52(SB), Y11
	VEXTRACTI128 $1, Y10, X12
	VPMOVSXDQ X10, Y13
	VPMOVSXDQ X12, Y12
	VPMOVZXDQ X11, Y11
	VPADDQ  Y11, Y13, Y13
	VPADDQ  Y11, Y12, Y12
	VPSLLQ  $52, Y13, Y13
	VPSLLQ  $52, Y12, Y12
	VCVTPS2PD X6, Y7
	VEXTRACTF128 $1, Y6, X8
	VCVTPS2PD X8, Y8
	VMULPD  Y13, Y7, Y7
	VMULPD  Y12, Y8, Y8
	VCVTPD2PSY Y7, X7
	VCVTPD2PSY Y8, X8
	VINSERTF128 $1, X8, Y7, Y7  // e = vExpf(a) where |n| ≤ 192
	// |n| > 192 (ordered): n ≤ 0 gives 0, else +Inf.
	VBROADCASTSS expc<>+44(SB), Y2
	VANDPS  Y2, Y3, Y10         // |n|
	VBROADCASTSS expc<>+40(SB), Y2
	VCMPPS  $0x1e, Y2, Y10, Y10 // |n| > 192
	VXORPS  Y11, Y11, Y11
	VCMPPS  $0x02, Y11, Y3, Y12 // n ≤ 0
	VBROADCASTSS expc<>+48(SB), Y13
	VBLENDVPS Y12, Y11, Y13, Y13 // n ≤ 0 ? 0 : +Inf
	VBLENDVPS Y10, Y13, Y7, Y7
	// x / (1 + e)
	VADDPS  Y9, Y7, Y7
	VDIVPS  Y7, Y15, Y15
	VMOVUPS Y15, (DI)
	ADDQ $32, DI
	DECQ CX
	JNZ  sloop

sdone:
	VZEROUPPER
	RET
