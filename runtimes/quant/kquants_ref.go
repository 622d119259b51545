package quant

import "math"

// Reference K-quant quantizers (quantize_row_q{2..6}_K_ref in
// ggml-quants.c), which quantize_q{2..6}_K run when there is no importance
// matrix. They search for per-sub-block scales (and mins) with the helper
// searches make_qx_quants, make_q3_quants and make_qkx2_quants, quantize
// those scales to 4, 6 or 8 bits against an fp16 super-block scale, and
// then requantize every element against the scale as stored.
//
// Every float operation below is float32, rounded once, in C's left-to-right
// order; products that feed a sum are wrapped in float32() so Go cannot fuse
// them (see legacy.go).

// groupMaxEps is GROUP_MAX_EPS: a sub-block whose largest magnitude is
// below it counts as all zero.
const groupMaxEps float32 = 1e-15

// nearestInt is ggml's nearest_int: adding 1.5·2²³ leaves round(f) (half to
// even, in the current FPU mode) in the low mantissa bits. ggml asserts
// |f| ≤ 4194303; outside that range this returns the same garbage the C code
// would.
func nearestInt(f float32) int32 {
	// float32(f) keeps Go from fusing a caller's product into this add.
	v := float32(f) + 12582912
	return int32(math.Float32bits(v)&0x007fffff) - 0x00400000
}

// makeQxQuants is make_qx_quants with rmse_type = 1 and no quant weights
// (weights x²), the only form quantize_row_q6_K_ref uses. It writes
// L[i] = l+nmax with l in [-nmax, nmax-1] and returns the scale: the
// least-squares scale of the best of 19 trial inverse scales
// -(nmax+0.1·is)/max, is = -9..9.
func makeQxQuants(n, nmax int, x []float32, L []int8) float32 {
	x, L = x[:n], L[:n]
	mx, amax := absMaxSigned(x)
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	fn := float32(nmax)
	lo, hi := -int32(nmax), int32(nmax)-1
	iscale := float32(-nmax) / mx
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampI32(nearestInt(iscale*v), lo, hi)
		L[i] = int8(l + int32(nmax))
		w := v * v
		fl := float32(l)
		sumlx += float32(float32(w*v) * fl)
		suml2 += float32(float32(w*fl) * fl)
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := scale * sumlx
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(fn + float32(0.1*float32(is))) / mx
		sumlx, suml2 = 0, 0
		for _, v := range x {
			l := clampI32(nearestInt(iscale*v), lo, hi)
			w := v * v
			fl := float32(l)
			sumlx += float32(float32(w*v) * fl)
			suml2 += float32(float32(w*fl) * fl)
		}
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			for i, v := range x {
				l := clampI32(nearestInt(iscale*v), lo, hi)
				L[i] = int8(l + int32(nmax))
			}
			scale = sumlx / suml2
			best = scale * sumlx
		}
	}
	return scale
}

// makeQ3Quants is make_q3_quants with do_rmse = true (quantize_row_q3_K_ref):
// a first rounding at iscale = -nmax/max, then up to 5 passes of
// coordinate descent on the weighted (w = x²) least-squares objective. It
// writes L[i] = l+nmax and returns Σwxl/Σwl².
func makeQ3Quants(n, nmax int, x []float32, L []int8) float32 {
	x, L = x[:n], L[:n]
	mx, amax := absMaxSigned(x)
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	lo, hi := -int32(nmax), int32(nmax)-1
	iscale := float32(-nmax) / mx
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampI32(nearestInt(iscale*v), lo, hi)
		L[i] = int8(l)
		w := v * v
		sumlx += float32(float32(w*v) * float32(l))
		suml2 += float32(float32(w*float32(l)) * float32(l))
	}
	for itry := 0; itry < 5; itry++ {
		changed := false
		for i, v := range x {
			w := v * v
			li := float32(L[i])
			slx := sumlx - float32(float32(w*v)*li)
			if slx > 0 {
				sl2 := suml2 - float32(float32(w*li)*li)
				newL := clampI32(nearestInt(float32(v*sl2)/slx), lo, hi)
				if newL != int32(L[i]) {
					fl := float32(newL)
					slx += float32(float32(w*v) * fl)
					sl2 += float32(float32(w*fl) * fl)
					if sl2 > 0 && float32(float32(slx*slx)*suml2) > float32(float32(sumlx*sumlx)*sl2) {
						L[i] = int8(newL)
						sumlx, suml2 = slx, sl2
						changed = true
					}
				}
			}
		}
		if !changed {
			break
		}
	}
	for i := range L {
		L[i] += int8(nmax)
	}
	if suml2 > 0 {
		return sumlx / suml2
	}
	return 0
}

// makeQkx2Quants is make_qkx2_quants: an affine (scale, min ≤ 0) fit of x
// to levels 0..nmax under weights w. It starts from the range
// [min(x,0), max(x)], then tries nstep+1 inverse scales
// (rmin + rdelta·is + nmax)/(max-min), solving the weighted least-squares
// scale and min for each rounding and keeping the one with the smallest
// weighted error (|diff| when useMad, diff² otherwise). It writes the
// levels to L (laux is scratch) and returns the scale and -min.
func makeQkx2Quants(nmax int, x, weights []float32, L, laux []uint8, rmin, rdelta float32, nstep int, useMad bool) (scale, theMin float32) {
	n := len(x)
	weights, L, laux = weights[:n], L[:n], laux[:n]
	min, max := x[0], x[0]
	sumW := weights[0]
	sumX := float32(sumW * x[0])
	for i := 1; i < n; i++ {
		if x[i] < min {
			min = x[i]
		}
		if x[i] > max {
			max = x[i]
		}
		w := weights[i]
		sumW += w
		sumX += float32(w * x[i])
	}
	if min > 0 {
		min = 0
	}
	if max == min {
		clear(L)
		return 0, -min
	}
	fmax := float32(nmax)
	errOf := func(diff float32) float32 {
		if useMad {
			return abs32(diff)
		}
		return diff * diff
	}
	iscale := fmax / (max - min)
	scale = 1 / iscale
	var bestError float32
	for i, v := range x {
		l := nearestInt(iscale * (v - min))
		L[i] = uint8(clampI32(l, 0, int32(nmax)))
		diff := float32(float32(scale*float32(L[i]))+min) - v
		bestError += float32(weights[i] * errOf(diff))
	}
	if nstep < 1 {
		return scale, -min
	}
	for is := 0; is <= nstep; is++ {
		iscale = (float32(rmin+float32(rdelta*float32(is))) + fmax) / (max - min)
		var sumL, sumL2, sumXL float32
		for i, v := range x {
			l := clampI32(nearestInt(iscale*(v-min)), 0, int32(nmax))
			laux[i] = uint8(l)
			w := weights[i]
			fl := float32(l)
			sumL += float32(w * fl)
			sumL2 += float32(float32(w*fl) * fl)
			sumXL += float32(float32(w*fl) * v)
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D > 0 {
			thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
			thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
			if thisMin > 0 {
				thisMin = 0
				thisScale = sumXL / sumL2
			}
			var curError float32
			for i, v := range x {
				diff := float32(float32(thisScale*float32(laux[i]))+thisMin) - v
				curError += float32(weights[i] * errOf(diff))
			}
			if curError < bestError {
				copy(L, laux)
				bestError = curError
				scale = thisScale
				min = thisMin
			}
		}
	}
	return scale, -min
}

func clampI32(v, lo, hi int32) int32 { return max(lo, min(hi, v)) }

// packQ2 writes 2-bit levels (0..3) in the Q2_K/Q3_K plane layout: byte
// l of each 32-byte half holds elements l, l+32, l+64, l+96.
func packQ2(L *[qkK]uint8, qs []byte) {
	for h := 0; h < 2; h++ {
		for l := 0; l < 32; l++ {
			j := 128*h + l
			qs[32*h+l] = L[j] | L[j+32]<<2 | L[j+64]<<4 | L[j+96]<<6
		}
	}
}

// quantQ2_K is quantize_row_q2_K_ref: 16 sub-blocks of 16 fitted with
// make_qkx2_quants(nmax 3, weights |x|, rmin -0.5, rdelta 0.1, 15 steps,
// MAD error); scales and mins quantized to 4 bits against
// d = max_scale/15 and dmin = max_min/15.
func quantQ2_K(src []float32, dst []byte) {
	var (
		L       [qkK]uint8
		laux    [16]uint8
		weights [16]float32
		mins    [16]float32
		scales  [16]float32
	)
	const q4scale = 15
	for i := 0; i < len(src)/qkK; i++ {
		x := (*[qkK]float32)(src[i*qkK:])
		b := (*[84]byte)(dst[i*84:])
		var maxScale, maxMin float32
		for j := 0; j < 16; j++ {
			xs := x[16*j : 16*j+16]
			for l, v := range xs {
				weights[l] = abs32(v)
			}
			scales[j], mins[j] = makeQkx2Quants(3, xs, weights[:], L[16*j:], laux[:], -0.5, 0.1, 15, true)
			if scales[j] > maxScale {
				maxScale = scales[j]
			}
			if mins[j] > maxMin {
				maxMin = mins[j]
			}
		}
		sc := b[0:16]
		if maxScale > 0 {
			iscale := q4scale / maxScale
			for j := range sc {
				sc[j] = uint8(nearestInt(iscale * scales[j]))
			}
			putF16(b[80:], fp32ToFP16Ref(maxScale/q4scale))
		} else {
			clear(sc)
			putF16(b[80:], fp32ToFP16Ref(0))
		}
		if maxMin > 0 {
			iscale := q4scale / maxMin
			for j := range sc {
				sc[j] |= uint8(nearestInt(iscale*mins[j]) << 4)
			}
			putF16(b[82:], fp32ToFP16Ref(maxMin/q4scale))
		} else {
			putF16(b[82:], fp32ToFP16Ref(0))
		}
		dAll, dMin := f16(b[80:]), f16(b[82:])
		for j := 0; j < 16; j++ {
			d := dAll * float32(sc[j]&0xf)
			if d == 0 {
				continue // keep make_qkx2_quants' levels
			}
			dm := dMin * float32(sc[j]>>4)
			for ii := 0; ii < 16; ii++ {
				l := nearestInt((x[16*j+ii] + dm) / d)
				L[16*j+ii] = uint8(clampI32(l, 0, 3))
			}
		}
		packQ2(&L, b[16:80])
	}
}

// quantQ3_K is quantize_row_q3_K_ref: 16 sub-blocks of 16 fitted with
// make_q3_quants(nmax 4); the signed scales quantized to 6 bits against
// d = 1/iscale, iscale = -32/max_scale (max_scale the signed scale of
// largest magnitude).
func quantQ3_K(src []float32, dst []byte) {
	var (
		L      [qkK]int8
		scales [16]float32
	)
	for i := 0; i < len(src)/qkK; i++ {
		x := (*[qkK]float32)(src[i*qkK:])
		b := (*[110]byte)(dst[i*110:])
		var maxScale, amax float32
		for j := 0; j < 16; j++ {
			scales[j] = makeQ3Quants(16, 4, x[16*j:], L[16*j:])
			if s := abs32(scales[j]); s > amax {
				amax, maxScale = s, scales[j]
			}
		}
		sc := (*[12]byte)(b[96:])
		clear(sc[:])
		if maxScale != 0 {
			iscale := -32 / maxScale
			for j := 0; j < 16; j++ {
				l := int32(int8(nearestInt(iscale * scales[j])))
				l = clampI32(l, -32, 31) + 32
				if j < 8 {
					sc[j] = uint8(l & 0xf)
				} else {
					sc[j-8] |= uint8(l&0xf) << 4
				}
				sc[j%4+8] |= uint8(l>>4) << (2 * (j / 4))
			}
			putF16(b[108:], fp32ToFP16Ref(1/iscale))
		} else {
			putF16(b[108:], fp32ToFP16Ref(0))
		}
		dAll := f16(b[108:])
		for j := 0; j < 16; j++ {
			d := dAll * float32(int8(scaleQ3K(j, sc))-32)
			if d == 0 {
				continue
			}
			for ii := 0; ii < 16; ii++ {
				l := nearestInt(x[16*j+ii] / d)
				L[16*j+ii] = int8(clampI32(l, -4, 3) + 4)
			}
		}
		hmask := b[0:32]
		clear(hmask)
		var U [qkK]uint8
		for j := 0; j < qkK; j++ {
			u := uint8(L[j])
			if u > 3 {
				hmask[j%32] |= 1 << (j / 32)
				u -= 4
			}
			U[j] = u
		}
		packQ2(&U, b[32:96])
	}
}

// quantQ4_K is quantize_row_q4_K_ref: 8 sub-blocks of 32 fitted with
// make_qkx2_quants(nmax 15, weights sqrt(mean x²)+|x|, rmin -1, rdelta
// 0.1, 20 steps); scales and mins quantized to 6 bits against
// d = max_scale/63, dmin = max_min/63.
func quantQ4_K(src []float32, dst []byte) {
	quantQ45K(src, dst, 15, -1, 20, 144)
}

// quantQ5_K is quantize_row_q5_K_ref: as Q4_K with nmax 31, rmin -0.5,
// 15 steps, and the fifth bit of each level in qh.
func quantQ5_K(src []float32, dst []byte) {
	quantQ45K(src, dst, 31, -0.5, 15, 176)
}

func quantQ45K(src []float32, dst []byte, nmax int, rmin float32, nstep, blockBytes int) {
	var (
		L       [qkK]uint8
		laux    [32]uint8
		weights [32]float32
		mins    [8]float32
		scales  [8]float32
	)
	for i := 0; i < len(src)/qkK; i++ {
		x := (*[qkK]float32)(src[i*qkK:])
		b := dst[i*blockBytes : (i+1)*blockBytes]
		var maxScale, maxMin float32
		for j := 0; j < 8; j++ {
			xs := x[32*j : 32*j+32]
			var sumX2 float32
			for _, v := range xs {
				sumX2 += float32(v * v)
			}
			avX := float32(math.Sqrt(float64(sumX2 / 32)))
			for l, v := range xs {
				weights[l] = avX + abs32(v)
			}
			scales[j], mins[j] = makeQkx2Quants(nmax, xs, weights[:], L[32*j:], laux[:], rmin, 0.1, nstep, false)
			if scales[j] > maxScale {
				maxScale = scales[j]
			}
			if mins[j] > maxMin {
				maxMin = mins[j]
			}
		}
		var invScale, invMin float32
		if maxScale > 0 {
			invScale = 63 / maxScale
		}
		if maxMin > 0 {
			invMin = 63 / maxMin
		}
		sc := (*[12]byte)(b[4:])
		for j := 0; j < 8; j++ {
			ls := min(63, uint8(nearestInt(invScale*scales[j])))
			lm := min(63, uint8(nearestInt(invMin*mins[j])))
			if j < 4 {
				sc[j] = ls
				sc[j+4] = lm
			} else {
				sc[j+4] = ls&0xf | lm&0xf<<4
				sc[j-4] |= ls >> 4 << 6
				sc[j] |= lm >> 4 << 6
			}
		}
		putF16(b[0:], fp32ToFP16Ref(maxScale/63))
		putF16(b[2:], fp32ToFP16Ref(maxMin/63))
		dAll, dMin := f16(b[0:]), f16(b[2:])
		for j := 0; j < 8; j++ {
			s, m := scaleMinK4(j, sc)
			d := dAll * float32(s)
			if d == 0 {
				continue
			}
			dm := dMin * float32(m)
			for ii := 0; ii < 32; ii++ {
				l := nearestInt((x[32*j+ii] + dm) / d)
				L[32*j+ii] = uint8(clampI32(l, 0, int32(nmax)))
			}
		}
		if nmax == 15 {
			qs := b[16:144]
			for c := 0; c < 4; c++ {
				for l := 0; l < 32; l++ {
					qs[32*c+l] = L[64*c+l] | L[64*c+l+32]<<4
				}
			}
			continue
		}
		qh, ql := b[16:48], b[48:176]
		clear(qh)
		for c := 0; c < 4; c++ {
			m1, m2 := uint8(1)<<(2*c), uint8(2)<<(2*c)
			for l := 0; l < 32; l++ {
				l1, l2 := L[64*c+l], L[64*c+l+32]
				if l1 > 15 {
					l1 -= 16
					qh[l] |= m1
				}
				if l2 > 15 {
					l2 -= 16
					qh[l] |= m2
				}
				ql[32*c+l] = l1 | l2<<4
			}
		}
	}
}

// quantQ6_K is quantize_row_q6_K_ref: 16 sub-blocks of 16 fitted with
// make_qx_quants(nmax 32, rmse_type 1); the signed scales quantized to int8
// against d = 1/iscale, iscale = -128/max_scale. A super-block whose
// scales are all below GROUP_MAX_EPS is written as zeros.
func quantQ6_K(src []float32, dst []byte) {
	var (
		L      [qkK]int8
		scales [16]float32
	)
	for i := 0; i < len(src)/qkK; i++ {
		x := (*[qkK]float32)(src[i*qkK:])
		b := (*[210]byte)(dst[i*210:])
		var maxScale, maxAbsScale float32
		for ib := 0; ib < 16; ib++ {
			s := makeQxQuants(16, 32, x[16*ib:], L[16*ib:])
			scales[ib] = s
			if a := abs32(s); a > maxAbsScale {
				maxAbsScale, maxScale = a, s
			}
		}
		if maxAbsScale < groupMaxEps {
			clear(b[:])
			continue
		}
		iscale := -128 / maxScale
		putF16(b[208:], fp32ToFP16Ref(1/iscale))
		sc := b[192:208]
		for ib := range sc {
			sc[ib] = byte(int8(min(127, nearestInt(iscale*scales[ib]))))
		}
		dAll := f16(b[208:])
		for j := 0; j < 16; j++ {
			d := dAll * float32(int8(sc[j]))
			if d == 0 {
				continue
			}
			for ii := 0; ii < 16; ii++ {
				l := nearestInt(x[16*j+ii] / d)
				L[16*j+ii] = int8(clampI32(l, -32, 31) + 32)
			}
		}
		for h := 0; h < 2; h++ {
			ql := b[64*h : 64*h+64]
			qh := b[128+32*h : 128+32*h+32]
			for l := 0; l < 32; l++ {
				j := 128*h + l
				q1, q2, q3, q4 := uint8(L[j])&0xf, uint8(L[j+32])&0xf, uint8(L[j+64])&0xf, uint8(L[j+96])&0xf
				ql[l] = q1 | q3<<4
				ql[l+32] = q2 | q4<<4
				qh[l] = uint8(L[j])>>4 | uint8(L[j+32])>>4<<2 | uint8(L[j+64])>>4<<4 | uint8(L[j+96])>>4<<6
			}
		}
	}
}
