//go:build !noasm

#include "textflag.h"
#include "hsum_amd64.h"

// AVX2/FMA/F16C kernels for the KernelX86AVX512 float orders (x86.go).
// Integer block sums are exact however they are formed, so they are
// computed here with the usual vpmaddubsw/vpmaddwd pairs; what must match
// the Go twins bit for bit is the float part: which integer becomes which
// float lane, each lane's FMA chain in block order, and the reduction tree.
// Every float instruction below is one correctly rounded IEEE operation,
// as the Go emulation's fma32 and float32 arithmetic are.
//
// The one-token kernels (decode) stream their weights from memory once, so
// they prefetch two kilobytes ahead.
//
// Block layouts (kquants.go): Q4_K 144 B (d, dmin fp16, scales[12],
// qs[128]); Q6_K 210 B (ql[128], qh[64], scales[16], d fp16); Q8_K 292 B
// (d f32, qs[256], bsums[16] int16); Q8_0 34 B (d fp16, qs[32]).

DATA nib4<>+0(SB)/4, $0x0f0f0f0f
GLOBL nib4<>(SB), RODATA|NOPTR, $4
DATA hi2<>+0(SB)/4, $0x30303030
GLOBL hi2<>(SB), RODATA|NOPTR, $4

// Q4KSCALES decodes get_scale_min_k4 for all 8 sub-blocks of the Q4_K
// block at SI: the 8 scales zero-extended to words at 0(SP) (16 bytes),
// and Y2 = the 8 mins as words, each twice: [m0 m0 m1 m1 … m7 m7].
// Clobbers AX, BX, DX, DI, R12, R13, X0, X1, X3.
#define Q4KSCALES \
	MOVL  4(SI), AX           \
	MOVL  8(SI), BX           \
	MOVL  12(SI), DX          \
	MOVL  DX, DI              \
	SHRL  $4, DI              \
	ANDL  $0x0f0f0f0f, DI     \
	MOVL  BX, R12             \
	SHRL  $6, R12             \
	ANDL  $0x03030303, R12    \
	SHLL  $4, R12             \
	ORL   R12, DI             \
	MOVL  BX, R13             \
	ANDL  $0x3f3f3f3f, R13    \
	ANDL  $0x0f0f0f0f, DX     \
	MOVL  AX, R12             \
	SHRL  $6, R12             \
	ANDL  $0x03030303, R12    \
	SHLL  $4, R12             \
	ORL   R12, DX             \
	ANDL  $0x3f3f3f3f, AX     \
	SHLQ  $32, DX             \
	ORQ   DX, AX              \
	SHLQ  $32, DI             \
	ORQ   DI, R13             \
	VMOVQ  AX, X0              \
	VPMOVZXBW X0, X0          \
	VMOVDQU X0, 0(SP)         \
	VMOVQ  R13, X1             \
	VPMOVZXBW X1, X1          \
	VPUNPCKLWD X1, X1, X2     \
	VPUNPCKHWD X1, X1, X3     \
	VINSERTI128 $1, X3, Y2, Y2

// Q4KNIBBLES splits the 32 qs bytes of chunk c (offset off = 16+32c) into
// Y1 = low nibbles (elements 64c..64c+31) and Y0 = high nibbles
// (64c+32..64c+63), and broadcasts the chunk's two scales into Y2 and Y3
// (sc = 4c, the byte offset of scale word 2c at 0(SP)).
#define Q4KNIBBLES(off, sc) \
	VMOVDQU off(SI), Y0       \
	VPAND   Y15, Y0, Y1       \
	VPSRLW  $4, Y0, Y0        \
	VPAND   Y15, Y0, Y0       \
	VPBROADCASTW sc(SP), Y2   \
	VPBROADCASTW sc+2(SP), Y3

// Q4KTOK sets dst = the 8 int32 lanes of scale·Σ q·q8 for one chunk of the
// Q8_K block at r (lo, hi: offsets of the chunk's two 32-byte halves).
#define Q4KTOK(r, lo, hi, dst) \
	VPMADDUBSW lo(r), Y1, Y4  \
	VPMADDWD   Y2, Y4, Y4     \
	VPMADDUBSW hi(r), Y0, Y5  \
	VPMADDWD   Y3, Y5, Y5     \
	VPADDD     Y4, Y5, dst

// Q4KCHUNK4 accumulates chunk c of four tokens: isum_c per token
// (reduced to X6 = [t0 t1 t2 t3]), then acc = fma(float(isum_c), d, acc).
#define Q4KCHUNK4(off, sc, lo, hi) \
	Q4KNIBBLES(off, sc)         \
	Q4KTOK(R8, lo, hi, Y6)      \
	Q4KTOK(R9, lo, hi, Y7)      \
	Q4KTOK(R10, lo, hi, Y8)     \
	Q4KTOK(R11, lo, hi, Y9)     \
	VPHADDD Y7, Y6, Y6          \
	VPHADDD Y9, Y8, Y8          \
	VPHADDD Y8, Y6, Y6          \
	VEXTRACTI128 $1, Y6, X7     \
	VPADDD  X7, X6, X6          \
	VCVTDQ2PS X6, X6            \
	VFMADD231PS X14, X6, X12

// func q4KGemm4AVX2(w, a *byte, aStride, nb int, dst *[4]float32)
//
// dotQ4_KGemm for one Q4_K row of nb blocks and the four Q8_K rows at a,
// a+aStride, a+2·aStride, a+3·aStride. Per block and per pair of
// sub-blocks sb: acc = fma(float(isum_sb), fp16(w.d)·a.d, acc) and
// accMin = fma(float(imin_sb), fp16(w.dmin)·a.d, accMin), one lane per
// token; dst[t] = acc − accMin.
TEXT ·q4KGemm4AVX2(SB), NOSPLIT, $16-40
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), R8
	MOVQ aStride+16(FP), DX
	MOVQ nb+24(FP), CX
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	VXORPS X12, X12, X12
	VXORPS X13, X13, X13
	VPBROADCASTD nib4<>(SB), Y15
	TESTQ CX, CX
	JZ    g4done

g4loop:
	Q4KSCALES
	// imin per token: lane k of m_k·(bsums[2k]+bsums[2k+1]); pairs of
	// lanes are the sub-block pairs.
	VPMADDWD 260(R8), Y2, Y3
	VPMADDWD 260(R9), Y2, Y4
	VPMADDWD 260(R10), Y2, Y5
	VPMADDWD 260(R11), Y2, Y6
	VPHADDD  Y4, Y3, Y3
	VPHADDD  Y6, Y5, Y5
	VSHUFPS  $0x88, Y5, Y3, Y4 // [sb0 of t0..t3 | sb2 of t0..t3]
	VSHUFPS  $0xdd, Y5, Y3, Y3 // [sb1 | sb3]
	VCVTDQ2PS Y4, Y4
	VCVTDQ2PS Y3, Y3

	// d and dmin per token: fp16(w.d)·a.d, fp16(w.dmin)·a.d.
	VMOVSS    (R8), X7
	VINSERTPS $0x10, (R9), X7, X7
	VINSERTPS $0x20, (R10), X7, X7
	VINSERTPS $0x30, (R11), X7, X7
	MOVL      (SI), AX
	VMOVD      AX, X8
	VCVTPH2PS X8, X8
	VBROADCASTSS X8, X9
	VPERMILPS $0x55, X8, X10
	VMULPS    X7, X9, X14
	VMULPS    X7, X10, X10

	VFMADD231PS X10, X4, X13
	VFMADD231PS X10, X3, X13
	VEXTRACTF128 $1, Y4, X4
	VEXTRACTF128 $1, Y3, X3
	VFMADD231PS X10, X4, X13
	VFMADD231PS X10, X3, X13

	Q4KCHUNK4(16, 0, 4, 36)
	Q4KCHUNK4(48, 4, 68, 100)
	Q4KCHUNK4(80, 8, 132, 164)
	Q4KCHUNK4(112, 12, 196, 228)

	ADDQ $144, SI
	ADDQ $292, R8
	ADDQ $292, R9
	ADDQ $292, R10
	ADDQ $292, R11
	DECQ CX
	JNZ  g4loop

g4done:
	VSUBPS  X13, X12, X12
	MOVQ    dst+32(FP), DI
	VMOVUPS X12, (DI)
	VZEROUPPER
	RET

// Q4KCHUNK1 adds chunk c of one token's scale·Σ q·q8 lanes into Y6.
#define Q4KCHUNK1(off, sc, lo, hi) \
	Q4KNIBBLES(off, sc)        \
	Q4KTOK(R8, lo, hi, Y4)     \
	VPADDD Y4, Y6, Y6

// func q4KGemvAVX2(w, a *byte, nb int) float32
//
// dotQ4_KGemv: per block isum and imin over all 8 sub-blocks, then
// [acc, accMin] = fma([isum, imin], [fp16(w.d)·a.d, fp16(w.dmin)·a.d],
// [acc, accMin]) in two lanes; the result is acc − accMin.
TEXT ·q4KGemvAVX2(SB), NOSPLIT, $16-28
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), R8
	MOVQ nb+16(FP), CX
	VXORPS X12, X12, X12
	VPBROADCASTD nib4<>(SB), Y15
	TESTQ CX, CX
	JZ    g1done

g1loop:
	PREFETCHT0 2048(SI)
	PREFETCHT0 2112(SI)
	Q4KSCALES
	VPMADDWD 260(R8), Y2, Y10
	VPXOR    Y6, Y6, Y6
	Q4KCHUNK1(16, 0, 4, 36)
	Q4KCHUNK1(48, 4, 68, 100)
	Q4KCHUNK1(80, 8, 132, 164)
	Q4KCHUNK1(112, 12, 196, 228)
	VPHADDD  Y10, Y6, Y6
	VEXTRACTI128 $1, Y6, X7
	VPADDD   X7, X6, X6
	VPHADDD  X6, X6, X6 // [isum, imin, isum, imin]
	VCVTDQ2PS X6, X6
	MOVL     (SI), AX
	VMOVD     AX, X8
	VCVTPH2PS X8, X8
	VBROADCASTSS (R8), X9
	VMULPS   X9, X8, X8
	VFMADD231PS X8, X6, X12

	ADDQ $144, SI
	ADDQ $292, R8
	DECQ CX
	JNZ  g1loop

g1done:
	VMOVSHDUP X12, X13
	VSUBSS    X13, X12, X12
	VMOVSS    X12, ret+24(FP)
	VZEROUPPER
	RET


// Q6KU builds in Y3 the 6-bit values u of chunk c of a Q6_K half from
// Y0 = ql[0:32], Y1 = ql[32:64], Y2 = qh (Y15 = 0x0f, Y14 = 0x30 bytes).
#define Q6KU0 \
	VPAND  Y15, Y0, Y3  \
	VPSLLW $4, Y2, Y4   \
	VPAND  Y14, Y4, Y4  \
	VPOR   Y4, Y3, Y3
#define Q6KU1 \
	VPAND  Y15, Y1, Y3  \
	VPSLLW $2, Y2, Y4   \
	VPAND  Y14, Y4, Y4  \
	VPOR   Y4, Y3, Y3
#define Q6KU2 \
	VPSRLW $4, Y0, Y3   \
	VPAND  Y15, Y3, Y3  \
	VPAND  Y14, Y2, Y4  \
	VPOR   Y4, Y3, Y3
#define Q6KU3 \
	VPSRLW $4, Y1, Y3   \
	VPAND  Y15, Y3, Y3  \
	VPSRLW $2, Y2, Y4   \
	VPAND  Y14, Y4, Y4  \
	VPOR   Y4, Y3, Y3

// Q6KSCALE sets Y5 = [sc[2k] ×8 | sc[2k+1] ×8] as int16 from the scale
// words at 0(SP) (off = 4k).
#define Q6KSCALE(off) \
	VPBROADCASTW off(SP), X5     \
	VPBROADCASTW off+2(SP), X4   \
	VINSERTI128  $1, X4, Y5, Y5

// Q6KLOAD loads half h of the Q6_K block at SI.
#define Q6KLOAD(ql, qh) \
	VMOVDQU ql(SI), Y0      \
	VMOVDQU ql+32(SI), Y1   \
	VMOVDQU qh(SI), Y2

// Q6KTOK1 adds one chunk's scale·u·q8 lanes of the token at R8 into Y10.
#define Q6KTOK1(q8) \
	VPMADDUBSW q8(R8), Y3, Y4 \
	VPMADDWD   Y5, Y4, Y4     \
	VPADDD     Y4, Y10, Y10

#define Q6KCHUNK1(u, sc, q8) \
	u                  \
	Q6KSCALE(sc)       \
	Q6KTOK1(q8)

// func q6KDotAVX2(w, a *byte, nb int) float32
//
// dotQ6_KX86: int32 lane i collects bytes 4i..4i+3 of every 32-byte chunk
// times the chunk half's scale, minus 32·(bsums[2i]·sc[2i] +
// bsums[2i+1]·sc[2i+1]); acc[i] = fma(a.d·fp16(w.d), float(lane i),
// acc[i]); hsum_float_8 at the end.
TEXT ·q6KDotAVX2(SB), NOSPLIT, $32-28
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), R8
	MOVQ nb+16(FP), CX
	VXORPS Y12, Y12, Y12
	VPBROADCASTD nib4<>(SB), Y15
	VPBROADCASTD hi2<>(SB), Y14
	TESTQ CX, CX
	JZ    q61done

q61loop:
	PREFETCHT0 2048(SI)
	PREFETCHT0 2112(SI)
	PREFETCHT0 2176(SI)
	PREFETCHT0 2240(SI)
	VPMOVSXBW 192(SI), Y13
	VMOVDQU   Y13, 0(SP)
	VPMADDWD  260(R8), Y13, Y11
	VPSLLD    $5, Y11, Y11
	VPXOR     Y10, Y10, Y10
	Q6KLOAD(0, 128)
	Q6KCHUNK1(Q6KU0, 0, 4)
	Q6KCHUNK1(Q6KU1, 4, 36)
	Q6KCHUNK1(Q6KU2, 8, 68)
	Q6KCHUNK1(Q6KU3, 12, 100)
	Q6KLOAD(64, 160)
	Q6KCHUNK1(Q6KU0, 16, 132)
	Q6KCHUNK1(Q6KU1, 20, 164)
	Q6KCHUNK1(Q6KU2, 24, 196)
	Q6KCHUNK1(Q6KU3, 28, 228)
	VPSUBD    Y11, Y10, Y10
	VCVTDQ2PS Y10, Y10
	MOVWLZX   208(SI), AX
	VMOVD      AX, X8
	VCVTPH2PS X8, X8
	VMULSS    (R8), X8, X8
	VBROADCASTSS X8, Y8
	VFMADD231PS Y8, Y10, Y12

	ADDQ $210, SI
	ADDQ $292, R8
	DECQ CX
	JNZ  q61loop

q61done:
	HSUM8F(Y12, X12, X0)
	VMOVSS X12, ret+24(FP)
	VZEROUPPER
	RET

// Q6KTOK4 adds one chunk's lanes for the token at r into acc.
#define Q6KTOK4(r, q8, acc) \
	VPMADDUBSW q8(r), Y3, Y4 \
	VPMADDWD   Y5, Y4, Y4    \
	VPADDD     Y4, acc, acc

#define Q6KCHUNK4(u, sc, q8) \
	u                        \
	Q6KSCALE(sc)             \
	Q6KTOK4(R8, q8, Y6)      \
	Q6KTOK4(R9, q8, Y7)      \
	Q6KTOK4(R10, q8, Y8)     \
	Q6KTOK4(R11, q8, Y9)

// Q6KEND4 finishes one token's block: lane − 32·bsum terms, to float,
// acc = fma(a.d·fp16(w.d), lanes, acc). Y5 holds the scale words, Y3
// the broadcast fp16(w.d).
#define Q6KEND4(r, lanes, acc) \
	VPMADDWD  260(r), Y5, Y4   \
	VPSLLD    $5, Y4, Y4       \
	VPSUBD    Y4, lanes, lanes \
	VCVTDQ2PS lanes, lanes     \
	VBROADCASTSS (r), Y4       \
	VMULPS    Y3, Y4, Y4       \
	VFMADD231PS Y4, lanes, acc

// func q6KDot4AVX2(w, a *byte, aStride, nb int, dst *[4]float32)
//
// q6KDotAVX2 for the four Q8_K rows at a + t·aStride, t = 0..3, sharing
// the unpacking of the weights.
TEXT ·q6KDot4AVX2(SB), NOSPLIT, $32-40
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), R8
	MOVQ aStride+16(FP), DX
	MOVQ nb+24(FP), CX
	LEAQ (R8)(DX*1), R9
	LEAQ (R9)(DX*1), R10
	LEAQ (R10)(DX*1), R11
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	VXORPS Y12, Y12, Y12
	VXORPS Y13, Y13, Y13
	VPBROADCASTD nib4<>(SB), Y15
	VPBROADCASTD hi2<>(SB), Y14
	TESTQ CX, CX
	JZ    q64done

q64loop:
	VPMOVSXBW 192(SI), Y5
	VMOVDQU   Y5, 0(SP)
	VPXOR     Y6, Y6, Y6
	VPXOR     Y7, Y7, Y7
	VPXOR     Y8, Y8, Y8
	VPXOR     Y9, Y9, Y9
	Q6KLOAD(0, 128)
	Q6KCHUNK4(Q6KU0, 0, 4)
	Q6KCHUNK4(Q6KU1, 4, 36)
	Q6KCHUNK4(Q6KU2, 8, 68)
	Q6KCHUNK4(Q6KU3, 12, 100)
	Q6KLOAD(64, 160)
	Q6KCHUNK4(Q6KU0, 16, 132)
	Q6KCHUNK4(Q6KU1, 20, 164)
	Q6KCHUNK4(Q6KU2, 24, 196)
	Q6KCHUNK4(Q6KU3, 28, 228)
	VMOVDQU   0(SP), Y5
	MOVWLZX   208(SI), AX
	VMOVD      AX, X3
	VCVTPH2PS X3, X3
	VBROADCASTSS X3, Y3
	Q6KEND4(R8, Y6, Y10)
	Q6KEND4(R9, Y7, Y11)
	Q6KEND4(R10, Y8, Y12)
	Q6KEND4(R11, Y9, Y13)

	ADDQ $210, SI
	ADDQ $292, R8
	ADDQ $292, R9
	ADDQ $292, R10
	ADDQ $292, R11
	DECQ CX
	JNZ  q64loop

q64done:
	MOVQ dst+32(FP), DI
	HSUM8F4(DI, Y10, X10, Y11, X11, Y12, X12, Y13, X13)
	VZEROUPPER
	RET
