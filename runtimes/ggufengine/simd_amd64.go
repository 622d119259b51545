//go:build !noasm

package ggufengine

import "golang.org/x/sys/cpu"

// Assembly twins of axpy and siluVec (simd_amd64.s) for CPUs with AVX2 and
// FMA: every lane is a hardware FMA chain in the same order and the
// reduction is the same tree, so they return the Go versions' bits
// (simd_amd64_test.go). Build with -tags noasm to run the Go versions.

//go:noescape
func axpyAVX2(acc, x *float32, a float32, n8 int)

//go:noescape
func siluAVX2(x *float32, n8 int)

var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

func init() {
	if !hasAVX2 {
		return
	}
	siluVec = func(x []float32) {
		n8 := len(x) / 8
		if n8 > 0 {
			siluAVX2(&x[0], n8)
		}
		siluVecGo(x[8*n8:])
	}
	axpy = func(acc, x []float32, a float32) {
		n8 := len(acc) / 8
		if n8 > 0 {
			_ = x[len(acc)-1]
			axpyAVX2(&acc[0], &x[0], a, n8)
		}
		for i := 8 * n8; i < len(acc); i++ {
			fmaLane(&acc[i], x[i], a)
		}
	}
}
