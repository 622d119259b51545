package ggufengine

import "math"

// This file emulates the float32 sine and cosine of glibc's libm, which
// ggml-cpu's RoPE calls (cosf, sinf in rope_yarn). They are not correctly
// rounded, and a one-ulp difference in a rotation coefficient changes the
// rotated Q and K, so the engine reproduces them exactly.
//
// The implementation is glibc's since 2.28 (sysdeps/ieee754/flt-32/s_sinf.c,
// s_cosf.c, s_sincosf.h, sincosf_poly.h; ARM's optimized-routines): the
// argument is widened to float64, reduced to [−π/4, π/4] and a quadrant, and
// an even (cosine) or odd (sine) polynomial is evaluated in float64 and
// rounded once to float32. On x86-64 with FMA and AVX2 (the reference
// machine) the ifunc picks the build compiled with -mfma, where GCC
// contracts every a + b·c of the reduction and the polynomials into an
// FMA; math.FMA reproduces that.

// sincosfPoly is one entry of glibc's __sincosf_table: the sign of the sine
// per quadrant is applied by the caller; the second entry negates the
// cosine polynomial, which is how quadrants 2 and 3 get their sign.
type sincosfPoly struct {
	c0, c1, c2, c3, c4 float64 // cosine: c0 + c1·x² + c2·x⁴ + c3·x⁶ + c4·x⁸
	s1, s2, s3         float64 // sine: x + s1·x³ + s2·x⁵ + s3·x⁷
}

var sincosfTable = [2]sincosfPoly{
	{0x1p0, -0x1.ffffffd0c621cp-2, 0x1.55553e1068f19p-5, -0x1.6c087e89a359dp-10, 0x1.99343027bf8c3p-16,
		-0x1.555545995a603p-3, 0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13},
	{-0x1p0, 0x1.ffffffd0c621cp-2, -0x1.55553e1068f19p-5, 0x1.6c087e89a359dp-10, -0x1.99343027bf8c3p-16,
		-0x1.555545995a603p-3, 0x1.1107605230bc4p-7, -0x1.994eb3774cf24p-13},
}

// sincosfSign is the sign of the sine in quadrants 0..3.
var sincosfSign = [4]float64{1, -1, -1, 1}

const (
	hpiInv24 = 0x1.45F306DC9C883p+23 // 2/π · 2²⁴ (x86 has no TOINT_INTRINSICS)
	hpi      = 0x1.921FB54442D18p0   // π/2
	pi63     = 0x1.921FB54442D18p-62 // 2π · 2⁻⁶⁴
)

// invPio4 is 4/π to 192 bits, laid out as glibc's __inv_pio4: each entry
// adds 8 bits, so that three entries 4 apart hold 96 consecutive bits from
// any starting byte.
var invPio4 = [24]uint32{
	0xa2, 0xa2f9, 0xa2f983, 0xa2f9836e,
	0xf9836e4e, 0x836e4e44, 0x6e4e4415, 0x4e441529,
	0x441529fc, 0x1529fc27, 0x29fc2757, 0xfc2757d1,
	0x2757d1f5, 0x57d1f534, 0xd1f534dd, 0xf534ddc0,
	0x34ddc0db, 0xddc0db62, 0xc0db6295, 0xdb629599,
	0x6295993c, 0x95993c43, 0x993c4390, 0x3c439041,
}

// abstop12 is the top 12 bits of a float32 without the sign.
func abstop12(f float32) uint32 { return (math.Float32bits(f) >> 20) & 0x7ff }

// sinfPoly evaluates the sine (n even) or cosine (n odd) polynomial p at x
// (x2 = x²) and rounds to float32: glibc's sinf_poly with FMA contraction.
func sinfPoly(x, x2 float64, p *sincosfPoly, n int) float32 {
	if n&1 == 0 {
		x3 := x * x2
		s1 := math.FMA(x2, p.s3, p.s2)
		x7 := x3 * x2
		s := math.FMA(x3, p.s1, x)
		return float32(math.FMA(x7, s1, s))
	}
	x4 := x2 * x2
	c2 := math.FMA(x2, p.c4, p.c3)
	c1 := math.FMA(x2, p.c1, p.c0)
	x6 := x4 * x2
	c := math.FMA(x4, p.c2, c1)
	return float32(math.FMA(x6, c2, c))
}

// reduceFast is glibc's reduce_fast for |x| < 120: n = round(x·2/π) by a
// scaled truncating conversion, and x − n·π/2 by one FMA.
func reduceFast(x float64) (float64, int) {
	r := x * hpiInv24
	n := (int32(r) + 0x800000) >> 24
	return math.FMA(-float64(n), hpi, x), int(n)
}

// reduceLarge is glibc's reduce_large for finite |x| ≥ 120 given as float32
// bits: the 2.62 fixed-point product of the mantissa with 4/π, the nearest
// quadrant n, and the remainder scaled back to radians. The sign bit of xi
// is ignored; callers fold it into the quadrant.
func reduceLarge(xi uint32) (float64, int) {
	arr := invPio4[(xi>>26)&15:]
	shift := (xi >> 23) & 7
	xi = (xi&0xffffff | 0x800000) << shift
	res0 := uint64(xi * arr[0]) // a 32-bit product in C, truncated
	res1 := uint64(xi) * uint64(arr[4])
	res2 := uint64(xi) * uint64(arr[8])
	res0 = res2>>32 | res0<<32
	res0 += res1
	n := (res0 + 1<<61) >> 62
	res0 -= n << 62
	return float64(int64(res0)) * pi63, int(n)
}

// glibcSinf is glibc's sinf for finite y.
func glibcSinf(y float32) float32 {
	x := float64(y)
	switch {
	case abstop12(y) < abstop12(float32(math.Pi/4)):
		if abstop12(y) < abstop12(0x1p-12) {
			return y
		}
		return sinfPoly(x, x*x, &sincosfTable[0], 0)
	case abstop12(y) < abstop12(120):
		x, n := reduceFast(x)
		p := &sincosfTable[0]
		if n&2 != 0 {
			p = &sincosfTable[1]
		}
		return sinfPoly(x*sincosfSign[n&3], x*x, p, n)
	default:
		x, n := reduceLarge(math.Float32bits(y))
		q := n + int(math.Float32bits(y)>>31)
		p := &sincosfTable[0]
		if q&2 != 0 {
			p = &sincosfTable[1]
		}
		return sinfPoly(x*sincosfSign[q&3], x*x, p, n)
	}
}

// glibcCosf is glibc's cosf for finite y.
func glibcCosf(y float32) float32 {
	x := float64(y)
	switch {
	case abstop12(y) < abstop12(float32(math.Pi/4)):
		if abstop12(y) < abstop12(0x1p-12) {
			return 1
		}
		return sinfPoly(x, x*x, &sincosfTable[0], 1)
	case abstop12(y) < abstop12(120):
		x, n := reduceFast(x)
		p := &sincosfTable[0]
		if n&2 != 0 {
			p = &sincosfTable[1]
		}
		return sinfPoly(x*sincosfSign[n&3], x*x, p, n^1)
	default:
		x, n := reduceLarge(math.Float32bits(y))
		q := n + int(math.Float32bits(y)>>31)
		p := &sincosfTable[0]
		if q&2 != 0 {
			p = &sincosfTable[1]
		}
		return sinfPoly(x*sincosfSign[q&3], x*x, p, n^1)
	}
}

// exp2fTab is glibc's __exp2f_data.tab: the bits of 2^(i/32) minus
// i << 47, so that adding k << 47 to entry k%32 yields 2^(k/32).
var exp2fTab = [32]uint64{
	0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
	0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
	0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
	0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
	0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
	0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
	0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
	0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540,
}

// glibcExpf is glibc's expf (e_expf.c, EXP2F_TABLE_BITS 5, degree-3
// polynomial): k = round(x·32/ln2) by adding 1.5·2⁵², r the remainder,
// 2^(k/32) from the table, and s·(1 + C2·r + C1·r² + C0·r³) in float64,
// rounded once. As in sinf, the FMA build contracts the polynomial.
func glibcExpf(x float32) float32 {
	const (
		invLn2N = 0x1.71547652b82fep+0 * 32
		shift   = 0x1.8p+52
		c0      = 0x1.c6af84b912394p-5 / 32 / 32 / 32
		c1      = 0x1.ebfce50fac4f3p-3 / 32 / 32
		c2      = 0x1.62e42ff0c52d6p-1 / 32
	)
	if abstop := math.Float32bits(x) >> 20 & 0x7ff; abstop >= math.Float32bits(88)>>20 {
		switch {
		case math.IsInf(float64(x), -1):
			return 0
		case abstop >= math.Float32bits(float32(math.Inf(1)))>>20:
			return x + x
		case x > 0x1.62e42ep6:
			return float32(math.Inf(1))
		case x < -0x1.9fe368p6:
			return 0
		}
	}
	xd := float64(x)
	z := invLn2N * xd
	kd := z + shift
	ki := math.Float64bits(kd)
	kd -= shift
	r := z - kd
	s := math.Float64frombits(exp2fTab[ki%32] + ki<<47)
	y := math.FMA(math.FMA(c0, r, c1), r*r, math.FMA(c2, r, 1))
	return float32(y * s)
}
