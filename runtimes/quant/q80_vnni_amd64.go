//go:build !noasm

package quant

// The Q8_0 kernels for CPUs with AVX512-VNNI (and VL): the byte products
// summed by VPDPBUSD instead of widening to int16. Prefill takes four
// activation rows per weight row, their blocks interleaved first
// (q80Interleave4) so the kernel reads one contiguous stream; decode one
// row, the weights prefetched ahead. Both return the bits of dotQ8_0X86.

//go:noescape
func q8_0Gemm4VNNI(w, ax *byte, nb int, dst *[4]float32)

//go:noescape
func q8_0DotVNNI(w, a *byte, nb int) float32

// q80Interleave4 writes nb blocks of the four Q8_0 rows a, a+aRow,
// a+2·aRow, a+3·aRow as q8_0Gemm4VNNI reads them, 144 bytes per block:
// the four rows' scales as float32 (fp16 widened exactly) at 0, 4, 8, 12,
// then the four rows' 32 quants at 16, 48, 80, 112.
func q80Interleave4(dst, a []byte, aRow, nb int) {
	for b := 0; b < nb; b++ {
		o := (*[q80Inter4Bytes]byte)(dst[b*q80Inter4Bytes:])
		for t := 0; t < 4; t++ {
			y := (*[34]byte)(a[t*aRow+b*34:])
			putF32(o[4*t:], f16(y[0:]))
			copy(o[16+32*t:16+32*t+32], y[2:])
		}
	}
}

func useVNNIQ8_0() {
	x86Kernels.q8_0 = func(n int, w, a []byte) float32 {
		nb := n / qk
		if nb == 0 {
			return 0
		}
		_, _ = w[nb*34-1], a[nb*34-1]
		return q8_0DotVNNI(&w[0], &a[0], nb)
	}
	x86Kernels.q80Inter4 = q80Interleave4
	x86Kernels.q8_04I = func(n int, w, ax []byte, _ int, dst *[4]float32) {
		nb := n / qk
		if nb == 0 {
			*dst = [4]float32{}
			return
		}
		_, _ = w[nb*34-1], ax[nb*q80Inter4Bytes-1]
		q8_0Gemm4VNNI(&w[0], &ax[0], nb, dst)
	}
}
