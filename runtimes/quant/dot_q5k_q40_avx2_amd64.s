//go:build !noasm

#include "textflag.h"

// AVX2/F16C twins of the generic-order dots dotQ5_KQ8_K (dot_kquants.go)
// and dotQ4_0Q8_0 (dot_legacy.go). The integer block sums are exact int32
// however they are formed, so vpmaddubsw/vpmaddwd form them here; what
// must match the Go code bit for bit is the float part, which below is a
// sequence of single correctly rounded vmulps/vaddps/vsubss operations in
// the Go order. There is no FMA anywhere: the Go code rounds every product
// (float32(a*b)) before it is added.
//
// Block layouts: Q5_K 176 B (d, dmin fp16; scales[12]; qh[32]; qs[128]);
// Q8_K 292 B (d f32; qs[256] int8; bsums[16] int16); Q4_0 18 B (d fp16;
// qs[16]); Q8_0 34 B (d fp16; qs[32] int8).

DATA q5kNib<>+0(SB)/4, $0x0f0f0f0f
GLOBL q5kNib<>(SB), RODATA|NOPTR, $4
DATA q5kBit4<>+0(SB)/4, $0x10101010
GLOBL q5kBit4<>(SB), RODATA|NOPTR, $4
DATA q40Eight<>+0(SB)/4, $0x08080808
GLOBL q40Eight<>(SB), RODATA|NOPTR, $4
DATA q40Ones<>+0(SB)/4, $0x00010001
GLOBL q40Ones<>(SB), RODATA|NOPTR, $4

// q5kLanes is the vpshufb mask that makes dotQ45K's lanes (aux[l&7] for
// element l of a 32-byte chunk) fall out of vpmaddubsw/vpmaddwd. Lane k
// holds elements k, k+8 (low 128 bits) and k+16, k+24 (high 128 bits).
// The low half pairs bytes k and k+8 into word k, so vpmaddubsw word k is
// lane k for k = 0..7; the high half puts lanes 4..7 in words 0..3 and
// lanes 0..3 in words 4..7. Interleaving the low-nibble words with the
// high-nibble words (vpunpcklwd/vpunpckhwd) and vpmaddwd with [s1, s2]
// then gives int32 lanes [0..3 | 4..7] and [4..7 | 0..3].
DATA q5kLanes<>+0(SB)/8, $0x0b030a0209010800
DATA q5kLanes<>+8(SB)/8, $0x0f070e060d050c04
DATA q5kLanes<>+16(SB)/8, $0x0f070e060d050c04
DATA q5kLanes<>+24(SB)/8, $0x0b030a0209010800
GLOBL q5kLanes<>(SB), RODATA|NOPTR, $32

// Q5KCHUNK adds chunk c of one super-block to Y6 (lanes [0..3 | 4..7]) and
// Y7 (lanes [4..7 | 0..3]): s_{2c}·Σ v·q8 over the low nibbles and
// s_{2c+1}·Σ v·q8 over the high nibbles, with v = nibble + 16·(qh bit).
// qs = offset of the chunk's 32 qs bytes in the Q5_K block at SI, lo/hi =
// offsets of its two 32-byte halves in the Q8_K block at DI, sc = 4c (the
// scale word pair at 0(SP)). Y8 holds the permuted qh bytes shifted right
// by 2c (bit 0 → low nibble, bit 1 → high nibble) and is shifted on by 2.
// Pair sums of vpmaddubsw are at most 2·31·128 in magnitude: no
// saturation.
#define Q5KCHUNK(qs, lo, hi, sc) \
	VMOVDQU    qs(SI), Y0     \
	VPSHUFB    Y14, Y0, Y0    \
	VPAND      Y15, Y0, Y1    \
	VPSRLW     $4, Y0, Y0     \
	VPAND      Y15, Y0, Y0    \
	VPSLLW     $4, Y8, Y2     \
	VPAND      Y13, Y2, Y2    \
	VPOR       Y2, Y1, Y1     \
	VPSLLW     $3, Y8, Y2     \
	VPAND      Y13, Y2, Y2    \
	VPOR       Y2, Y0, Y0     \
	VPSRLW     $2, Y8, Y8     \
	VMOVDQU    lo(DI), Y3     \
	VPSHUFB    Y14, Y3, Y3    \
	VPMADDUBSW Y3, Y1, Y1     \
	VMOVDQU    hi(DI), Y4     \
	VPSHUFB    Y14, Y4, Y4    \
	VPMADDUBSW Y4, Y0, Y0     \
	VPBROADCASTD sc(SP), Y5   \
	VPUNPCKLWD Y0, Y1, Y2     \
	VPMADDWD   Y5, Y2, Y2     \
	VPADDD     Y2, Y6, Y6     \
	VPUNPCKHWD Y0, Y1, Y3     \
	VPMADDWD   Y5, Y3, Y3     \
	VPADDD     Y3, Y7, Y7

// func q5KDotAVX2(w, a *byte, nb int) float32
//
// dotQ5_KQ8_K for nb ≥ 0 Q5_K blocks at w and Q8_K blocks at a. Per block:
// d = fp16(w.d)·a.d and dmin = fp16(w.dmin)·a.d (vmulps, lanes 0 and 1);
// sums[l] = sums[l] + d·float(aux[l]) in 8 lanes (vcvtdq2ps, vmulps,
// vaddps); sumf = sumf − dmin·float(sumi). Then sumf += sums[0], …,
// sums[7], one vaddss each. The float32 conversions round to nearest, as
// Go's do.
TEXT ·q5KDotAVX2(SB), NOSPLIT, $16-28
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y12, Y12, Y12
	VXORPS X11, X11, X11
	VPBROADCASTD q5kNib<>(SB), Y15
	VPBROADCASTD q5kBit4<>(SB), Y13
	VMOVDQU q5kLanes<>(SB), Y14
	TESTQ CX, CX
	JZ    q5kdone

q5kloop:
	PREFETCHT0 2048(SI)
	PREFETCHT0 2112(SI)
	PREFETCHT0 2176(SI)

	// get_scale_min_k4 for j = 0..7 from A, B, C = scales[0:4], [4:8],
	// [8:12]: scales = A&63 (j < 4), C&15 | (A>>6)<<4 (j ≥ 4); mins =
	// B&63, C>>4 | (B>>6)<<4. Byte-parallel in 32-bit registers.
	MOVL  4(SI), AX
	MOVL  8(SI), BX
	MOVL  12(SI), DX
	MOVL  AX, R8
	SHRL  $6, R8
	ANDL  $0x03030303, R8
	SHLL  $4, R8
	MOVL  DX, R9
	ANDL  $0x0f0f0f0f, R9
	ORL   R8, R9
	MOVL  BX, R10
	SHRL  $6, R10
	ANDL  $0x03030303, R10
	SHLL  $4, R10
	SHRL  $4, DX
	ANDL  $0x0f0f0f0f, DX
	ORL   R10, DX
	ANDL  $0x3f3f3f3f, AX
	ANDL  $0x3f3f3f3f, BX
	SHLQ  $32, R9
	ORQ   R9, AX
	SHLQ  $32, DX
	ORQ   DX, BX
	// The 8 scales as words at 0(SP): word pair c is [s_{2c}, s_{2c+1}].
	VMOVQ AX, X0
	VPMOVZXBW X0, X0
	VMOVDQU X0, 0(SP)
	// sumi = Σ_j bsums[j]·mins[j/2]: vpmaddwd with [m0 m0 m1 m1 … m7 m7].
	VMOVQ BX, X1
	VPMOVZXBW X1, X1
	VPUNPCKLWD X1, X1, X2
	VPUNPCKHWD X1, X1, X3
	VINSERTI128 $1, X3, Y2, Y2
	VPMADDWD 260(DI), Y2, Y2
	VEXTRACTI128 $1, Y2, X3
	VPADDD X3, X2, X2
	VPSHUFD $0x4e, X2, X3
	VPADDD X3, X2, X2
	VPSHUFD $0xb1, X2, X3
	VPADDD X3, X2, X9 // lane 0: sumi

	VMOVDQU 16(SI), Y8
	VPSHUFB Y14, Y8, Y8
	VPXOR   Y6, Y6, Y6
	VPXOR   Y7, Y7, Y7
	Q5KCHUNK(48, 4, 36, 0)
	Q5KCHUNK(80, 68, 100, 4)
	Q5KCHUNK(112, 132, 164, 8)
	Q5KCHUNK(144, 196, 228, 12)
	VPERMQ $0x4e, Y7, Y7
	VPADDD Y7, Y6, Y6 // aux[0..7]

	// [d, dmin] = [fp16(w.d), fp16(w.dmin)]·a.d; lanes 2, 3 are 0.
	VMOVD        (SI), X0
	VCVTPH2PS    X0, X0
	VBROADCASTSS (DI), X1
	VMULPS       X1, X0, X0
	VBROADCASTSS X0, Y1
	VCVTDQ2PS    Y6, Y6
	VMULPS       Y1, Y6, Y6
	VADDPS       Y6, Y12, Y12
	VMOVSHDUP    X0, X0
	VCVTDQ2PS    X9, X9
	VMULSS       X0, X9, X9
	VSUBSS       X9, X11, X11

	ADDQ $176, SI
	ADDQ $292, DI
	DECQ CX
	JNZ  q5kloop

q5kdone:
	VADDSS       X12, X11, X11
	VMOVSHDUP    X12, X0
	VADDSS       X0, X11, X11
	VMOVHLPS     X12, X12, X0
	VADDSS       X0, X11, X11
	VPSHUFD      $0x03, X12, X0
	VADDSS       X0, X11, X11
	VEXTRACTF128 $1, Y12, X12
	VADDSS       X12, X11, X11
	VMOVSHDUP    X12, X0
	VADDSS       X0, X11, X11
	VMOVHLPS     X12, X12, X0
	VADDSS       X0, X11, X11
	VPSHUFD      $0x03, X12, X0
	VADDSS       X0, X11, X11
	VMOVSS       X11, ret+24(FP)
	VZEROUPPER
	RET

// Q40BLOCK sets dst to 8 int32 lanes summing to Σ (q−8)·q8 of the Q4_0
// block at w(SI) and the Q8_0 block at a(DI). The nibbles are unsigned:
// vpmaddubsw forms Σ q·q8 and Σ 8·q8 per pair of bytes (at most 3840 and
// 2048 in magnitude, no saturation), their difference is exact in a
// word, and vpmaddwd with ones widens and pairs it. (ggml's sign trick,
// |x|·sign(y, x), would get q8 = −128 wrong.)
#define Q40BLOCK(w, a, dst) \
	VMOVDQU     w+2(SI), X0   \
	VPSRLW      $4, X0, X1    \
	VINSERTI128 $1, X1, Y0, Y0 \
	VPAND       Y15, Y0, Y0   \
	VMOVDQU     a+2(DI), Y1   \
	VPMADDUBSW  Y1, Y0, Y2    \
	VPMADDUBSW  Y1, Y14, Y3   \
	VPSUBW      Y3, Y2, Y2    \
	VPMADDWD    Y13, Y2, dst

// func q4_0DotAVX2(w, a *byte, nb int) float32
//
// dotQ4_0Q8_0 for nb ≥ 0 Q4_0 blocks at w and Q8_0 blocks at a: per block
// in order, sumf = sumf + (float(s)·fp16(w.d))·fp16(a.d), each operation
// rounded to float32. Four blocks at a time form their sums and products
// side by side (vmulps on 4 lanes is 4 independent roundings); only the
// additions into sumf are a chain.
TEXT ·q4_0DotAVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS X11, X11, X11
	VPBROADCASTD q5kNib<>(SB), Y15
	VPBROADCASTD q40Eight<>(SB), Y14
	VPBROADCASTD q40Ones<>(SB), Y13
	CMPQ CX, $4
	JLT  q40tail

q40loop4:
	PREFETCHT0 2048(SI)
	PREFETCHT0 2112(SI)
	Q40BLOCK(0, 0, Y4)
	Q40BLOCK(18, 34, Y5)
	Q40BLOCK(36, 68, Y6)
	Q40BLOCK(54, 102, Y7)
	VPHADDD      Y5, Y4, Y4
	VPHADDD      Y7, Y6, Y6
	VPHADDD      Y6, Y4, Y4
	VEXTRACTI128 $1, Y4, X5
	VPADDD       X5, X4, X4 // [s0 s1 s2 s3]
	VCVTDQ2PS    X4, X4
	MOVWLZX      (SI), AX
	VMOVD        AX, X5
	VPINSRW      $1, 18(SI), X5, X5
	VPINSRW      $2, 36(SI), X5, X5
	VPINSRW      $3, 54(SI), X5, X5
	VCVTPH2PS    X5, X5
	MOVWLZX      (DI), AX
	VMOVD        AX, X6
	VPINSRW      $1, 34(DI), X6, X6
	VPINSRW      $2, 68(DI), X6, X6
	VPINSRW      $3, 102(DI), X6, X6
	VCVTPH2PS    X6, X6
	VMULPS       X5, X4, X4
	VMULPS       X6, X4, X4
	VADDSS       X4, X11, X11
	VMOVSHDUP    X4, X0
	VADDSS       X0, X11, X11
	VMOVHLPS     X4, X4, X0
	VADDSS       X0, X11, X11
	VPSHUFD      $0x03, X4, X0
	VADDSS       X0, X11, X11
	ADDQ $72, SI
	ADDQ $136, DI
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  q40loop4

q40tail:
	TESTQ CX, CX
	JZ    q40done

q40loop1:
	Q40BLOCK(0, 0, Y4)
	VEXTRACTI128 $1, Y4, X5
	VPADDD       X5, X4, X4
	VPSHUFD      $0x4e, X4, X5
	VPADDD       X5, X4, X4
	VPSHUFD      $0xb1, X4, X5
	VPADDD       X5, X4, X4
	VCVTDQ2PS    X4, X4
	MOVWLZX      (SI), AX
	MOVWLZX      (DI), BX
	SHLL         $16, BX
	ORL          BX, AX
	VMOVD        AX, X5
	VCVTPH2PS    X5, X5 // [dx, dy]
	VMULSS       X5, X4, X4
	VMOVSHDUP    X5, X5
	VMULSS       X5, X4, X4
	VADDSS       X4, X11, X11
	ADDQ $18, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q40loop1

q40done:
	VMOVSS X11, ret+24(FP)
	VZEROUPPER
	RET
