//go:build !noasm

package quant

import "golang.org/x/sys/cpu"

//go:noescape
func q4KGemm4VNNI(w, ax *byte, nb int, dst *[4]float32)

// hasVNNI reports whether the AVX-512 VNNI Q4_K GEMM can run here.
var hasVNNI = hasAVX2 && cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VL && cpu.X86.HasAVX512VNNI

// useVNNI switches the Q4_K GEMM to q4KGemm4VNNI. x86_amd64.go's init
// calls it after installing the AVX2 kernels it overrides.
func useVNNI() {
	x86Kernels.q8KInter4 = q8KInterleave4
	x86Kernels.q4KGemm4 = func(n int, w, ax []byte, _ int, dst *[4]float32) {
		nb := n / qkK
		if nb == 0 {
			*dst = [4]float32{}
			return
		}
		_, _ = w[nb*144-1], ax[nb*q8KInter4Bytes-1]
		q4KGemm4VNNI(&w[0], &ax[0], nb, dst)
	}
	x86Kernels.q4KPrep = func(dst, w []byte, nb int) {
		if nb == 0 {
			return
		}
		_, _ = dst[nb*q4KPrepBytes-1], w[nb*144-1]
		q4KPrepare(&dst[0], &w[0], nb)
	}
	x86Kernels.q4KGemm4P = func(n int, wp, ax []byte, _ int, dst *[4]float32) {
		nb := n / qkK
		if nb == 0 {
			*dst = [4]float32{}
			return
		}
		_, _ = wp[nb*q4KPrepBytes-1], ax[nb*q8KInter4Bytes-1]
		q4KGemm4Prep(&wp[0], &ax[0], nb, dst)
	}
}

// q8KInterleave4 writes nb blocks of the four Q8_K rows a, a+aRow,
// a+2·aRow, a+3·aRow in the form q4KGemm4VNNI reads, 1152 bytes per block:
// for each 16-value slice s, the 16 quants of token 0, 1, 2, 3 at 64·s;
// at 1024, each token's eight sub-block sums bsums[2k]+bsums[2k+1] as
// int16 (16 bytes per token); at 1088, each token's d four times. The sums
// fit in int16 for every block fromFloatQ8_K writes (|bsums| ≤ 16·127).
func q8KInterleave4(dst, a []byte, aRow, nb int) {
	for b := 0; b < nb; b++ {
		o := (*[q8KInter4Bytes]byte)(dst[b*q8KInter4Bytes:])
		for t := 0; t < 4; t++ {
			y := (*q8KBlock)(a[t*aRow+b*292:])
			for s := 0; s < 16; s++ {
				copy(o[64*s+16*t:64*s+16*t+16], y[4+16*s:])
			}
			for k := 0; k < 8; k++ {
				putF16(o[1024+16*t+2*k:], uint16(q8KBsum(y, 2*k)+q8KBsum(y, 2*k+1)))
			}
			for i := 0; i < 4; i++ {
				copy(o[1088+16*t+4*i:1088+16*t+4*i+4], y[0:4])
			}
		}
	}
}

//go:noescape
func q4KPrepare(dst, w *byte, nb int)

//go:noescape
func q4KGemm4Prep(wp, ax *byte, nb int, dst *[4]float32)
