package fp32

import "math"

// FMA returns a·b+c rounded once to float32 (round to nearest, ties to
// even), as vfmadd…ps does.
//
// float32(math.FMA(a, b, c)) would round twice (to float64, then to
// float32) and can be wrong when the float64 result lands exactly halfway
// between two float32 values. Here a·b is exact in float64 (24+24 bits) and
// s = a·b + c is rounded once to float64. Rounding s to float32 equals
// rounding the exact sum unless s is a float32 midpoint, and a midpoint has
// the 29 bits below float32 precision equal to 1000…0 (normal range) or
// all zero (subnormal range, where fewer bits are kept); only for those
// patterns is the rounding error of s needed (fmaMidpoint). NaN and
// infinite results are those of float64 arithmetic.
func FMA(a, b, c float32) float32 {
	if r, ok := FMAFast(a, b, c); ok {
		return r
	}
	return fmaMidpoint(a, b, c)
}

// FMAFast is FMA without the midpoint case: ok is false when s is a
// possible float32 midpoint and FMA must decide. It is small enough to
// inline, which hot loops rely on (calling FMA when ok is false).
func FMAFast(a, b, c float32) (r float32, ok bool) {
	// a·b is exact in float64, so it makes no difference whether the
	// compiler fuses this line.
	s := float64(a)*float64(b) + float64(c)
	low := math.Float64bits(s) & (1<<29 - 1)
	return float32(s), low != 1<<28 && low != 0
}

// fmaMidpoint is FMA's slow path: with s = fl64(a·b + c), the error
// e = (a·b + c) − s comes exactly from Knuth's TwoSum, and when s lies
// exactly halfway between two float32 values the sign of e picks the side
// the exact sum is on.
func fmaMidpoint(a, b, c float32) float32 {
	p, cd := float64(a)*float64(b), float64(c)
	s := p + cd
	r := float32(s)
	if float64(r) == s || math.IsInf(s, 0) || math.IsNaN(s) {
		return r
	}
	bv := s - p
	e := (p - (s - bv)) + (cd - bv)
	if e == 0 {
		return r
	}
	// The other float32 neighbour of s.
	o := math.Nextafter32(r, float32(math.Inf(1)))
	if float64(r) > s {
		o = math.Nextafter32(r, float32(math.Inf(-1)))
	}
	if (float64(r)+float64(o))/2 != s {
		return r // not a midpoint: s and s+e round the same way
	}
	if (e > 0) == (float64(o) > float64(r)) {
		return o
	}
	return r
}
