package quant

// Non-linear 4-bit types (ggml-common.h):
//
//	IQ4_NL  18 B: d fp16 | qs[16]           x = d·kvalues[nibble]
//	IQ4_XS 136 B: d fp16 | scales_h uint16 | scales_l[4] | qs[128]
//	        8 sub-blocks of 32 with 6-bit scales ls (low nibble of
//	        scales_l[ib/2] at shift 4·(ib%2), two high bits of scales_h at
//	        shift 2·ib); x = d·(ls−32)·kvalues[nibble].
//
// Both use the nibble order of Q4_0: byte j of a 32-element group holds
// element j (low) and j+16 (high). The other IQ types (IQ1/IQ2/IQ3 grids)
// are not implemented.

// kvaluesIQ4NL is kvalues_iq4nl: a non-uniform 16-level codebook.
var kvaluesIQ4NL = [16]int8{-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113}

func dequantIQ4_NL(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qk; i++ {
		b := (*[18]byte)(src[i*18:])
		y := (*[qk]float32)(dst[i*qk:])
		d := f16(b[0:])
		for j := 0; j < qk/2; j++ {
			y[j] = d * float32(kvaluesIQ4NL[b[2+j]&0xf])
			y[j+qk/2] = d * float32(kvaluesIQ4NL[b[2+j]>>4])
		}
	}
}

// iq4XSScale is sub-block ib's 6-bit scale minus 32.
func iq4XSScale(b *[136]byte, ib int) int32 {
	sh := uint16(b[2]) | uint16(b[3])<<8
	ls := int32(b[4+ib/2]>>(4*(ib%2))&0xf) | int32(sh>>(2*ib)&3)<<4
	return ls - 32
}

func dequantIQ4_XS(src []byte, dst []float32) {
	for i := 0; i < len(dst)/qkK; i++ {
		b := (*[136]byte)(src[i*136:])
		y := (*[qkK]float32)(dst[i*qkK:])
		d := f16(b[0:])
		for ib := 0; ib < 8; ib++ {
			dl := d * float32(iq4XSScale(b, ib))
			qs := (*[16]byte)(b[8+16*ib:])
			out := (*[32]float32)(y[32*ib:])
			for j := 0; j < 16; j++ {
				out[j] = dl * float32(kvaluesIQ4NL[qs[j]&0xf])
				out[j+16] = dl * float32(kvaluesIQ4NL[qs[j]>>4])
			}
		}
	}
}

// bestIndexIQ4 is best_index_int8 over kvalues_iq4nl: the nearest level,
// the upper one when x lies exactly halfway (x-lo < hi-x must hold for the
// lower one).
func bestIndexIQ4(x float32) uint8 {
	v := &kvaluesIQ4NL
	if x <= float32(v[0]) {
		return 0
	}
	if x >= float32(v[15]) {
		return 15
	}
	ml, mu := 0, 15
	for mu-ml > 1 {
		mav := (ml + mu) / 2
		if x < float32(v[mav]) {
			mu = mav
		} else {
			ml = mav
		}
	}
	if x-float32(v[mu-1]) < float32(v[mu])-x {
		return uint8(mu - 1)
	}
	return uint8(mu)
}

// iq4Fit is the per-32 search of quantize_row_iq4_nl_impl without quant
// weights (weights x²) and ntry = 7, as quantize_iq4_nl and quantize_iq4_xs
// call it: the least-squares scale of the rounding at d = -max/-127, then of
// the 15 roundings at 1/id with id = (itry-127)/max, keeping the one that
// maximizes (Σwqx)²/Σwq². It writes the levels of the first rounding to L
// and returns the scale (0 for an all-zero group, with L untouched).
func iq4Fit(xb []float32, L []uint8) float32 {
	const ntry = 7
	xb, L = xb[:32], L[:32]
	mx, amax := absMaxSigned(xb)
	if amax < groupMaxEps {
		return 0
	}
	v0 := float32(kvaluesIQ4NL[0])
	d := -mx / v0
	id := 1 / d
	var sumqx, sumq2 float32
	for j, x := range xb {
		l := bestIndexIQ4(id * x)
		L[j] = l
		q := float32(kvaluesIQ4NL[l])
		w := x * x
		sumqx += float32(float32(w*q) * x)
		sumq2 += float32(float32(w*q) * q)
	}
	d = 0
	if sumq2 > 0 {
		d = sumqx / sumq2
	}
	best := d * sumqx
	for itry := -ntry; itry <= ntry; itry++ {
		id = float32(itry+int(kvaluesIQ4NL[0])) / mx
		sumqx, sumq2 = 0, 0
		for _, x := range xb {
			q := float32(kvaluesIQ4NL[bestIndexIQ4(id*x)])
			w := x * x
			sumqx += float32(float32(w*q) * x)
			sumq2 += float32(float32(w*q) * q)
		}
		if sumq2 > 0 && float32(sumqx*sumqx) > float32(best*sumq2) {
			d = sumqx / sumq2
			best = d * sumqx
		}
	}
	return d
}

// quantIQ4_NL is quantize_iq4_nl without an importance matrix: per block,
// d = the iq4Fit scale stored as fp16, and every element re-rounded
// against 1/d (float32, not the fp16 value).
func quantIQ4_NL(src []float32, dst []byte) {
	var L [32]uint8
	for i := 0; i < len(src)/qk; i++ {
		x := src[i*qk : i*qk+qk]
		b := (*[18]byte)(dst[i*18:])
		d := iq4Fit(x, L[:])
		putF16(b[0:], fp32ToFP16Ref(d))
		var id float32
		if d != 0 {
			id = 1 / d
		}
		for j, v := range x {
			L[j] = bestIndexIQ4(id * v)
		}
		for j := 0; j < 16; j++ {
			b[2+j] = L[j] | L[16+j]<<4
		}
	}
}

// quantIQ4_XS is quantize_iq4_xs without an importance matrix: iq4Fit per
// 32 values, then d = -max_scale/32 (max_scale the signed scale of largest
// magnitude) stored as fp16, 6-bit sub-scales l = nearest_int(s/d)
// clamped to [-32, 31], and every element re-rounded against 1/(d·l) with
// the float32 d.
func quantIQ4_XS(src []float32, dst []byte) {
	var (
		L      [qkK]uint8
		scales [8]float32
	)
	for i := 0; i < len(src)/qkK; i++ {
		x := (*[qkK]float32)(src[i*qkK:])
		b := (*[136]byte)(dst[i*136:])
		clear(b[:])
		var maxScale, amaxScale float32
		for ib := 0; ib < 8; ib++ {
			scales[ib] = iq4Fit(x[32*ib:], L[32*ib:])
			if a := abs32(scales[ib]); a > amaxScale {
				amaxScale, maxScale = a, scales[ib]
			}
		}
		d := -maxScale / 32
		putF16(b[0:], fp32ToFP16Ref(d))
		var id float32
		if d != 0 {
			id = 1 / d
		}
		var sh uint16
		for ib := 0; ib < 8; ib++ {
			l := clampI32(nearestInt(id*scales[ib]), -32, 31)
			dl := d * float32(l)
			var idl float32
			if dl != 0 {
				idl = 1 / dl
			}
			for j, v := range x[32*ib : 32*ib+32] {
				L[32*ib+j] = bestIndexIQ4(idl * v)
			}
			l += 32
			b[4+ib/2] |= uint8(l&0xf) << (4 * (ib % 2))
			sh |= uint16(l>>4) << (2 * ib)
		}
		b[2], b[3] = byte(sh), byte(sh>>8)
		for ib := 0; ib < 8; ib++ {
			for j := 0; j < 16; j++ {
				b[8+16*ib+j] = L[32*ib+j] | L[32*ib+16+j]<<4
			}
		}
	}
}

// dotIQ4_NLQ8_0 is ggml_vec_dot_iq4_nl_q8_0_generic: per block
// sumf += (dy·dx)·float(Σ q8·kv_lo + Σ q8·kv_hi).
func dotIQ4_NLQ8_0(n int, w, a []byte) float32 {
	var sumf float32
	for ib := 0; ib < n/qk; ib++ {
		x := (*[18]byte)(w[ib*18:])
		y := (*[34]byte)(a[ib*34:])
		d := f16(y[0:]) * f16(x[0:])
		var s1, s2 int32
		for j := 0; j < qk/2; j++ {
			s1 += int32(int8(y[2+j])) * int32(kvaluesIQ4NL[x[2+j]&0xf])
			s2 += int32(int8(y[2+qk/2+j])) * int32(kvaluesIQ4NL[x[2+j]>>4])
		}
		sumf += float32(d * float32(s1+s2))
	}
	return sumf
}

// dotIQ4_XSQ8_K is ggml_vec_dot_iq4_xs_q8_K_generic: per 32-element
// sub-block sumf += (d4d8·(ls−32))·float(Σ q8·kv), d4d8 = x.d·y.d.
func dotIQ4_XSQ8_K(n int, w, a []byte) float32 {
	var sumf float32
	for i := 0; i < n/qkK; i++ {
		x := (*[136]byte)(w[i*136:])
		y := (*q8KBlock)(a[i*292:])
		d4d8 := f16(x[0:]) * f32(y[0:])
		for ib := 0; ib < 8; ib++ {
			dl := d4d8 * float32(iq4XSScale(x, ib))
			qs := (*[16]byte)(x[8+16*ib:])
			q8 := (*[32]byte)(y[4+32*ib:])
			var s1, s2 int32
			for j := 0; j < 16; j++ {
				s1 += int32(int8(q8[j])) * int32(kvaluesIQ4NL[qs[j]&0xf])
				s2 += int32(int8(q8[j+16])) * int32(kvaluesIQ4NL[qs[j]>>4])
			}
			sumf += float32(dl * float32(s1+s2))
		}
	}
	return sumf
}
