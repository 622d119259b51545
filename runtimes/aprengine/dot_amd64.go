//go:build !noasm

package aprengine

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

//go:generate go run gen_dot.go

// The assembly kernels of dot_amd64.s: dotBlockGo for four rows (AVX-512)
// or two rows (AVX2) and a fixed token count each.

//go:noescape
func dotBlockAVX512_1(w *float32, wStride int, x *float32, xStride, n16 int, acc *lanes)

//go:noescape
func dotBlockAVX512_2(w *float32, wStride int, x *float32, xStride, n16 int, acc *lanes)

//go:noescape
func dotBlockAVX512_3(w *float32, wStride int, x *float32, xStride, n16 int, acc *lanes)

//go:noescape
func dotBlockAVX512_4(w *float32, wStride int, x *float32, xStride, n16 int, acc *lanes)

//go:noescape
func dotBlockAVX512_5(w *float32, wStride int, x *float32, xStride, n16 int, acc *lanes)

//go:noescape
func dotBlockAVX512_6(w *float32, wStride int, x *float32, xStride, n16 int, acc *lanes)

//go:noescape
func dotBlockAVX2_1(w *float32, wStride int, x *float32, xStride, n16 int, acc *lanes)

//go:noescape
func dotBlockAVX2_2(w *float32, wStride int, x *float32, xStride, n16 int, acc *lanes)

//go:noescape
func dotBlockAVX2_3(w *float32, wStride int, x *float32, xStride, n16 int, acc *lanes)

type blockKernel func(w *float32, wStride int, x *float32, xStride, n16 int, acc *lanes)

var (
	avx512Kernels = [...]blockKernel{dotBlockAVX512_1, dotBlockAVX512_2, dotBlockAVX512_3, dotBlockAVX512_4, dotBlockAVX512_5, dotBlockAVX512_6}
	avx2Kernels   = [...]blockKernel{dotBlockAVX2_1, dotBlockAVX2_2, dotBlockAVX2_3}
)

func init() {
	switch {
	case cpu.X86.HasAVX512F:
		blockRows, blockTokens = 4, len(avx512Kernels)
		dotBlock = asmBlock(avx512Kernels[:])
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		blockRows, blockTokens = 2, len(avx2Kernels)
		dotBlock = asmBlock(avx2Kernels[:])
	}
}

// asmBlock wraps kernels (kernels[nt-1] takes nt tokens) as a dotBlock,
// checking the bounds the assembly would otherwise read past.
func asmBlock(kernels []blockKernel) func(w []float32, wStride int, x []float32, xStride, n16, nt int, acc []lanes) {
	return func(w []float32, wStride int, x []float32, xStride, n16, nt int, acc []lanes) {
		if n16 == 0 || nt == 0 {
			return
		}
		_, _, _ = w[(blockRows-1)*wStride+16*n16-1], x[(nt-1)*xStride+16*n16-1], acc[nt*blockRows-1]
		kernels[nt-1](unsafe.SliceData(w), wStride, unsafe.SliceData(x), xStride, n16, &acc[0])
	}
}
