//go:build !noasm

#include "textflag.h"
#include "hsum_amd64.h"

// The byte dots take VPDPBUSD's unsigned operand from the activations
// shifted by 128 (a XOR 0x80 = a+128) and its signed one from the
// weights, then take 128·Σw back out: Σ (a+128)·w − Σ 128·w = Σ a·w for
// every pair of bytes, exactly (the sign trick |w|·(a·sign w) is wrong
// for a = −128). Per weight block, Y6 = −Σ 128·w per lane (Y7 holds 0x80
// in every byte); each token's lanes start from it.
#define Q80NEGCORR \
	VPXOR     Y6, Y6, Y6        \
	VPDPBUSD  Y0, Y7, Y6        \
	VPXOR     Y5, Y5, Y5        \
	VPSUBD    Y6, Y5, Y6

// Q80ROW adds token t's block (scale at 4t, quants at 16+32t of the
// interleaved block in DI) against the weights (Y0, scale broadcast in
// Y4, Q80NEGCORR in Y6) to acc: the int32 lane i is the sum of the
// products of bytes 4i..4i+3, converted to float, and
// acc = fma(w.d·a.d, lane, acc).
#define Q80ROW(t, acc) \
	VPXOR     (16+32*t)(DI), Y7, Y2 \
	VMOVDQA   Y6, Y3            \
	VPDPBUSD  Y0, Y2, Y3        \
	VCVTDQ2PS Y3, Y3            \
	VBROADCASTSS (4*t)(DI), Y5  \
	VMULPS    Y5, Y4, Y5        \
	VFMADD231PS Y3, Y5, acc

// func q8_0Gemm4VNNI(w, ax *byte, nb int, dst *[4]float32)
//
// dotQ8_0X86 of one Q8_0 weight row with four activation rows interleaved
// by q80Interleave4, each in its own accumulator.
TEXT ·q8_0Gemm4VNNI(SB), NOSPLIT, $0-32
	MOVQ w+0(FP), SI
	MOVQ ax+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11
	MOVL $0x80808080, AX
	VMOVD AX, X7
	VPBROADCASTD X7, Y7
	TESTQ CX, CX
	JZ    done

loop:
	VMOVDQU   2(SI), Y0
	Q80NEGCORR
	MOVWLZX   (SI), AX
	VMOVD     AX, X4
	VCVTPH2PS X4, X4
	VBROADCASTSS X4, Y4
	Q80ROW(0, Y8)
	Q80ROW(1, Y9)
	Q80ROW(2, Y10)
	Q80ROW(3, Y11)
	ADDQ $34, SI
	ADDQ $144, DI
	DECQ CX
	JNZ  loop

done:
	MOVQ dst+24(FP), BX
	HSUM8F4(BX, Y8, X8, Y9, X9, Y10, X10, Y11, X11)
	VZEROUPPER
	RET

// func q8_0DotVNNI(w, a *byte, nb int) float32
//
// dotQ8_0X86 of one Q8_0 weight row and one activation row (the decode
// case), with Q80ROW's shifted VPDPBUSD lanes and the weights prefetched
// two kilobytes ahead, as decode streams every weight from memory once.
TEXT ·q8_0DotVNNI(SB), NOSPLIT, $0-28
	MOVQ w+0(FP), SI
	MOVQ a+8(FP), DI
	MOVQ nb+16(FP), CX
	VXORPS Y8, Y8, Y8
	MOVL $0x80808080, AX
	VMOVD AX, X7
	VPBROADCASTD X7, Y7
	TESTQ CX, CX
	JZ    done1

loop1:
	PREFETCHT0 2048(SI)
	VMOVDQU   2(SI), Y0
	Q80NEGCORR
	VPXOR     2(DI), Y7, Y2
	VMOVDQA   Y6, Y3
	VPDPBUSD  Y0, Y2, Y3
	VCVTDQ2PS Y3, Y3
	MOVWLZX   (SI), AX
	MOVWLZX   (DI), BX
	SHLL      $16, BX
	ORL       BX, AX
	VMOVD     AX, X4
	VCVTPH2PS X4, X4 // [w.d, a.d]
	VMOVSHDUP X4, X5
	VMULSS    X5, X4, X4
	VBROADCASTSS X4, Y4
	VFMADD231PS Y3, Y4, Y8
	ADDQ $34, SI
	ADDQ $34, DI
	DECQ CX
	JNZ  loop1

done1:
	HSUM8F(Y8, X8, X0)
	VMOVSS X8, ret+24(FP)
	VZEROUPPER
	RET
