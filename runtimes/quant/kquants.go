package quant

import "github.com/layerwise/parity/runtimes/ggml"

// K-quant super-blocks of QK_K = 256 elements (ggml-common.h). Byte
// layouts, in file order:
//
//	Q2_K  84 B: scales[16] | qs[64] | d fp16 | dmin fp16
//	      16 sub-blocks of 16; scales[j] = scale4 | min4<<4;
//	      x = d·scale·q − dmin·min, q 2 bits.
//	Q3_K 110 B: hmask[32] | qs[64] | scales[12] | d fp16
//	      16 sub-blocks of 16 with 6-bit signed scales (stored +32);
//	      x = d·(scale−32)·(q − 4·!hbit), q 2 bits + high bit in hmask.
//	Q4_K 144 B: d fp16 | dmin fp16 | scales[12] | qs[128]
//	      8 sub-blocks of 32 with 6-bit scale and min (get_scale_min_k4);
//	      x = d·scale·q − dmin·min, q 4 bits.
//	Q5_K 176 B: d fp16 | dmin fp16 | scales[12] | qh[32] | qs[128]
//	      as Q4_K with a fifth bit per element in qh.
//	Q6_K 210 B: ql[128] | qh[64] | scales[16] int8 | d fp16
//	      16 sub-blocks of 16; x = d·scale·(q−32), q 6 bits.
//	Q8_K 292 B: d float32 | qs[256] int8 | bsums[16] int16
//	      activations only; x = d·q, bsums[j] = Σ qs[16j:16j+16].
//
// The 2-bit planes of Q2_K/Q3_K: within each 128-element half, byte l of
// the 32-byte qs slice holds elements l, l+32, l+64, l+96 at bit shifts 0,
// 2, 4, 6. Q3_K hmask bit k of byte l is the high bit of element 32k+l.
// Q4_K/Q5_K: each 64-element chunk uses 32 bytes of qs, low nibbles for the
// first 32 elements, high nibbles for the next 32; Q5_K bit 2c (2c+1) of
// qh[l] is the fifth bit of element 64c+l (64c+32+l).
// Q6_K: each 128-element half uses 64 bytes of ql and 32 of qh; element
// l+32k (k = 0..3, l < 32) takes low nibble bits from ql[l+32(k&1)] (low
// nibble for k<2, high for k≥2) and two high bits from qh[l] >> 2k.

const qkK = ggml.QK_K

// scaleMinK4 is get_scale_min_k4: the 6-bit scale and min of sub-block j
// from the 12 packed bytes of Q4_K/Q5_K. Sub-blocks 0-3 keep theirs in the
// low 6 bits of q[j] and q[j+4]; 4-7 combine a nibble of q[j+4] with the
// top 2 bits of q[j-4] (scale) and q[j] (min).
func scaleMinK4(j int, q *[12]byte) (sc, m uint8) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xf | q[j-4]>>6<<4, q[j+4]>>4 | q[j]>>6<<4
}

// scaleQ3K decodes 6-bit scale j (0..15, still offset by +32) of Q3_K: low
// nibble from byte j (j<8) or the high nibble of byte j-8, two high bits
// from byte 8+j%4 at shift 2·(j/4).
func scaleQ3K(j int, s *[12]byte) int32 {
	var lo uint8
	if j < 8 {
		lo = s[j] & 0xf
	} else {
		lo = s[j-8] >> 4
	}
	return int32(lo | (s[8+j%4]>>(2*(j/4))&3)<<4)
}

func dequantQ2_K(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qkK; i++ {
		b := (*[84]byte)(src[i*84:])
		y := (*[qkK]float32)(dst[i*qkK:])
		d, dmin := f16(b[80:]), f16(b[82:])
		for h := 0; h < 2; h++ { // 128-element halves
			q := (*[32]byte)(b[16+32*h:])
			for k := 0; k < 4; k++ { // bit planes
				shift := 2 * k
				for s := 0; s < 2; s++ { // 16-element sub-blocks
					sc := b[8*h+2*k+s]
					dl := d * float32(sc&0xf)
					ml := dmin * float32(sc>>4)
					out := y[128*h+32*k+16*s:]
					for l := 0; l < 16; l++ {
						out[l] = float32(dl*float32(q[16*s+l]>>shift&3)) - ml
					}
				}
			}
		}
	}
}

func dequantQ3_K(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qkK; i++ {
		b := (*[110]byte)(src[i*110:])
		y := (*[qkK]float32)(dst[i*qkK:])
		hm := (*[32]byte)(b[0:])
		sc := (*[12]byte)(b[96:])
		d := f16(b[108:])
		for h := 0; h < 2; h++ {
			q := (*[32]byte)(b[32+32*h:])
			for k := 0; k < 4; k++ {
				shift := 2 * k
				m := byte(1) << (4*h + k)
				for s := 0; s < 2; s++ {
					dl := d * float32(scaleQ3K(8*h+2*k+s, sc)-32)
					out := y[128*h+32*k+16*s:]
					for l := 16 * s; l < 16*s+16; l++ {
						v := int32(q[l] >> shift & 3)
						if hm[l]&m == 0 {
							v -= 4
						}
						out[l-16*s] = dl * float32(v)
					}
				}
			}
		}
	}
}

func dequantQ4_K(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qkK; i++ {
		b := (*[144]byte)(src[i*144:])
		y := (*[qkK]float32)(dst[i*qkK:])
		d, dmin := f16(b[0:]), f16(b[2:])
		sc := (*[12]byte)(b[4:])
		for c := 0; c < 4; c++ { // 64-element chunks
			q := (*[32]byte)(b[16+32*c:])
			s1, m1 := scaleMinK4(2*c, sc)
			s2, m2 := scaleMinK4(2*c+1, sc)
			d1, mm1 := d*float32(s1), dmin*float32(m1)
			d2, mm2 := d*float32(s2), dmin*float32(m2)
			out := (*[64]float32)(y[64*c:])
			for l := 0; l < 32; l++ {
				out[l] = float32(d1*float32(q[l]&0xf)) - mm1
				out[l+32] = float32(d2*float32(q[l]>>4)) - mm2
			}
		}
	}
}

func dequantQ5_K(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qkK; i++ {
		b := (*[176]byte)(src[i*176:])
		y := (*[qkK]float32)(dst[i*qkK:])
		d, dmin := f16(b[0:]), f16(b[2:])
		sc := (*[12]byte)(b[4:])
		qh := (*[32]byte)(b[16:])
		for c := 0; c < 4; c++ {
			ql := (*[32]byte)(b[48+32*c:])
			s1, m1 := scaleMinK4(2*c, sc)
			s2, m2 := scaleMinK4(2*c+1, sc)
			d1, mm1 := d*float32(s1), dmin*float32(m1)
			d2, mm2 := d*float32(s2), dmin*float32(m2)
			u1, u2 := byte(1)<<(2*c), byte(2)<<(2*c)
			out := (*[64]float32)(y[64*c:])
			for l := 0; l < 32; l++ {
				v1, v2 := int32(ql[l]&0xf), int32(ql[l]>>4)
				if qh[l]&u1 != 0 {
					v1 += 16
				}
				if qh[l]&u2 != 0 {
					v2 += 16
				}
				out[l] = float32(d1*float32(v1)) - mm1
				out[l+32] = float32(d2*float32(v2)) - mm2
			}
		}
	}
}

// q6Values unpacks the 256 signed 6-bit quants of a Q6_K block into a.
func q6Values(b *[210]byte, a *[qkK]int8) {
	for h := 0; h < 2; h++ {
		ql := (*[64]byte)(b[64*h:])
		qh := (*[32]byte)(b[128+32*h:])
		o := (*[128]int8)(a[128*h:])
		for l := 0; l < 32; l++ {
			o[l] = int8(ql[l]&0xf|(qh[l]&3)<<4) - 32
			o[l+32] = int8(ql[l+32]&0xf|(qh[l]>>2&3)<<4) - 32
			o[l+64] = int8(ql[l]>>4|(qh[l]>>4&3)<<4) - 32
			o[l+96] = int8(ql[l+32]>>4|(qh[l]>>6&3)<<4) - 32
		}
	}
}

func dequantQ6_K(src []byte, dst []float32) {
	var a [qkK]int8
	for i := 0; i < len(dst)/qkK; i++ {
		b := (*[210]byte)(src[i*210:])
		y := (*[qkK]float32)(dst[i*qkK:])
		d := f16(b[208:])
		q6Values(b, &a)
		for j := 0; j < qkK; j++ {
			// d * sc[is] * q, left to right.
			y[j] = d * float32(int8(b[192+j/16])) * float32(a[j])
		}
	}
}

func dequantQ8_K(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qkK; i++ {
		b := (*[292]byte)(src[i*292:])
		y := (*[qkK]float32)(dst[i*qkK:])
		d := f32(b[0:])
		for j := 0; j < qkK; j++ {
			y[j] = d * float32(int8(b[4+j]))
		}
	}
}

// fromFloatQ8_K is quantize_row_q8_K_ref (which x86's quantize_row_q8_K
// calls): see QuantizeRow.
func fromFloatQ8_K(src []float32, dst []byte) {
	for i := 0; i < len(src)/qkK; i++ {
		x := (*[qkK]float32)(src[i*qkK:])
		b := (*[292]byte)(dst[i*292:])
		max, amax := absMaxSigned(x[:])
		if amax == 0 {
			clear(b[:])
			continue
		}
		iscale := -127 / max
		for j, v := range x {
			b[4+j] = byte(int8(min(127, nearestInt(iscale*v))))
		}
		for j := 0; j < qkK/16; j++ {
			var sum int32
			for _, q := range b[4+16*j : 4+16*j+16] {
				sum += int32(int8(q))
			}
			b[260+2*j], b[261+2*j] = byte(sum), byte(sum>>8)
		}
		putF32(b[0:], 1/iscale)
	}
}
