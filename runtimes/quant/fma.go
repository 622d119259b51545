package quant

import "math"

// Float helpers for the x86 kernel emulation (x86.go): a correctly rounded
// float32 fused multiply-add, and the two horizontal sums ggml's x86 code
// reduces its accumulators with.

// fma32 returns a·b+c rounded once to float32, what vfmadd*ps computes per
// lane.
//
// Go has no float32 FMA. The product of two float32 values is exact in
// float64, but rounding p+c to float64 and then to float32 rounds twice and
// can land on the wrong side of a float32 tie. So the sum is rounded to
// float64 in round-to-odd mode instead (Boldo & Melquiond): when p+c is not
// exactly representable, force the last bit of the float64 result to 1.
// With 29 more bits than float32, a round-to-odd intermediate converts to
// the correctly rounded float32.
func fma32(a, b, c float32) float32 {
	p := float64(a) * float64(b) // exact: 24+24 significant bits
	s := p + float64(c)
	// Rounding twice can only go wrong when s itself is a float32
	// midpoint (its 29 extra bits are 1000…0) and the sum was inexact; the
	// midpoint pattern holds for normal float32 results only.
	if u := math.Float64bits(s); u&(1<<29-1) != 1<<28 && math.Abs(s) >= 0x1p-126 {
		return float32(s)
	}
	if math.IsInf(s, 0) || math.IsNaN(s) {
		return float32(s)
	}
	// TwoSum: e is the exact error of s = p + c.
	bv := s - p
	e := (p - (s - bv)) + (float64(c) - bv)
	if e != 0 {
		if u := math.Float64bits(s); u&1 == 0 {
			// Step one ulp towards the exact sum; the neighbour is odd.
			if (e > 0) == (s > 0) {
				u++
			} else {
				u--
			}
			s = math.Float64frombits(u)
		}
	}
	return float32(s)
}

// hsum8 is hsum_float_8 (arch/x86/quants.c) and sgemm.cpp's hsum(__m256):
// add the high 128 bits to the low, then lanes 2,3 onto 0,1, then lane 1
// onto lane 0.
func hsum8(v *[8]float32) float32 {
	r0, r1, r2, r3 := v[4]+v[0], v[5]+v[1], v[6]+v[2], v[7]+v[3]
	return (r0 + r2) + (r1 + r3)
}

// reduce16 is GCC 12's _mm512_reduce_add_ps: the high 256 bits onto the
// low, then the high 128 onto the low, then lanes {2,3,0,1} onto {0,1,2,3},
// then lane 0 + lane 1.
func reduce16(v *[16]float32) float32 {
	var t [8]float32
	for i := range t {
		t[i] = v[8+i] + v[i]
	}
	return hsum8(&t)
}
