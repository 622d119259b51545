package quant

// K-quant × Q8_K dot products, following ggml_vec_dot_q{2..6}_K_q8_K_generic
// (ggml-cpu/quants.c).
//
// Float order. Q2_K: per super-block i,
//
//	sumf += (dall·isum) − (dmin·summs),  dall = y.d·x.d, dmin = y.d·x.dmin,
//
// with isum = Σ scale_j·Σ q·q8 and summs = Σ bsums_j·min_j exact integers.
// Q3_K, Q4_K, Q5_K, Q6_K keep 8 float32 lane sums across super-blocks:
// lane l of block i holds the exact integer Σ scale·q·q8 over the elements
// e ≡ l (mod 8), and sums[l] += d·lane with d = x.d·y.d. Q4_K/Q5_K also
// subtract the mins per block, sumf −= (x.dmin·y.d)·Σ bsums_j·min_{j/2}.
// At the end sumf += sums[0], …, sums[7] in that order (sumf starts at 0
// for Q3_K/Q6_K).
//
// An AVX2 build gets the same integer sums but accumulates
// fma(d, float(int32 lanes), acc) in 8 float32 lanes (Q4_K: with the mins
// in a separate 4-lane accumulator) and reduces them once at the end, so it
// differs from this order in the last bits.

// q8KBlock is one Q8_K block: d float32 at 0, qs at 4, bsums at 260.
type q8KBlock = [292]byte

func q8KBsum(y *q8KBlock, j int) int32 { return int32(int16(le16(y[260+2*j:]))) }

func dotQ2_KQ8_K(n int, w, a []byte) float32 {
	var sumf float32
	for i := 0; i < n/qkK; i++ {
		x := (*[84]byte)(w[i*84:])
		y := (*q8KBlock)(a[i*292:])
		sc := (*[16]byte)(x[0:])
		var summs int32
		for j := 0; j < 16; j++ {
			summs += q8KBsum(y, j) * int32(sc[j]>>4)
		}
		yd := f32(y[0:])
		dall := yd * f16(x[80:])
		dmin := yd * f16(x[82:])
		var isum int32
		for h := 0; h < 2; h++ {
			q2 := (*[32]byte)(x[16+32*h:])
			for k := 0; k < 4; k++ {
				shift := 2 * k
				q8 := (*[32]byte)(y[4+128*h+32*k:])
				var lo, hi int32
				for l := 0; l < 16; l++ {
					lo += int32(int8(q8[l])) * int32(q2[l]>>shift&3)
					hi += int32(int8(q8[l+16])) * int32(q2[l+16]>>shift&3)
				}
				isum += int32(sc[8*h+2*k]&0xf)*lo + int32(sc[8*h+2*k+1]&0xf)*hi
			}
		}
		sumf += float32(dall*float32(isum)) - float32(dmin*float32(summs))
	}
	return sumf
}

func dotQ3_KQ8_K(n int, w, a []byte) float32 {
	var sums [8]float32
	for i := 0; i < n/qkK; i++ {
		x := (*[110]byte)(w[i*110:])
		y := (*q8KBlock)(a[i*292:])
		hm := (*[32]byte)(x[0:])
		sc := (*[12]byte)(x[96:])
		var aux [8]int32
		for h := 0; h < 2; h++ {
			q3 := (*[32]byte)(x[32+32*h:])
			for k := 0; k < 4; k++ {
				shift := 2 * k
				m := byte(1) << (4*h + k)
				q8 := (*[32]byte)(y[4+128*h+32*k:])
				for half := 0; half < 2; half++ {
					s := scaleQ3K(8*h+2*k+half, sc) - 32
					for l := 16 * half; l < 16*half+16; l++ {
						v := int32(q3[l] >> shift & 3)
						if hm[l]&m == 0 {
							v -= 4
						}
						aux[l&7] += s * v * int32(int8(q8[l]))
					}
				}
			}
		}
		d := f16(x[108:]) * f32(y[0:])
		for l := range sums {
			sums[l] += float32(d * float32(aux[l]))
		}
	}
	var sumf float32
	for _, s := range sums {
		sumf += s
	}
	return sumf
}

// dotQ45K is the shared body of the Q4_K and Q5_K dots; five selects the
// Q5_K layout (qh before qs).
func dotQ45K(n int, w, a []byte, blockBytes int, five bool) float32 {
	var sums [8]float32
	var sumf float32
	for i := 0; i < n/qkK; i++ {
		x := w[i*blockBytes : (i+1)*blockBytes]
		y := (*q8KBlock)(a[i*292:])
		sc := (*[12]byte)(x[4:])
		var scales, mins [8]int32
		for j := 0; j < 8; j++ {
			s, m := scaleMinK4(j, sc)
			scales[j], mins[j] = int32(s), int32(m)
		}
		var sumi int32
		for j := 0; j < 16; j++ {
			sumi += q8KBsum(y, j) * mins[j/2]
		}
		var aux [8]int32
		qsOff := 16
		qhs := (*[32]byte)(x[16:]) // Q5_K only
		if five {
			qsOff = 48
		}
		for c := 0; c < 4; c++ {
			q := (*[32]byte)(x[qsOff+32*c:])
			q8 := (*[64]byte)(y[4+64*c:])
			s1, s2 := scales[2*c], scales[2*c+1]
			u1, u2 := byte(1)<<(2*c), byte(2)<<(2*c)
			for l := 0; l < 32; l++ {
				v1, v2 := int32(q[l]&0xf), int32(q[l]>>4)
				if five {
					qh := qhs[l]
					if qh&u1 != 0 {
						v1 += 16
					}
					if qh&u2 != 0 {
						v2 += 16
					}
				}
				aux[l&7] += s1*v1*int32(int8(q8[l])) + s2*v2*int32(int8(q8[l+32]))
			}
		}
		yd := f32(y[0:])
		d := f16(x[0:]) * yd
		for l := range sums {
			sums[l] += float32(d * float32(aux[l]))
		}
		dmin := f16(x[2:]) * yd
		sumf -= float32(dmin * float32(sumi))
	}
	for _, s := range sums {
		sumf += s
	}
	return sumf
}

func dotQ4_KQ8_K(n int, w, a []byte) float32 { return dotQ45K(n, w, a, 144, false) }

func dotQ5_KQ8_K(n int, w, a []byte) float32 { return dotQ45K(n, w, a, 176, true) }

func dotQ6_KQ8_K(n int, w, a []byte) float32 {
	var sums [8]float32
	for i := 0; i < n/qkK; i++ {
		x := (*[210]byte)(w[i*210:])
		y := (*q8KBlock)(a[i*292:])
		sc := (*[16]byte)(x[192:])
		var aux [8]int32
		for h := 0; h < 2; h++ {
			ql := (*[64]byte)(x[64*h:])
			qh := (*[32]byte)(x[128+32*h:])
			q8 := (*[128]byte)(y[4+128*h:])
			for half := 0; half < 2; half++ { // l < 16 and l ≥ 16 use different scales
				si := 8*h + half
				s0, s1 := int32(int8(sc[si])), int32(int8(sc[si+2]))
				s2, s3 := int32(int8(sc[si+4])), int32(int8(sc[si+6]))
				for l := 16 * half; l < 16*half+16; l++ {
					lo, hi, hb := ql[l], ql[l+32], qh[l]
					v0 := int32(lo&0xf|(hb&3)<<4) - 32
					v1 := int32(hi&0xf|(hb>>2&3)<<4) - 32
					v2 := int32(lo>>4|(hb>>4&3)<<4) - 32
					v3 := int32(hi>>4|(hb>>6)<<4) - 32
					aux[l&7] += s0*v0*int32(int8(q8[l])) + s1*v1*int32(int8(q8[l+32])) +
						s2*v2*int32(int8(q8[l+64])) + s3*v3*int32(int8(q8[l+96]))
				}
			}
		}
		d := f16(x[208:]) * f32(y[0:])
		for l := range sums {
			sums[l] += float32(d * float32(aux[l]))
		}
	}
	var sumf float32
	for _, s := range sums {
		sumf += s
	}
	return sumf
}
