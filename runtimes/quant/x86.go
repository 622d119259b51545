package quant

import (
	"encoding/binary"
	"unsafe"

	"github.com/layerwise/parity/runtimes/fp32"
)

// The float orders of ggml-cpu's x86 kernels as the recording build runs
// them (KernelX86AVX512, kernel.go): GCC 12, -march=native on an AVX-512
// (F, BW, DQ, VL; no AVX512-FP16 arithmetic in these paths) CPU, so FMA is
// available and every intrinsic fmadd is one rounding (fp32.FMA). Integer
// block sums are exact int32 in both C and Go; what each function fixes is
// which integers become separate float lanes, how the lanes are scaled and
// accumulated, and the reduction tree. Each C counterpart is named in the
// doc comment; x86_test.go holds outputs of the compiled C on random data.

// dotF32Tiny is llamafile's tinyBLAS<16, __m512, __m512, float, float,
// float>::gemm_bloc for one output: 16 lanes, lane l accumulates
// fma(w[i+l], a[i+l], acc[l]) for i = 0, 16, …, n-16, then
// _mm512_reduce_add_ps. Every output of a tile has its own accumulator, so
// tile shapes (RM×RN, mnpack) do not change it. Needs n%16 == 0.
func dotF32Tiny(n int, w, a []byte) float32 {
	var acc [16]float32
	w, a = w[:4*n], a[:4*n]
	for i := 0; i < len(w); i += 64 {
		x, y := (*[64]byte)(w[i:]), (*[64]byte)(a[i:])
		for l := range acc {
			acc[l] = fp32.FMA(f32(x[4*l:]), f32(y[4*l:]), acc[l])
		}
	}
	return reduce16(&acc)
}

// dotF16Tiny is dotF32Tiny over fp16 rows (tinyBLAS<16, __m512, __m512,
// ggml_fp16_t, ggml_fp16_t, float>): the values are widened exactly with
// vcvtph2ps, then the same 16-lane FMA and reduction.
func dotF16Tiny(n int, w, a []byte) float32 {
	var acc [16]float32
	w, a = w[:2*n], a[:2*n]
	for i := 0; i < len(w); i += 32 {
		x, y := (*[32]byte)(w[i:]), (*[32]byte)(a[i:])
		for l := range acc {
			acc[l] = fp32.FMA(f16(x[2*l:]), f16(y[2*l:]), acc[l])
		}
	}
	return reduce16(&acc)
}

// dotF32Vec is ggml_vec_dot_f32 (vec.cpp) with the AVX-512 mapping of
// simd-mappings.h: GGML_F32_STEP 64 = 4 accumulators of 16 lanes over the
// first n&^63 elements (accumulator j, lane l takes element 64i+16j+l with
// an FMA), reduced as sum0+=sum2, sum1+=sum3, sum0+=sum1, then
// _mm512_reduce_add_ps into a float. The leftover loop, sumf += x·y in
// order, is what GCC 12 -O3 makes of it (read from its code): the
// elements in whole groups of 8 from np on get unfused float products,
// the last n%8 an FMA each (gnu++17 contracts).
func dotF32Vec(n int, w, a []byte) float32 {
	var acc [4][16]float32
	np := n &^ 63
	for i := 0; i < np; i += 64 {
		x, y := (*[256]byte)(w[4*i:]), (*[256]byte)(a[4*i:])
		for j := range acc {
			for l := range acc[j] {
				acc[j][l] = fp32.FMA(f32(x[64*j+4*l:]), f32(y[64*j+4*l:]), acc[j][l])
			}
		}
	}
	return f32VecTail(n, w, a, reduce4x16(&acc))
}

// VecDotF32 is dotF32Vec (ggml_vec_dot_f32 in the recording build's
// order) of two float32 slices of the same length, through the same
// assembly where the CPU has it: ggufengine's f32 attention scores are
// this dot. It reads the slices' memory as the little-endian rows the
// kernels take; a big-endian host gets a little-endian copy first.
func VecDotF32(x, y []float32) float32 {
	y = y[:len(x)]
	if len(x) == 0 {
		return 0
	}
	return x86Kernels.f32Vec(len(x), leBytes(x), leBytes(y))
}

var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// leBytes returns v's values as little-endian float32 bytes: v's own
// memory on a little-endian host.
func leBytes(v []float32) []byte {
	if hostLittleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v))
	}
	b := make([]byte, 4*len(v))
	for i, f := range v {
		putF32(b[4*i:], f)
	}
	return b
}

// f32VecTail adds dotF32Vec's leftover elements n&^63 .. n−1 to sumf.
func f32VecTail(n int, w, a []byte, sumf float32) float32 {
	// GCC vectorizes the leftover loop: whole groups of 16, then one group
	// of 8, have their products rounded in a vector multiply and added to
	// sumf one by one in order; the last < 8 elements are contracted.
	i := n &^ 63
	for ; i < n&^7; i++ {
		sumf += float32(f32(w[4*i:]) * f32(a[4*i:]))
	}
	for ; i < n; i++ {
		sumf = fp32.FMA(f32(w[4*i:]), f32(a[4*i:]), sumf)
	}
	return sumf
}

// dotF16Vec is ggml_vec_dot_f16 (vec.cpp) with the AVX-512F mapping (no
// AVX512-FP16 arithmetic: GGML_F32Cx16): dotF32Vec's lanes and reduction
// over the widened values, but the total is a double, sumf =
// (double)reduce; leftovers add (double)(float)(x·y); the result is
// rounded to float at the end.
func dotF16Vec(n int, w, a []byte) float32 {
	var acc [4][16]float32
	np := n &^ 63
	for i := 0; i < np; i += 64 {
		x, y := (*[128]byte)(w[2*i:]), (*[128]byte)(a[2*i:])
		for j := range acc {
			for l := range acc[j] {
				acc[j][l] = fp32.FMA(f16(x[32*j+2*l:]), f16(y[32*j+2*l:]), acc[j][l])
			}
		}
	}
	return f16VecTail(n, w, a, reduce4x16(&acc))
}

// f16VecTail finishes dotF16Vec from the reduced SIMD part: a float64
// total, the leftover products added as floats, rounded at the end.
func f16VecTail(n int, w, a []byte, reduced float32) float32 {
	sumf := float64(reduced)
	for i := n &^ 63; i < n; i++ {
		sumf += float64(float32(f16(w[2*i:]) * f16(a[2*i:])))
	}
	return float32(sumf)
}

// reduce4x16 is GGML_F32x16_REDUCE with GGML_F32_ARR = 4.
func reduce4x16(acc *[4][16]float32) float32 {
	var s [16]float32
	for l := range s {
		s[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l])
	}
	return reduce16(&s)
}

// dotQ8_0X86 is ggml_vec_dot_q8_0_q8_0's AVX2 loop (arch/x86/quants.c),
// and equally tinyBLAS_Q0_AVX<block_q8_0, block_q8_0> (its gemm4xN,
// gemmMx4 and gemm tiles compute the same per output): per block, lane
// i (0..7) is the int32 sum of the products of bytes 4i..4i+3
// (mul_sum_i8_pairs_float / updot), d = fp16(w.d)·fp16(a.d), and
// acc[i] = fma(d, float(lane i), acc[i]); at the end hsum_float_8.
func dotQ8_0X86(n int, w, a []byte) float32 {
	var acc [8]float32
	for ib := 0; ib < n/qk; ib++ {
		x := (*[34]byte)(w[ib*34:])
		y := (*[34]byte)(a[ib*34:])
		d := f16(x[0:]) * f16(y[0:])
		for i := range acc {
			var s int32
			for b := 2 + 4*i; b < 6+4*i; b++ {
				s += int32(int8(x[b])) * int32(int8(y[b]))
			}
			acc[i] = fp32.FMA(d, float32(s), acc[i])
		}
	}
	return hsum8(&acc)
}

// dotQ6_KX86 is ggml_vec_dot_q6_K_q8_K's AVX2 loop. Per super-block the
// 6-bit values u (0..63, the −32 offset not yet applied) meet the q8 bytes
// in 32-byte chunks; int32 lane i (0..7) collects, over the 8 chunks, the
// bytes 4i..4i+3 of each chunk times that chunk half's scale (scale index
// element/16), minus 32·(bsums[2i]·sc[2i] + bsums[2i+1]·sc[2i+1]) — the
// offset is taken out per lane through the bsums, not per element. Then
// acc[i] = fma(d, float(lane i), acc[i]) with d = a.d·fp16(w.d), and
// hsum_float_8 at the end.
func dotQ6_KX86(n int, w, a []byte) float32 {
	var acc [8]float32
	for ib := 0; ib < n/qkK; ib++ {
		x := (*[210]byte)(w[ib*210:])
		y := (*q8KBlock)(a[ib*292:])
		sc := (*[16]byte)(x[192:])
		var lane [8]int32
		for h := 0; h < 2; h++ {
			ql := (*[64]byte)(x[64*h:])
			qh := (*[32]byte)(x[128+32*h:])
			for c := 0; c < 4; c++ {
				q8 := (*[32]byte)(y[4+128*h+32*c:])
				for b := 0; b < 32; b++ {
					var u int32
					switch c {
					case 0:
						u = int32(ql[b]&0xf | (qh[b]&3)<<4)
					case 1:
						u = int32(ql[b+32]&0xf | (qh[b]>>2&3)<<4)
					case 2:
						u = int32(ql[b]>>4 | (qh[b]>>4&3)<<4)
					default:
						u = int32(ql[b+32]>>4 | (qh[b]>>6)<<4)
					}
					s := int32(int8(sc[8*h+2*c+b/16]))
					lane[b/4] += s * u * int32(int8(q8[b]))
				}
			}
		}
		d := f32(y[0:]) * f16(x[208:])
		for i := range acc {
			sub := q8KBsum(y, 2*i)*int32(int8(sc[2*i])) + q8KBsum(y, 2*i+1)*int32(int8(sc[2*i+1]))
			acc[i] = fp32.FMA(d, float32(lane[i]-sub<<5), acc[i])
		}
	}
	return hsum8(&acc)
}

// dotQ4_KGemv is one output of ggml_gemv_q4_K_8x8_q8_K (arch/x86/
// repack.cpp), the repacked (CPU_REPACK, block_q4_Kx8) kernel for
// activation rows outside a group of four. Per super-block the exact sums
// isum = Σ_j scale_j·Σ q·q8 and imin = Σ_j min_j·(bsums[2j]+bsums[2j+1])
// become one float each: acc = fma(float(isum), fp16(w.d)·a.d, acc) and
// accMin = fma(float(imin), fp16(w.dmin)·a.d, accMin); the output is
// acc − accMin.
func dotQ4_KGemv(n int, w, a []byte) float32 { return dotQ4_KRepacked(n, w, a, false) }

// dotQ4_KGemm is one output of ggml_gemm_q4_K_8x8_q8_K, the repacked kernel
// for activation rows in groups of four; all its branches (AVX-512
// 16-column and AVX2 8-column tiles, 16-row and 4-row groups) accumulate
// alike. It is dotQ4_KGemv with one FMA per pair of sub-blocks instead of
// one per super-block: for sb = 0..3, isum_sb covers sub-blocks 2sb and
// 2sb+1, and so does imin_sb.
func dotQ4_KGemm(n int, w, a []byte) float32 { return dotQ4_KRepacked(n, w, a, true) }

func dotQ4_KRepacked(n int, w, a []byte, perPair bool) float32 {
	var acc, accMin float32
	for ib := 0; ib < n/qkK; ib++ {
		x := (*[144]byte)(w[ib*144:])
		y := (*q8KBlock)(a[ib*292:])
		sc := (*[12]byte)(x[4:])
		yd := f32(y[0:])
		d, dmin := f16(x[0:])*yd, f16(x[2:])*yd
		var isum, imin int32
		for c := 0; c < 4; c++ {
			q := (*[32]byte)(x[16+32*c:])
			q8 := (*[64]byte)(y[4+64*c:])
			var lo, hi int32
			for l := 0; l < 32; l++ {
				lo += int32(q[l]&0xf) * int32(int8(q8[l]))
				hi += int32(q[l]>>4) * int32(int8(q8[l+32]))
			}
			s1, m1 := scaleMinK4(2*c, sc)
			s2, m2 := scaleMinK4(2*c+1, sc)
			isum += int32(s1)*lo + int32(s2)*hi
			imin += int32(m1)*(q8KBsum(y, 4*c)+q8KBsum(y, 4*c+1)) + int32(m2)*(q8KBsum(y, 4*c+2)+q8KBsum(y, 4*c+3))
			if perPair {
				acc = fp32.FMA(float32(isum), d, acc)
				accMin = fp32.FMA(float32(imin), dmin, accMin)
				isum, imin = 0, 0
			}
		}
		if !perPair {
			acc = fp32.FMA(float32(isum), d, acc)
			accMin = fp32.FMA(float32(imin), dmin, accMin)
		}
	}
	return acc - accMin
}

// dotQ4_KX86 is ggml_vec_dot_q4_K_q8_K's AVX2 loop, the path of a Q4_K
// matrix that is not repacked (ne[1] % 8 != 0, a tied token_embd, or
// --no-repack). Per super-block, int32 lane i (0..7) holds, for each
// 64-element chunk j, scale[2j]·Σ q·q8 over bytes 4i..4i+3 of the low
// nibbles plus scale[2j+1]·(the same for the high nibbles), and
// acc[i] = fma(a.d·fp16(w.d), float(lane i), acc[i]). The mins go to 4
// lanes: lane k = min[2k]·P[2k] + min[2k+1]·P[2k+1] with P[j] =
// bsums[2j]+bsums[2j+1], accM[k] = fma(−(a.d·fp16(w.dmin)), float(lane k),
// accM[k]). The result is hsum_float_8(acc) + ((m0+m2) + (m1+m3)).
func dotQ4_KX86(n int, w, a []byte) float32 {
	var acc [8]float32
	var accM [4]float32
	for ib := 0; ib < n/qkK; ib++ {
		x := (*[144]byte)(w[ib*144:])
		y := (*q8KBlock)(a[ib*292:])
		sc := (*[12]byte)(x[4:])
		var scales, mins [8]int32
		for j := range scales {
			s, m := scaleMinK4(j, sc)
			scales[j], mins[j] = int32(s), int32(m)
		}
		yd := f32(y[0:])
		dmin := -(yd * f16(x[2:]))
		for k := range accM {
			p0 := q8KBsum(y, 4*k) + q8KBsum(y, 4*k+1)
			p1 := q8KBsum(y, 4*k+2) + q8KBsum(y, 4*k+3)
			accM[k] = fp32.FMA(dmin, float32(mins[2*k]*p0+mins[2*k+1]*p1), accM[k])
		}
		var lane [8]int32
		for j := 0; j < 4; j++ {
			q := (*[32]byte)(x[16+32*j:])
			q8 := (*[64]byte)(y[4+64*j:])
			for b := 0; b < 32; b++ {
				lane[b/4] += scales[2*j]*int32(q[b]&0xf)*int32(int8(q8[b])) +
					scales[2*j+1]*int32(q[b]>>4)*int32(int8(q8[b+32]))
			}
		}
		d := yd * f16(x[0:])
		for i := range acc {
			acc[i] = fp32.FMA(d, float32(lane[i]), acc[i])
		}
	}
	return hsum8(&acc) + ((accM[0] + accM[2]) + (accM[1] + accM[3]))
}
