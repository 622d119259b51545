package quant

import (
	"math"
	"math/rand/v2"
	"testing"
)

// fp16Value computes a binary16 value from its fields in float64, as an
// independent check of the decoder.
func fp16Value(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(mant, -24)
	case 0x1f:
		if mant == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1024+mant, exp-25)
}

func TestFP16ToFP32Exhaustive(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		got := FP16ToFP32(h)
		want := fp16Value(h)
		if math.IsNaN(want) {
			// The payload moves up 13 bits; sign kept.
			if bits := math.Float32bits(got); bits != uint32(h&0x8000)<<16|0x7f800000|uint32(h&0x3ff)<<13 {
				t.Fatalf("FP16ToFP32(%#04x) = %#08x, want NaN with payload", h, bits)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != (h&0x8000 != 0) {
			t.Fatalf("FP16ToFP32(%#04x) = %g, want %g", h, got, want)
		}
		// Every finite or infinite half round-trips through both encoders.
		if back := FP32ToFP16(got); back != h {
			t.Fatalf("FP32ToFP16(FP16ToFP32(%#04x)) = %#04x", h, back)
		}
		if back := fp32ToFP16Ref(got); back != h {
			t.Fatalf("fp32ToFP16Ref(FP16ToFP32(%#04x)) = %#04x", h, back)
		}
	}
}

// TestFP32ToFP16Ties checks every halfway point between adjacent positive
// halves (exactly representable in float32) rounds to the even neighbour,
// and the float32 values just beside it to the nearer one.
func TestFP32ToFP16Ties(t *testing.T) {
	for h := uint16(0); h < 0x7bff; h++ { // 0x7bff→Inf is in TestFP32ToFP16Special
		lo, hi := FP16ToFP32(h), FP16ToFP32(h+1)
		mid := float32((float64(lo) + float64(hi)) / 2)
		if float64(mid) != (float64(lo)+float64(hi))/2 {
			t.Fatalf("midpoint of %#04x not exact in float32", h)
		}
		even := h
		if h&1 == 1 {
			even = h + 1
		}
		for _, neg := range []bool{false, true} {
			m, sign := mid, uint16(0)
			if neg {
				m, sign = -mid, 0x8000
			}
			if got := FP32ToFP16(m); got != even|sign {
				t.Fatalf("tie %g → %#04x, want %#04x", m, got, even|sign)
			}
			below := math.Nextafter32(m, 0)
			above := math.Nextafter32(m, float32(math.Inf(1-2*int(sign>>15))))
			if got := FP32ToFP16(below); got != h|sign {
				t.Fatalf("%g → %#04x, want %#04x", below, got, h|sign)
			}
			if got := FP32ToFP16(above); got != (h+1)|sign {
				t.Fatalf("%g → %#04x, want %#04x", above, got, (h+1)|sign)
			}
		}
	}
}

func TestFP32ToFP16Special(t *testing.T) {
	for _, tc := range []struct {
		f        float32
		f16c     uint16 // FP32ToFP16 (x86 F16C)
		ggmlBase uint16 // fp32ToFP16Ref (ggml_compute_fp32_to_fp16)
	}{
		{65504, 0x7bff, 0x7bff},
		{65519.998, 0x7bff, 0x7bff}, // below the 65520 tie
		{65520, 0x7c00, 0x7c00},     // tie between 65504 and 2^16 rounds to even: Inf
		{1e30, 0x7c00, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00, 0xfc00},
		{0x1p-25, 0x0000, 0x0000}, // half of the smallest subnormal: tie to 0
		{math.Nextafter32(0x1p-25, 1), 0x0001, 0x0001},
		{0x1p-149, 0, 0}, // binary32 subnormal
		{float32(math.Copysign(0, -1)), 0x8000, 0x8000},
		{math.Float32frombits(0x7fc00000), 0x7e00, 0x7e00}, // default quiet NaN
		{math.Float32frombits(0xffc02000), 0xfe01, 0xfe00}, // payload kept by F16C only
		{math.Float32frombits(0x7f800001), 0x7e00, 0x7e00}, // signalling NaN made quiet
		{math.Float32frombits(0x7f812345), 0x7e09, 0x7e00}, // values checked on an F16C CPU
	} {
		if got := FP32ToFP16(tc.f); got != tc.f16c {
			t.Errorf("FP32ToFP16(%#08x) = %#04x, want %#04x", math.Float32bits(tc.f), got, tc.f16c)
		}
		if got := fp32ToFP16Ref(tc.f); got != tc.ggmlBase {
			t.Errorf("fp32ToFP16Ref(%#08x) = %#04x, want %#04x", math.Float32bits(tc.f), got, tc.ggmlBase)
		}
	}
}

// TestFP32ToFP16Nearest checks random floats against a search over the
// neighbouring halves in float64.
func TestFP32ToFP16Nearest(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200000; i++ {
		f := float32(r.NormFloat64() * math.Ldexp(1, r.IntN(50)-32))
		h := FP32ToFP16(f)
		if h&0x7fff == 0x7c00 {
			if math.Abs(float64(f)) < 65520 {
				t.Fatalf("%g → Inf", f)
			}
			continue
		}
		got := fp16Value(h)
		d := math.Abs(float64(f) - got)
		for _, nb := range []uint16{h - 1, h + 1} {
			if nb&0x7c00 == 0x7c00 || (nb^h)&0x8000 != 0 {
				continue
			}
			dn := math.Abs(float64(f) - fp16Value(nb))
			if dn < d || dn == d && h&1 == 1 {
				t.Fatalf("%g → %#04x (%g), but %#04x (%g) is nearer or even", f, h, got, nb, fp16Value(nb))
			}
		}
	}
}

func TestBF16(t *testing.T) {
	for _, tc := range []struct {
		f float32
		h uint16
	}{
		{1, 0x3f80},
		{-2, 0xc000},
		{math.Float32frombits(0x3f808000), 0x3f80}, // tie, even stays
		{math.Float32frombits(0x3f818000), 0x3f82}, // tie, odd rounds up
		{math.Float32frombits(0x3f808001), 0x3f81},
		{math.Float32frombits(0x7f7fffff), 0x7f80}, // max float32 rounds to Inf
		{math.Float32frombits(0x00010000), 0x0001}, // subnormal kept
		{math.Float32frombits(0x7f800001), 0x7fc0}, // NaN forced quiet
		{math.Float32frombits(0xffc12345), 0xffc1},
	} {
		if got := FP32ToBF16(tc.f); got != tc.h {
			t.Errorf("FP32ToBF16(%#08x) = %#04x, want %#04x", math.Float32bits(tc.f), got, tc.h)
		}
	}
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := BF16ToFP32(h)
		if math.Float32bits(f) != uint32(h)<<16 {
			t.Fatalf("BF16ToFP32(%#04x) = %#08x", h, math.Float32bits(f))
		}
		if !math.IsNaN(float64(f)) && FP32ToBF16(f) != h {
			t.Fatalf("bf16 %#04x does not round-trip", h)
		}
	}
}
