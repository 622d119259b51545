//go:build !noasm

#include "textflag.h"

// AVX2/F16C twins of the activation quantizers fromFloatQ8_K (kquants.go)
// and fromFloatQ8_0 (legacy.go). Every float instruction is the same
// correctly rounded IEEE operation the Go code performs on that element
// (multiply, add, divide, max as a selection, abs as a bit mask), so the
// results agree bit for bit, NaN payloads included: in each product one
// operand is never NaN, or (Q8_0) any NaN product becomes the integer
// indefinite whatever its payload. The integer steps (the nearest_int bit
// trick, the clamps, the int8 conversion, the block sums) are exact
// whichever instructions form them.
//
// Block layouts: Q8_K 292 B (d f32 at 0, qs[256] int8 at 4, bsums[16]
// int16 at 260); Q8_0 34 B (d fp16 at 0, qs[32] int8 at 2).

DATA absmask<>+0(SB)/4, $0x7fffffff
GLOBL absmask<>(SB), RODATA|NOPTR, $4
DATA magic<>+0(SB)/4, $0x4b400000 // 12582912.0 = 1.5·2²³
GLOBL magic<>(SB), RODATA|NOPTR, $4
DATA mant<>+0(SB)/4, $0x007fffff
GLOBL mant<>(SB), RODATA|NOPTR, $4
DATA clamp<>+0(SB)/4, $0x0040007f // 0x400000 + 127
GLOBL clamp<>(SB), RODATA|NOPTR, $4
DATA lowbyte<>+0(SB)/4, $0x000000ff
GLOBL lowbyte<>(SB), RODATA|NOPTR, $4
DATA ones8<>+0(SB)/4, $0x01010101
GLOBL ones8<>(SB), RODATA|NOPTR, $4
DATA ones16<>+0(SB)/8, $0x0001000100010001
DATA ones16<>+8(SB)/8, $0x0001000100010001
DATA ones16<>+16(SB)/8, $0x0001000100010001
DATA ones16<>+24(SB)/8, $0x0001000100010001
GLOBL ones16<>(SB), RODATA|NOPTR, $32
DATA negc127<>+0(SB)/4, $0xc2fe0000 // -127.0
GLOBL negc127<>(SB), RODATA|NOPTR, $4
DATA c127<>+0(SB)/4, $0x42fe0000 // 127.0
GLOBL c127<>(SB), RODATA|NOPTR, $4
DATA one<>+0(SB)/4, $0x3f800000 // 1.0
GLOBL one<>(SB), RODATA|NOPTR, $4

// packperm undoes the lane interleave of vpackssdw/vpackusdw followed by
// vpacksswb/vpackuswb on four 8-lane vectors: after the packs dword k of
// the result holds elements 4·p(k)..4·p(k)+3 with p = 0,2,4,6,1,3,5,7.
DATA packperm<>+0(SB)/8, $0x0000000400000000
DATA packperm<>+8(SB)/8, $0x0000000500000001
DATA packperm<>+16(SB)/8, $0x0000000600000002
DATA packperm<>+24(SB)/8, $0x0000000700000003
GLOBL packperm<>(SB), RODATA|NOPTR, $32

// Q8KMAX4 folds the magnitudes of the four vectors at off(SI) into the
// running maxima Y0..Y3. vmaxps returns its second source when either is
// NaN, so with the magnitude first and the running maximum second a NaN
// input is skipped, as absMaxSigned's "amax < a" skips it.
#define Q8KMAX4(off) \
	VANDPS off(SI), Y8, Y4      \
	VANDPS off+32(SI), Y8, Y5   \
	VANDPS off+64(SI), Y8, Y6   \
	VANDPS off+96(SI), Y8, Y7   \
	VMAXPS Y0, Y4, Y0           \
	VMAXPS Y1, Y5, Y1           \
	VMAXPS Y2, Y6, Y2           \
	VMAXPS Y3, Y7, Y3

// Q8KGROUP quantizes the 32 values at xo(SI) against the broadcast iscale
// in Y15 and stores the 32 quants at qo(DI); s receives their sums by
// four as 8 int32 (lane k = quants 4k..4k+3).
//
// Per value: v = iscale·x + 12582912 (two roundings, as nearestInt), then
// m = bits(v) & 0x7fffff, and the stored byte is the low byte of
// min(127, m − 0x400000) = min(0x40007f, m) − 0x400000, whose low byte
// is that of min(0x40007f, m). Masking it to 0..255 makes the unsigned
// packs exact truncations, which is what Go's int8() does also to the
// out-of-range values NaN and infinite products give.
#define Q8KGROUP(xo, qo, s) \
	VMULPS    xo(SI), Y15, Y0    \
	VMULPS    xo+32(SI), Y15, Y1 \
	VMULPS    xo+64(SI), Y15, Y2 \
	VMULPS    xo+96(SI), Y15, Y3 \
	VADDPS    Y9, Y0, Y0         \
	VADDPS    Y9, Y1, Y1         \
	VADDPS    Y9, Y2, Y2         \
	VADDPS    Y9, Y3, Y3         \
	VPAND     Y10, Y0, Y0        \
	VPAND     Y10, Y1, Y1        \
	VPAND     Y10, Y2, Y2        \
	VPAND     Y10, Y3, Y3        \
	VPMINSD   Y11, Y0, Y0        \
	VPMINSD   Y11, Y1, Y1        \
	VPMINSD   Y11, Y2, Y2        \
	VPMINSD   Y11, Y3, Y3        \
	VPAND     Y12, Y0, Y0        \
	VPAND     Y12, Y1, Y1        \
	VPAND     Y12, Y2, Y2        \
	VPAND     Y12, Y3, Y3        \
	VPACKUSDW Y1, Y0, Y0         \
	VPACKUSDW Y3, Y2, Y2         \
	VPACKUSWB Y2, Y0, Y0         \
	VPERMD    Y0, Y13, Y0        \
	VMOVDQU   Y0, qo(DI)         \
	VPMADDUBSW Y0, Y14, s        \
	VPMADDWD  ones16<>(SB), s, s

// func q8KFromFloatAVX2(dst *byte, src *float32, nb int)
//
// Per 256-value block: amax = max|x| over the non-NaN values (4 lanewise
// vmaxps chains, then a tree: without NaN the order is immaterial); if
// amax is +0 the 292 bytes are cleared. Otherwise max = the first x with
// |x| = amax (bitwise: amax is non-zero and not NaN), iscale = -127/max,
// d = 1/iscale, quants as in Q8KGROUP, and bsums[k] = the int16 sum of
// quants 16k..16k+15.
TEXT ·q8KFromFloatAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JZ    q8kdone
	VBROADCASTSS absmask<>(SB), Y8
	VBROADCASTSS magic<>(SB), Y9
	VPBROADCASTD mant<>(SB), Y10
	VPBROADCASTD clamp<>(SB), Y11
	VPBROADCASTD lowbyte<>(SB), Y12
	VMOVDQU      packperm<>(SB), Y13
	VPBROADCASTD ones8<>(SB), Y14

q8kblock:
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	Q8KMAX4(0)
	Q8KMAX4(128)
	Q8KMAX4(256)
	Q8KMAX4(384)
	Q8KMAX4(512)
	Q8KMAX4(640)
	Q8KMAX4(768)
	Q8KMAX4(896)
	VMAXPS Y1, Y0, Y0
	VMAXPS Y3, Y2, Y2
	VMAXPS Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VSHUFPS $0x4e, X0, X0, X1
	VMAXPS X1, X0, X0
	VSHUFPS $0xb1, X0, X0, X1
	VMAXPS X1, X0, X0 // amax in every lane
	VMOVD X0, AX
	TESTL AX, AX
	JZ    q8kzero

	// Find the first |x| equal to amax. One exists (amax is one of the
	// magnitudes), so the scan stops within the block.
	VBROADCASTSS X0, Y0
	XORQ BX, BX

q8kfind:
	VANDPS    (SI)(BX*1), Y8, Y1
	VCMPPS    $0, Y0, Y1, Y1 // EQ_OQ
	VMOVMSKPS Y1, AX
	TESTL     AX, AX
	JNZ       q8kfound
	ADDQ      $32, BX
	JMP       q8kfind

q8kfound:
	BSFL   AX, AX
	LEAQ   (BX)(AX*4), BX
	VMOVSS (SI)(BX*1), X1 // max
	VMOVSS negc127<>(SB), X2
	VDIVSS X1, X2, X2 // iscale = -127/max
	VMOVSS one<>(SB), X3
	VDIVSS X2, X3, X3 // d = 1/iscale
	VMOVSS X3, (DI)
	VBROADCASTSS X2, Y15

	Q8KGROUP(0, 4, Y4)
	Q8KGROUP(128, 36, Y5)
	VPHADDD Y5, Y4, Y6 // P0 = hadd(S0, S1)
	Q8KGROUP(256, 68, Y4)
	Q8KGROUP(384, 100, Y5)
	VPHADDD Y5, Y4, Y7 // P1
	VPHADDD Y7, Y6, Y6 // lane 0: sums of quants 0-15, 32-47, 64-79, 96-111; lane 1: 16-31, …
	Q8KGROUP(512, 132, Y4)
	Q8KGROUP(640, 164, Y5)
	VPHADDD Y5, Y4, Y7 // P2
	Q8KGROUP(768, 196, Y4)
	Q8KGROUP(896, 228, Y5)
	VPHADDD Y5, Y4, Y4 // P3
	VPHADDD Y4, Y7, Y7 // as Y6 for quants 128-255
	// |sum| ≤ 16·128, so the saturating pack is exact. Lane 0 now holds
	// bsums 0,2,…,14 and lane 1 bsums 1,3,…,15; interleave the lanes.
	VPACKSSDW    Y7, Y6, Y6
	VEXTRACTI128 $1, Y6, X7
	VPUNPCKLWD   X7, X6, X4
	VPUNPCKHWD   X7, X6, X5
	VMOVDQU      X4, 260(DI)
	VMOVDQU      X5, 276(DI)

q8knext:
	ADDQ $1024, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q8kblock
	VZEROUPPER

q8kdone:
	RET

q8kzero:
	VPXOR   Y0, Y0, Y0
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y0, 32(DI)
	VMOVDQU Y0, 64(DI)
	VMOVDQU Y0, 96(DI)
	VMOVDQU Y0, 128(DI)
	VMOVDQU Y0, 160(DI)
	VMOVDQU Y0, 192(DI)
	VMOVDQU Y0, 224(DI)
	VMOVDQU Y0, 256(DI)
	VMOVDQU Y0, 260(DI) // bytes 260..291, overlapping the previous store
	JMP     q8knext

// func q8_0FromFloatAVX2(dst *byte, src *float32, nb int)
//
// Per 32-value block, the operations of ggml-cpu's AVX2 quantize_row_q8_0
// in its order: amax by lanewise vmaxps of the four magnitude vectors
// (first operand the running maximum), then upper half against lower
// half, lanes 2,3 against 0,1, lane 1 against lane 0; d = amax/127 stored
// as vcvtps2ph(d, round to nearest even); id = 127/amax, or 0 when amax is
// +0 (a NaN amax keeps its NaN id); q = vcvtps2dq(vroundps(x·id, nearest
// even)), packed to int8 with signed saturation.
TEXT ·q8_0FromFloatAVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JZ    q80done
	VBROADCASTSS absmask<>(SB), Y8
	VMOVDQU      packperm<>(SB), Y9
	VMOVSS       c127<>(SB), X10
	VXORPS       X11, X11, X11

q80block:
	VMOVUPS 0(SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS 64(SI), Y2
	VMOVUPS 96(SI), Y3
	VANDPS  Y8, Y0, Y4
	VANDPS  Y8, Y1, Y5
	VANDPS  Y8, Y2, Y6
	VANDPS  Y8, Y3, Y7
	VMAXPS  Y5, Y4, Y4 // maxps(|v0|, |v1|)
	VMAXPS  Y6, Y4, Y4
	VMAXPS  Y7, Y4, Y4
	VEXTRACTF128 $1, Y4, X5
	VMAXPS    X4, X5, X5 // maxps(upper, lower)
	VMOVHLPS  X5, X5, X6
	VMAXPS    X6, X5, X5 // maxps(h, [h2 h3 h2 h3])
	VMOVSHDUP X5, X6
	VMAXSS    X6, X5, X5 // amax = maxps(h'0, h'1)

	VDIVSS    X10, X5, X6 // d = amax/127
	VCVTPS2PH $0, X6, X6
	VMOVD     X6, AX
	MOVW      AX, (DI)
	VDIVSS    X5, X10, X7 // 127/amax
	VCMPSS    $4, X11, X5, X6 // amax != 0 (NEQ_UQ: true for NaN)
	VANDPS    X6, X7, X7
	VBROADCASTSS X7, Y7

	VMULPS    Y7, Y0, Y0
	VMULPS    Y7, Y1, Y1
	VMULPS    Y7, Y2, Y2
	VMULPS    Y7, Y3, Y3
	VROUNDPS  $0, Y0, Y0
	VROUNDPS  $0, Y1, Y1
	VROUNDPS  $0, Y2, Y2
	VROUNDPS  $0, Y3, Y3
	VCVTPS2DQ Y0, Y0
	VCVTPS2DQ Y1, Y1
	VCVTPS2DQ Y2, Y2
	VCVTPS2DQ Y3, Y3
	VPACKSSDW Y1, Y0, Y0
	VPACKSSDW Y3, Y2, Y2
	VPACKSSWB Y2, Y0, Y0
	VPERMD    Y0, Y9, Y0
	VMOVDQU   Y0, 2(DI)

	ADDQ $128, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q80block
	VZEROUPPER

q80done:
	RET
