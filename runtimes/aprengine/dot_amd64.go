//go:build !noasm

package aprengine

import "golang.org/x/sys/cpu"

//go:noescape
func dot2x4AVX2(w *float32, wStride int, x *float64, xStride, n4 int, acc *[8][4]float64)

//go:noescape
func dot4x1AVX2(w *float32, wStride int, x *float64, n4 int, acc *[4][4]float64)

//go:noescape
func dot4x4AVX512(w *float32, wStride int, x *float64, xStride, n4 int, acc *[64]float64)

func init() {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return
	}
	dots2x4 = dots2x4AVX2
	dots4x1 = dots4x1AVX2
	if cpu.X86.HasAVX512F {
		lanes4x4 = lanes4x4AVX512
	}
}

// lanes4x4AVX512 is lanes4x4 in assembly: two outputs per AVX-512
// register, four float64 lanes each.
func lanes4x4AVX512(w []float32, wStride int, x []float64, xStride, n4 int, acc *[64]float64) {
	if n4 == 0 {
		return
	}
	_, _ = w[3*wStride+4*n4-1], x[3*xStride+4*n4-1]
	dot4x4AVX512(&w[0], wStride, &x[0], xStride, n4, acc)
}

// dots4x1AVX2 is dots2x4AVX2 for four weight rows and one activation row.
func dots4x1AVX2(w []float32, x []float64, n int, out *[4]float32) {
	if n < 4 {
		for i := range out {
			out[i] = dot(w[i*n:(i+1)*n], x[:n])
		}
		return
	}
	_, _ = w[4*n-1], x[n-1]
	var acc [4][4]float64
	dot4x1AVX2(&w[0], n, &x[0], n/4, &acc)
	for i := range out {
		s := &acc[i]
		wr := w[i*n : (i+1)*n]
		for k := n &^ 3; k < n; k++ {
			s[0] += float64(wr[k]) * x[k]
		}
		out[i] = float32((s[0] + s[1]) + (s[2] + s[3]))
	}
}

// dots2x4AVX2 runs dot's main loop for the 8 outputs in assembly and
// finishes each output as dot does: the leftover n%4 elements into partial
// sum 0, in order, then (s0+s1)+(s2+s3) rounded once to f32.
func dots2x4AVX2(w []float32, x []float64, n int, out *[2][4]float32) {
	if n < 4 {
		for i := range out {
			for j := range out[i] {
				out[i][j] = dot(w[i*n:(i+1)*n], x[j*n:(j+1)*n])
			}
		}
		return
	}
	_, _ = w[2*n-1], x[4*n-1]
	var acc [8][4]float64
	dot2x4AVX2(&w[0], n, &x[0], n, n/4, &acc)
	for i := range out {
		for j := range out[i] {
			s := &acc[2*j+i]
			wr, xr := w[i*n:(i+1)*n], x[j*n:(j+1)*n]
			for k := n &^ 3; k < n; k++ {
				s[0] += float64(wr[k]) * xr[k]
			}
			out[i][j] = float32((s[0] + s[1]) + (s[2] + s[3]))
		}
	}
}
