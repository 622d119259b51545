//go:build !noasm

package quant

import "golang.org/x/sys/cpu"

// Assembly twins of the KernelX86AVX512 kernels (x86_avx2_amd64.s),
// used when the CPU has AVX2, FMA and F16C. Each returns exactly the bits
// of the Go function it replaces; x86_amd64_test.go checks that on random
// and edge blocks. Build with -tags noasm to run the Go twins everywhere.

//go:noescape
func q4KGemm4AVX2(w, a *byte, aStride, nb int, dst *[4]float32)

//go:noescape
func q4KGemvAVX2(w, a *byte, nb int) float32

//go:noescape
func q6KDotAVX2(w, a *byte, nb int) float32

//go:noescape
func q6KDot4AVX2(w, a *byte, aStride, nb int, dst *[4]float32)

// hasAVX2 reports whether the assembly kernels can run here.
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

func init() {
	if !hasAVX2 {
		return
	}
	k := &x86Kernels
	k.q4KGemv = func(n int, w, a []byte) float32 {
		nb := n / qkK
		if nb == 0 {
			return 0
		}
		_, _ = w[nb*144-1], a[nb*292-1]
		return q4KGemvAVX2(&w[0], &a[0], nb)
	}
	k.q4KGemm4 = func(n int, w, a []byte, aRow int, dst *[4]float32) {
		nb := n / qkK
		if nb == 0 {
			*dst = [4]float32{}
			return
		}
		_, _ = w[nb*144-1], a[3*aRow+nb*292-1]
		q4KGemm4AVX2(&w[0], &a[0], aRow, nb, dst)
	}
	k.q6K = func(n int, w, a []byte) float32 {
		nb := n / qkK
		if nb == 0 {
			return 0
		}
		_, _ = w[nb*210-1], a[nb*292-1]
		return q6KDotAVX2(&w[0], &a[0], nb)
	}
	k.q6K4 = func(n int, w, a []byte, aRow int, dst *[4]float32) {
		nb := n / qkK
		if nb == 0 {
			*dst = [4]float32{}
			return
		}
		_, _ = w[nb*210-1], a[3*aRow+nb*292-1]
		q6KDot4AVX2(&w[0], &a[0], aRow, nb, dst)
	}
	if hasVNNI {
		useVNNI()
		useVNNIQ8_0()
	}
}
