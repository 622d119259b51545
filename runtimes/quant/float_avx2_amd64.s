//go:build !noasm

#include "textflag.h"
#include "hsum_amd64.h"

// AVX2/FMA/F16C twins of the float kernels: the tinyBLAS and vec_dot
// orders of KernelX86AVX512 for F32/F16/Q8_0 weights (x86.go), the F16,
// Q4_K and Q6_K dequantizers (float.go, kquants.go), in the same operations
// and order as the Go code, one IEEE rounding per operation.

DATA f16abs<>+0(SB)/4, $0x00007fff
GLOBL f16abs<>(SB), RODATA|NOPTR, $4
DATA f16inf<>+0(SB)/4, $0x00007c00
GLOBL f16inf<>(SB), RODATA|NOPTR, $4
DATA f16man<>+0(SB)/4, $0x000003ff
GLOBL f16man<>(SB), RODATA|NOPTR, $4
DATA f32quiet<>+0(SB)/4, $0xffbfffff
GLOBL f32quiet<>(SB), RODATA|NOPTR, $4
DATA nibmask<>+0(SB)/4, $0x0000000f
GLOBL nibmask<>(SB), RODATA|NOPTR, $4

DATA q6nib<>+0(SB)/4, $0x0f0f0f0f
GLOBL q6nib<>(SB), RODATA|NOPTR, $4
DATA q6hi<>+0(SB)/4, $0x30303030
GLOBL q6hi<>(SB), RODATA|NOPTR, $4
DATA q6off<>+0(SB)/4, $0x20202020
GLOBL q6off<>(SB), RODATA|NOPTR, $4

// Q6KOUT writes the 32 values of one chunk: Y3 holds u (0..63) as bytes;
// q = u − 32 goes to 0(SP), then 4 groups of 8 are widened, converted and
// multiplied by the sub-block factor (Y8 for the first 16, Y9 for the
// rest) into out (a register holding the chunk's output address).
#define Q6KOUT(out) \
	VPSUBB    Y14, Y3, Y3        \
	VMOVDQU   Y3, 0(SP)          \
	VPMOVSXBD 0(SP), Y4          \
	VPMOVSXBD 8(SP), Y5          \
	VPMOVSXBD 16(SP), Y6         \
	VPMOVSXBD 24(SP), Y7         \
	VCVTDQ2PS Y4, Y4             \
	VCVTDQ2PS Y5, Y5             \
	VCVTDQ2PS Y6, Y6             \
	VCVTDQ2PS Y7, Y7             \
	VMULPS    Y4, Y8, Y4         \
	VMULPS    Y5, Y8, Y5         \
	VMULPS    Y6, Y9, Y6         \
	VMULPS    Y7, Y9, Y7         \
	VMOVUPS   Y4, 0(out)         \
	VMOVUPS   Y5, 32(out)        \
	VMOVUPS   Y6, 64(out)        \
	VMOVUPS   Y7, 96(out)

#define Q6KD0 \
	VPAND  Y15, Y0, Y3  \
	VPSLLW $4, Y2, Y4   \
	VPAND  Y13, Y4, Y4  \
	VPOR   Y4, Y3, Y3
#define Q6KD1 \
	VPAND  Y15, Y1, Y3  \
	VPSLLW $2, Y2, Y4   \
	VPAND  Y13, Y4, Y4  \
	VPOR   Y4, Y3, Y3
#define Q6KD2 \
	VPSRLW $4, Y0, Y3   \
	VPAND  Y15, Y3, Y3  \
	VPAND  Y13, Y2, Y4  \
	VPOR   Y4, Y3, Y3
#define Q6KD3 \
	VPSRLW $4, Y1, Y3   \
	VPAND  Y15, Y3, Y3  \
	VPSRLW $2, Y2, Y4   \
	VPAND  Y13, Y4, Y4  \
	VPOR   Y4, Y3, Y3

// Q6KDCHUNK: chunk k of half h: factors ds[8h+2k], ds[8h+2k+1] at
// DX + 4·(8h+2k), output at DI + 4·(128h+32k).
#define Q6KDCHUNK(u, ds, o) \
	VBROADCASTSS ds(DX), Y8      \
	VBROADCASTSS ds+4(DX), Y9    \
	u                            \
	LEAQ o(DI), R8               \
	Q6KOUT(R8)


// func f32Dot16AVX2(x, y *byte, n16 int) float32
//
// dotF32Tiny: 16 lanes (Y0 = lanes 0..7, Y1 = 8..15), lane l fusing
// x[i+l]·y[i+l] in order of i; then reduce16: t[i] = v[8+i] + v[i],
// hsum_float_8(t).
TEXT ·f32Dot16AVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n16+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	TESTQ CX, CX
	JZ    t32done

t32loop:
	VMOVUPS (SI), Y2
	VMOVUPS 32(SI), Y3
	VFMADD231PS (DI), Y2, Y0
	VFMADD231PS 32(DI), Y3, Y1
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  t32loop

t32done:
	VADDPS Y0, Y1, Y0
	HSUM8F(Y0, X0, X1)
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func f16Dot16AVX2(x, y *byte, n16 int) float32
//
// dotF16Tiny: dotF32Tiny over fp16 values widened with vcvtph2ps.
TEXT ·f16Dot16AVX2(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n16+16(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	TESTQ CX, CX
	JZ    t16done

t16loop:
	VCVTPH2PS (SI), Y2
	VCVTPH2PS 16(SI), Y3
	VCVTPH2PS (DI), Y4
	VCVTPH2PS 16(DI), Y5
	VFMADD231PS Y4, Y2, Y0
	VFMADD231PS Y5, Y3, Y1
	ADDQ $32, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  t16loop

t16done:
	VADDPS Y0, Y1, Y0
	HSUM8F(Y0, X0, X1)
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// REDUCE4X16 is reduce4x16 then reduce16 of the eight accumulators Y0..Y7
// (accumulator j lanes 0..7 in Y(2j), 8..15 in Y(2j+1)) into X0.
#define REDUCE4X16 \
	VADDPS Y4, Y0, Y0 \
	VADDPS Y6, Y2, Y2 \
	VADDPS Y2, Y0, Y0 \
	VADDPS Y5, Y1, Y1 \
	VADDPS Y7, Y3, Y3 \
	VADDPS Y3, Y1, Y1 \
	VADDPS Y0, Y1, Y0 \
	HSUM8F(Y0, X0, X1)

// func f32Dot64AVX2(x, y *byte, n64 int) float32
//
// dotF32Vec's SIMD part: four 16-lane accumulators over the first 64·n64
// elements (element 64i+16j+l into accumulator j, lane l), reduced by
// reduce4x16.
TEXT ·f32Dot64AVX2(SB), NOSPLIT, $0-28
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
	JZ    v32done

v32loop:
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
	JNZ  v32loop

v32done:
	REDUCE4X16
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func f16Dot64AVX2(x, y *byte, n64 int) float32
//
// dotF16Vec's SIMD part: f32Dot64AVX2 over fp16 values widened with
// vcvtph2ps.
TEXT ·f16Dot64AVX2(SB), NOSPLIT, $0-28
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
	JZ    v16done

v16loop:
	VCVTPH2PS 0(SI), Y8
	VCVTPH2PS 16(SI), Y9
	VCVTPH2PS 32(SI), Y10
	VCVTPH2PS 48(SI), Y11
	VCVTPH2PS 0(DI), Y12
	VCVTPH2PS 16(DI), Y13
	VCVTPH2PS 32(DI), Y14
	VCVTPH2PS 48(DI), Y15
	VFMADD231PS Y12, Y8, Y0
	VFMADD231PS Y13, Y9, Y1
	VFMADD231PS Y14, Y10, Y2
	VFMADD231PS Y15, Y11, Y3
	VCVTPH2PS 64(SI), Y8
	VCVTPH2PS 80(SI), Y9
	VCVTPH2PS 96(SI), Y10
	VCVTPH2PS 112(SI), Y11
	VCVTPH2PS 64(DI), Y12
	VCVTPH2PS 80(DI), Y13
	VCVTPH2PS 96(DI), Y14
	VCVTPH2PS 112(DI), Y15
	VFMADD231PS Y12, Y8, Y4
	VFMADD231PS Y13, Y9, Y5
	VFMADD231PS Y14, Y10, Y6
	VFMADD231PS Y15, Y11, Y7
	ADDQ $128, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  v16loop

v16done:
	REDUCE4X16
	VMOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func q8_0DotAVX2(w, a *byte, nb int) float32
//
// dotQ8_0X86: per block, int32 lane i is the exact sum of the products of
// bytes 4i..4i+3 (sign-extended to words, vpmaddwd, then pairs added),
// d = fp16(w.d)·fp16(a.d), acc[i] = fma(d, float(lane i), acc[i]);
// hsum_float_8 at the end. vphaddd leaves the lanes in the order
// 0,1,4,5,2,3,6,7; the accumulator keeps that order (each lane is its own
// chain) and is put back in order once, before the reduction.
TEXT ·q8_0DotAVX2(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y12, Y12, Y12
	TESTQ CX, CX
	JZ    q80done

q80loop:
	VPMOVSXBW 2(SI), Y0
	VPMOVSXBW 18(SI), Y1
	VPMOVSXBW 2(DI), Y2
	VPMOVSXBW 18(DI), Y3
	VPMADDWD  Y2, Y0, Y0
	VPMADDWD  Y3, Y1, Y1
	VPHADDD   Y1, Y0, Y0
	VCVTDQ2PS Y0, Y0
	MOVWLZX   (SI), AX
	MOVWLZX   (DI), BX
	SHLL      $16, BX
	ORL       BX, AX
	VMOVD     AX, X1
	VCVTPH2PS X1, X1
	VMOVSHDUP X1, X2
	VMULSS    X2, X1, X1
	VBROADCASTSS X1, Y1
	VFMADD231PS Y0, Y1, Y12
	ADDQ $34, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q80loop

q80done:
	VPERMQ $0xd8, Y12, Y12
	HSUM8F(Y12, X12, X0)
	VMOVSS X12, ret+24(FP)
	VZEROUPPER
	RET

// Q80TOKEN adds one activation block (scale at d, quants at lo and hi)
// against the weights in Y0/Y1 (scale in X4) to acc, as q8_0DotAVX2's
// loop body does: lanes of four byte products, d = w.d·a.d in f32, FMA.
#define Q80TOKEN(d, lo, hi, acc) \
	VPMOVSXBW lo, Y2           \
	VPMOVSXBW hi, Y3           \
	VPMADDWD  Y2, Y0, Y2       \
	VPMADDWD  Y3, Y1, Y3       \
	VPHADDD   Y3, Y2, Y2       \
	VCVTDQ2PS Y2, Y2           \
	MOVWLZX   d, AX            \
	VMOVD     AX, X5           \
	VCVTPH2PS X5, X5           \
	VMULSS    X5, X4, X5       \
	VBROADCASTSS X5, Y5        \
	VFMADD231PS Y2, Y5, acc

// func q8_0Dot4AVX2(w, a *byte, aStride, nb int, dst *[4]float32)
//
// q8_0DotAVX2 for one weight row and four activation rows (aStride bytes
// apart): each block's weights are sign-extended once and meet the four
// rows in turn, each output in its own accumulator with q8_0DotAVX2's
// lanes, scale and reduction, so dst[t] has the bits of the one-row dot.
TEXT ·q8_0Dot4AVX2(SB), NOSPLIT, $0-40
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ aStride+16(FP), DX
	MOVQ nb+24(FP), CX
	LEAQ (DX)(DX*2), R11
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	TESTQ CX, CX
	JZ    q804done

q804loop:
	VPMOVSXBW 2(SI), Y0
	VPMOVSXBW 18(SI), Y1
	MOVWLZX   (SI), AX
	VMOVD     AX, X4
	VCVTPH2PS X4, X4 // fp16(w.d)
	Q80TOKEN((DI), 2(DI), 18(DI), Y8)
	Q80TOKEN((DI)(DX*1), 2(DI)(DX*1), 18(DI)(DX*1), Y9)
	Q80TOKEN((DI)(DX*2), 2(DI)(DX*2), 18(DI)(DX*2), Y10)
	Q80TOKEN((DI)(R11*1), 2(DI)(R11*1), 18(DI)(R11*1), Y11)
	ADDQ $34, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  q804loop

q804done:
	MOVQ dst+32(FP), BX
	VPERMQ $0xd8, Y8, Y8 // undo VPHADDD's lane order, as q8_0DotAVX2 does
	VPERMQ $0xd8, Y9, Y9
	VPERMQ $0xd8, Y10, Y10
	VPERMQ $0xd8, Y11, Y11
	HSUM8F4(BX, Y8, X8, Y9, X9, Y10, X10, Y11, X11)
	VZEROUPPER
	RET

// func f16ToF32AVX2(dst *float32, src *byte, n8 int)
//
// dequantF16 for 8·n8 values: vcvtph2ps, except that a NaN keeps its
// payload without the quiet bit forced, as the Go table (and
// ggml_compute_fp16_to_fp32) has it: for NaN inputs the result is
// sign | 0x7f800000 | mantissa<<13.
TEXT ·f16ToF32AVX2(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n8+16(FP), CX
	VPBROADCASTD f16abs<>(SB), Y10
	VPBROADCASTD f16inf<>(SB), Y11
	VPBROADCASTD f16man<>(SB), Y12
	VPBROADCASTD f32quiet<>(SB), Y13
	TESTQ CX, CX
	JZ    h2fdone

h2floop:
	VCVTPH2PS (SI), Y0
	VPMOVZXWD (SI), Y1
	VPAND     Y10, Y1, Y2
	VPCMPGTD  Y11, Y2, Y3 // NaN: |h| > 0x7c00
	VPAND     Y12, Y1, Y4
	VPSLLD    $13, Y4, Y4
	VPAND     Y13, Y0, Y5
	VPOR      Y4, Y5, Y5
	VPBLENDVB Y3, Y5, Y0, Y0
	VMOVUPS   Y0, (DI)
	ADDQ $16, SI
	ADDQ $32, DI
	DECQ CX
	JNZ  h2floop

h2fdone:
	VZEROUPPER
	RET

// func q4KScalesAVX2(f *float32, src *byte, nb int)
//
// The factors dequantQ4_KAVX2 hands q4KDequantAVX2: for each of nb Q4_K
// blocks (144 bytes apart) the sixteen floats d·s0, dmin·m0, d·s1,
// dmin·m1, …, d·s7, dmin·m7, where (s_j, m_j) is sub-block j's 6-bit scale
// and min (scaleMinK4, unpacked here four at a time from 32-bit words with
// the masks ggml uses) and d, dmin the block's fp16 factors (vcvtph2ps is
// exact): one rounded multiply each, as the Go loop computes them.
TEXT ·q4KScalesAVX2(SB), NOSPLIT, $0-24
	MOVQ f+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JZ    q4sdone

q4sloop:
	PREFETCHT0 1152(SI)                 // eight blocks ahead: this pass is the first to touch the weights
	PREFETCHT0 1216(SI)
	PREFETCHT0 1280(SI)
	VCVTPH2PS (SI), X4                  // [d, dmin, ·, ·]
	VPERMILPS $0x44, X4, X4             // [d, dmin, d, dmin]
	VINSERTF128 $1, X4, Y4, Y4
	MOVL 4(SI), AX                      // scale bytes 0..3
	MOVL 8(SI), BX                      // 4..7
	MOVL 12(SI), DX                     // 8..11
	MOVL AX, R8                         // s0..s3 = q[j] & 63
	ANDL $0x3f3f3f3f, R8
	MOVL DX, R9                         // s4..s7 = q[j+4]&0xf | q[j−4]>>6<<4
	ANDL $0x0f0f0f0f, R9
	MOVL AX, R10
	SHRL $6, R10
	ANDL $0x03030303, R10
	SHLL $4, R10
	ORL  R10, R9
	MOVL BX, R11                        // m0..m3 = q[j+4] & 63
	ANDL $0x3f3f3f3f, R11
	MOVL DX, R12                        // m4..m7 = q[j+4]>>4 | q[j]>>6<<4
	SHRL $4, R12
	ANDL $0x0f0f0f0f, R12
	MOVL BX, R10
	SHRL $6, R10
	ANDL $0x03030303, R10
	SHLL $4, R10
	ORL  R10, R12
	SHLQ $32, R9
	ORQ  R9, R8
	SHLQ $32, R12
	ORQ  R12, R11
	VMOVQ R8, X0
	VMOVQ R11, X1
	VPUNPCKLBW X1, X0, X0               // s0, m0, s1, m1, …, s7, m7
	VPMOVZXBD X0, Y1
	VPSRLDQ $8, X0, X2
	VPMOVZXBD X2, Y2
	VCVTDQ2PS Y1, Y1
	VCVTDQ2PS Y2, Y2
	VMULPS Y4, Y1, Y1
	VMULPS Y4, Y2, Y2
	VMOVUPS Y1, 0(DI)
	VMOVUPS Y2, 32(DI)
	ADDQ $144, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  q4sloop

q4sdone:
	VZEROUPPER
	RET

// func q6KScalesAVX2(ds *float32, src *byte, nb int)
//
// The factors dequantQ6_KAVX2 hands q6KDequantAVX2: for each of nb Q6_K
// blocks (210 bytes apart) the sixteen floats d·sc_i, sc_i the int8 scale
// of sub-block i and d the fp16 factor at 208: one rounded multiply each.
TEXT ·q6KScalesAVX2(SB), NOSPLIT, $0-24
	MOVQ ds+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ nb+16(FP), CX
	TESTQ CX, CX
	JZ    q6sdone

q6sloop:
	PREFETCHT0 1680(SI)                 // eight blocks ahead, as q4KScalesAVX2
	PREFETCHT0 1744(SI)
	PREFETCHT0 1808(SI)
	PREFETCHT0 1872(SI)
	MOVWLZX 208(SI), AX
	VMOVD   AX, X4
	VCVTPH2PS X4, X4
	VBROADCASTSS X4, Y4
	VPMOVSXBD 192(SI), Y1
	VPMOVSXBD 200(SI), Y2
	VCVTDQ2PS Y1, Y1
	VCVTDQ2PS Y2, Y2
	VMULPS Y4, Y1, Y1
	VMULPS Y4, Y2, Y2
	VMOVUPS Y1, 0(DI)
	VMOVUPS Y2, 32(DI)
	ADDQ $210, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  q6sloop

q6sdone:
	VZEROUPPER
	RET

// func q4KDequantAVX2(dst *float32, src *byte, scales *float32, nb int)
//
// dequantQ4_K: per 64-element chunk c, out = d1·q − mm1 for the low
// nibbles and d2·q − mm2 for the high ones, a rounded multiply then a
// rounded subtract. scales holds, per block and chunk, the four float32
// factors d1 = d·s1, mm1 = dmin·m1, d2, mm2 that dequantQ4_K computes
// (16 per block, from the Go side).
TEXT ·q4KDequantAVX2(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ scales+16(FP), DX
	MOVQ nb+24(FP), CX
	VPBROADCASTD nibmask<>(SB), Y15
	TESTQ CX, CX
	JZ    dq4done

dq4loop:
	XORQ AX, AX

dq4chunk:
	MOVQ AX, BX
	SHLQ $4, BX
	VBROADCASTSS 0(DX)(BX*1), Y8
	VBROADCASTSS 4(DX)(BX*1), Y9
	VBROADCASTSS 8(DX)(BX*1), Y10
	VBROADCASTSS 12(DX)(BX*1), Y11
	MOVQ AX, R8
	SHLQ $5, R8
	LEAQ 16(SI)(R8*1), R8
	MOVQ AX, R9
	SHLQ $8, R9
	LEAQ (DI)(R9*1), R9
	XORQ R10, R10

dq4part:
	VPMOVZXBD (R8)(R10*1), Y0
	VPAND     Y15, Y0, Y1
	VPSRLD    $4, Y0, Y0
	VCVTDQ2PS Y1, Y1
	VCVTDQ2PS Y0, Y0
	VMULPS    Y8, Y1, Y1
	VSUBPS    Y9, Y1, Y1
	VMULPS    Y10, Y0, Y0
	VSUBPS    Y11, Y0, Y0
	VMOVUPS   Y1, (R9)(R10*4)
	VMOVUPS   Y0, 128(R9)(R10*4)
	ADDQ $8, R10
	CMPQ R10, $32
	JNE  dq4part

	INCQ AX
	CMPQ AX, $4
	JNE  dq4chunk

	ADDQ $144, SI
	ADDQ $1024, DI
	ADDQ $64, DX
	DECQ CX
	JNZ  dq4loop

dq4done:
	VZEROUPPER
	RET

// func q6KDequantAVX2(dst *float32, src *byte, ds *float32, nb int)
//
// dequantQ6_K: y = (d·sc)·q, the factor d·sc of each 16-element sub-block
// computed on the Go side (16 per block at ds), then one rounded multiply
// per value.
TEXT ·q6KDequantAVX2(SB), NOSPLIT, $32-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ds+16(FP), DX
	MOVQ nb+24(FP), CX
	VPBROADCASTD q6nib<>(SB), Y15
	VPBROADCASTD q6off<>(SB), Y14
	VPBROADCASTD q6hi<>(SB), Y13
	TESTQ CX, CX
	JZ    dq6done

dq6loop:
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VMOVDQU 128(SI), Y2
	Q6KDCHUNK(Q6KD0, 0, 0)
	Q6KDCHUNK(Q6KD1, 8, 128)
	Q6KDCHUNK(Q6KD2, 16, 256)
	Q6KDCHUNK(Q6KD3, 24, 384)
	VMOVDQU 64(SI), Y0
	VMOVDQU 96(SI), Y1
	VMOVDQU 160(SI), Y2
	Q6KDCHUNK(Q6KD0, 32, 512)
	Q6KDCHUNK(Q6KD1, 40, 640)
	Q6KDCHUNK(Q6KD2, 48, 768)
	Q6KDCHUNK(Q6KD3, 56, 896)
	ADDQ $210, SI
	ADDQ $1024, DI
	ADDQ $64, DX
	DECQ CX
	JNZ  dq6loop

dq6done:
	VZEROUPPER
	RET
