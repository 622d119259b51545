package quant

// Dot products of the plain float types and the 32-element block types.
//
// Each kernel follows the scalar C of ggml-cpu: ggml_vec_dot_f32/f16/bf16
// (vec.cpp, the non-SIMD branch) and ggml_vec_dot_<w>_<a>_generic
// (ggml-cpu/quants.c). Block sums of int8 products are exact int32. The
// float accumulation order is stated per kernel; products are rounded to
// float32 before they are added (never fused).
//
// What an x86 AVX2 build (the reference numbers in llama.cpp's spec) does
// differently, for the same integer block sums:
//   - f32: 4 accumulators of 8 float32 lanes with FMA (GGML_F32_STEP 32),
//     reduced pairwise, leftovers added in float32 — not a float64 sum.
//   - f16: the same with fp16 inputs widened to float32 (F16C).
//   - bf16: 4×8 float32 lanes of mul+add, reduced to float32, then added to
//     a float64 total; the tail is scalar.
//   - q8_0, q4_0, q5_0, iq4_nl × q8_0 and q4_1, q5_1 × q8_1: per block,
//     d = dx·dy and the block's int32 sum split over 8 lanes as float, then
//     acc = fma(d, lanes, acc) in 8 float32 lanes and one horizontal sum at
//     the end (hsum_float_8); q4_1/q5_1 add Σ mx·sy in a separate scalar.
// Results therefore agree with an AVX2 llama.cpp to float32 rounding, not
// bit for bit: against ggml's C kernels (gcc -O3 -mavx2 -mfma, see
// internal/ggmlref) on random rows of 1024, |AVX2 − ours| ≤ 1e-7·Σ|w·a|
// for q8_0, q4_0, q5_0, iq4_nl, iq4_xs, q3_K; ≤ 4e-7·Σ|w·a| for q2_K,
// q6_K; and ≤ 2.5e-6·Σ|w·a| where a separately summed min term cancels
// (q4_1, q5_1, q4_K, q5_K). Against the generic C (built without
// contraction) these kernels are bit-exact.

func dotF32(n int, w, a []byte) float32 {
	w, a = w[:4*n], a[:4*n]
	var sum float64
	i := 0
	for ; i+32 <= len(w); i += 32 { // 8 elements per bounds check
		x, y := (*[32]byte)(w[i:]), (*[32]byte)(a[i:])
		for j := 0; j < 32; j += 4 {
			sum += float64(f32(x[j:]) * f32(y[j:]))
		}
	}
	for ; i < len(w); i += 4 {
		sum += float64(f32(w[i:]) * f32(a[i:]))
	}
	return float32(sum)
}

// dotF16 is ggml_vec_dot_f16's scalar branch: float64 sum of the float32
// products of the widened values, rounded to float32 at the end.
func dotF16(n int, w, a []byte) float32 {
	w, a = w[:2*n], a[:2*n]
	var sum float64
	i := 0
	for ; i+16 <= len(w); i += 16 {
		x, y := (*[16]byte)(w[i:]), (*[16]byte)(a[i:])
		for j := 0; j < 16; j += 2 {
			sum += float64(f16(x[j:]) * f16(y[j:]))
		}
	}
	for ; i < len(w); i += 2 {
		sum += float64(f16(w[i:]) * f16(a[i:]))
	}
	return float32(sum)
}

// dotBF16 is ggml_vec_dot_bf16's scalar loop: float64 sum of float32
// products (exact: two 8-bit mantissas), rounded to float32 at the end.
func dotBF16(n int, w, a []byte) float32 {
	w, a = w[:2*n], a[:2*n]
	var sum float64
	i := 0
	for ; i+16 <= len(w); i += 16 {
		x, y := (*[16]byte)(w[i:]), (*[16]byte)(a[i:])
		for j := 0; j < 16; j += 2 {
			sum += float64(BF16ToFP32(le16(x[j:])) * BF16ToFP32(le16(y[j:])))
		}
	}
	for ; i < len(w); i += 2 {
		sum += float64(BF16ToFP32(le16(w[i:])) * BF16ToFP32(le16(a[i:])))
	}
	return float32(sum)
}

// dotQ8_0Q8_0: per block sumf += float(Σ qx·qy) · (dx·dy).
func dotQ8_0Q8_0(n int, w, a []byte) float32 {
	var sumf float32
	for ib := 0; ib < n/qk; ib++ {
		x := (*[34]byte)(w[ib*34:])
		y := (*[34]byte)(a[ib*34:])
		var sumi int32
		for j := 2; j < 34; j++ {
			sumi += int32(int8(x[j])) * int32(int8(y[j]))
		}
		sumf += float32(float32(sumi) * float32(f16(x[0:])*f16(y[0:])))
	}
	return sumf
}

// dotQ4_0Q8_0: per block sumf += (float(Σ (q-8)·qy) · dx) · dy.
func dotQ4_0Q8_0(n int, w, a []byte) float32 {
	var sumf float32
	for ib := 0; ib < n/qk; ib++ {
		x := (*[18]byte)(w[ib*18:])
		y := (*[34]byte)(a[ib*34:])
		var s0, s1 int32
		for j := 0; j < qk/2; j++ {
			s0 += (int32(x[2+j]&0x0f) - 8) * int32(int8(y[2+j]))
			s1 += (int32(x[2+j]>>4) - 8) * int32(int8(y[2+qk/2+j]))
		}
		sumf += float32(float32(float32(s0+s1)*f16(x[0:])) * f16(y[0:]))
	}
	return sumf
}

// dotQ4_1Q8_1: per block sumf += (dx·dy)·float(Σ q·qy) + mx·sy.
func dotQ4_1Q8_1(n int, w, a []byte) float32 {
	var sumf float32
	for ib := 0; ib < n/qk; ib++ {
		x := (*[20]byte)(w[ib*20:])
		y := (*[36]byte)(a[ib*36:])
		var s0, s1 int32
		for j := 0; j < qk/2; j++ {
			s0 += int32(x[4+j]&0x0f) * int32(int8(y[4+j]))
			s1 += int32(x[4+j]>>4) * int32(int8(y[4+qk/2+j]))
		}
		dd := f16(x[0:]) * f16(y[0:])
		sumf += float32(dd*float32(s0+s1)) + float32(f16(x[2:])*f16(y[2:]))
	}
	return sumf
}

// q5Nibbles returns element j and j+16 of a Q5_0/Q5_1 block from its qs
// byte and the block's qh word, both in 0..31.
func q5Nibbles(q byte, qh uint32, j int) (int32, int32) {
	return int32(q&0x0f) | int32(qh>>j<<4&0x10), int32(q>>4) | int32(qh>>(j+12)&0x10)
}

// dotQ5_0Q8_0: per block sumf += (dx·dy) · float(Σ (q-16)·qy).
func dotQ5_0Q8_0(n int, w, a []byte) float32 {
	var sumf float32
	for ib := 0; ib < n/qk; ib++ {
		x := (*[22]byte)(w[ib*22:])
		y := (*[34]byte)(a[ib*34:])
		qh := uint32(x[2]) | uint32(x[3])<<8 | uint32(x[4])<<16 | uint32(x[5])<<24
		var s0, s1 int32
		for j := 0; j < qk/2; j++ {
			v0, v1 := q5Nibbles(x[6+j], qh, j)
			s0 += (v0 - 16) * int32(int8(y[2+j]))
			s1 += (v1 - 16) * int32(int8(y[2+qk/2+j]))
		}
		sumf += float32(float32(f16(x[0:])*f16(y[0:])) * float32(s0+s1))
	}
	return sumf
}

// dotQ5_1Q8_1: per block sumf += (dx·dy)·float(Σ q·qy) + mx·sy.
func dotQ5_1Q8_1(n int, w, a []byte) float32 {
	var sumf float32
	for ib := 0; ib < n/qk; ib++ {
		x := (*[24]byte)(w[ib*24:])
		y := (*[36]byte)(a[ib*36:])
		qh := uint32(x[4]) | uint32(x[5])<<8 | uint32(x[6])<<16 | uint32(x[7])<<24
		var s0, s1 int32
		for j := 0; j < qk/2; j++ {
			v0, v1 := q5Nibbles(x[8+j], qh, j)
			s0 += v0 * int32(int8(y[4+j]))
			s1 += v1 * int32(int8(y[4+qk/2+j]))
		}
		dd := f16(x[0:]) * f16(y[0:])
		sumf += float32(dd*float32(s0+s1)) + float32(f16(x[2:])*f16(y[2:]))
	}
	return sumf
}
