//go:build !noasm

#include "textflag.h"
#include "hsum_amd64.h"

// Q80ROW adds token t's block (scale at 4t, quants at 16+32t of the
// interleaved block in DI) against the weights (signed in Y0, absolute
// in Y1, scale broadcast in Y4) to acc: the int32 lane i is the sum of the
// products of bytes 4i..4i+3 (|w|·(a·sign w) = w·a: activations never hold
// −128), converted to float, and acc = fma(w.d·a.d, lane, acc).
#define Q80ROW(t, acc) \
	VMOVDQU   (16+32*t)(DI), Y2 \
	VPSIGNB   Y0, Y2, Y2        \
	VPXOR     Y3, Y3, Y3        \
	VPDPBUSD  Y2, Y1, Y3        \
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
	TESTQ CX, CX
	JZ    done

loop:
	VMOVDQU   2(SI), Y0
	VPABSB    Y0, Y1
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
	HSUM8F(Y8, X8, X0)
	VMOVSS X8, 0(BX)
	HSUM8F(Y9, X9, X0)
	VMOVSS X9, 4(BX)
	HSUM8F(Y10, X10, X0)
	VMOVSS X10, 8(BX)
	HSUM8F(Y11, X11, X0)
	VMOVSS X11, 12(BX)
	VZEROUPPER
	RET
