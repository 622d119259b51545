package apr

import (
	"bytes"
	"math"
	"slices"
	"testing"
)

func TestF16RoundTripAll(t *testing.T) {
	for h := range 1 << 16 {
		f := f16ToF32(uint16(h))
		got := f32ToF16(f)
		if math.IsNaN(float64(f)) {
			if got&0x7c00 != 0x7c00 || got&0x3ff == 0 {
				t.Fatalf("NaN %#04x → %#04x, not a NaN", h, got)
			}
			continue
		}
		if got != uint16(h) {
			t.Fatalf("%#04x → %g → %#04x", h, f, got)
		}
	}
}

// TestF16Rounding checks round-to-nearest-even at every midpoint between
// adjacent finite halves, subnormals included, and just either side of it.
func TestF16Rounding(t *testing.T) {
	for h := uint16(0); h < 0x7bff; h++ {
		lo, hi := f16ToF32(h), f16ToF32(h+1)
		mid := lo + (hi-lo)/2 // exact: f32 has 13 spare mantissa bits
		even := h
		if h&1 == 1 {
			even = h + 1
		}
		for _, tc := range []struct {
			f    float32
			want uint16
		}{
			{mid, even},
			{math.Nextafter32(mid, 0), h},
			{math.Nextafter32(mid, 1e9), h + 1},
		} {
			if got := f32ToF16(tc.f); got != tc.want {
				t.Fatalf("f32ToF16(%g) = %#04x, want %#04x (between %#04x and %#04x)", tc.f, got, tc.want, h, h+1)
			}
			if got := f32ToF16(-tc.f); got != tc.want|0x8000 {
				t.Fatalf("f32ToF16(%g) = %#04x, want %#04x", -tc.f, got, tc.want|0x8000)
			}
		}
	}
	for _, tc := range []struct {
		f    float32
		want uint16
	}{
		{65504, 0x7bff},
		{math.Nextafter32(65520, 0), 0x7bff},
		{65520, 0x7c00}, // the midpoint to 2^16 rounds to even: Inf
		{1e10, 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{0x1p-25, 0},                           // midpoint 0 ↔ smallest subnormal: to even, 0
		{math.Nextafter32(0x1p-25, 1), 0x0001}, // just above it
		{0x1p-26, 0},
		{math.SmallestNonzeroFloat32, 0},
	} {
		if got := f32ToF16(tc.f); got != tc.want {
			t.Errorf("f32ToF16(%g) = %#04x, want %#04x", tc.f, got, tc.want)
		}
	}
}

func TestQuantizeAPRQ4(t *testing.T) {
	nan := float32(math.NaN())
	for _, tc := range []struct {
		name string
		src  []float32
		want []byte
	}{
		// max|x| = 7 makes the scale exactly 1 (f16 0x3c00); q+8 packs
		// low nibble first; 3.5 and -3.5 round away from zero; NaN is 0.
		{"scale one", []float32{7, -7, 3.5, -3.5, 2.5, 0.49, nan, -6.6},
			[]byte{0x00, 0x3c, 0x1f, 0x4c, 0x8b, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"zeros, partial", []float32{0, 0, 0},
			[]byte{0x00, 0x3c, 0x88, 0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		// max|x| = 14 → scale 2 (f16 0x4000): 1 → 0.5 → rounds to 1.
		{"scale two", []float32{14, 1, -1, -14},
			[]byte{0x00, 0x40, 0x9f, 0x17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
		{"empty", nil, []byte{}},
	} {
		got := QuantizeAPRQ4(tc.src)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%s: % x\nwant % x", tc.name, got, tc.want)
		}
	}
	if n := len(QuantizeAPRQ4(make([]float32, 33))); n != 36 {
		t.Errorf("33 elements → %d bytes, want 36", n)
	}
}

func TestQuantizeAPRQ8(t *testing.T) {
	inf := float32(math.Inf(1))
	for _, tc := range []struct {
		name string
		src  []float32
		want []byte
	}{
		{"scale one", []float32{127, -63.5, 0.4, float32(math.NaN()), -127},
			[]byte{0x00, 0x00, 0x80, 0x3f, 0x7f, 0xc0, 0x00, 0x00, 0x81}},
		{"zeros", []float32{0, 0}, []byte{0x00, 0x00, 0x80, 0x3f, 0, 0}},
		{"infinite max", []float32{inf, 1}, []byte{0x00, 0x00, 0x80, 0x7f, 0, 0}},
		{"empty", nil, nil},
	} {
		if got := QuantizeAPRQ8(tc.src); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: % x, want % x", tc.name, got, tc.want)
		}
	}
}

func TestDequantizeRow(t *testing.T) {
	q4 := QuantizeAPRQ4([]float32{7, -7, 3.5, -3.5, 2.5, 0.49, float32(math.NaN()), -6.6})
	got := make([]float32, 8)
	if err := DequantizeRow(APRQ4, q4, 0, got); err != nil {
		t.Fatal(err)
	}
	if want := []float32{7, -7, 4, -4, 3, 0, 0, -7}; !slices.Equal(got, want) {
		t.Errorf("APR_Q4 = %v, want %v", got, want)
	}
	q8 := QuantizeAPRQ8([]float32{127, -63.5, 0.4})
	got = got[:2]
	if err := DequantizeRow(APRQ8, q8, 1, got); err != nil || !slices.Equal(got, []float32{-64, 0}) {
		t.Errorf("APR_Q8 [1,3) = %v, %v", got, err)
	}

	// Rows of 40 straddle the 32-element APR-Q4 blocks: each row decoded
	// alone must equal the matching slice of the whole tensor, and every
	// value lie within half a step (plus the f16 scale's rounding) of x.
	const rows, cols = 5, 40
	src := (func() []float32 { g := lcg(3); return g.floats(rows * cols) })()
	for _, dt := range []DType{APRQ4, APRQ8} {
		var data []byte
		if dt == APRQ4 {
			data = QuantizeAPRQ4(src)
		} else {
			data = QuantizeAPRQ8(src)
		}
		whole := make([]float32, rows*cols)
		if err := DequantizeRow(dt, data, 0, whole); err != nil {
			t.Fatal(err)
		}
		for r := range rows {
			row := make([]float32, cols)
			if err := DequantizeRow(dt, data, int64(r*cols), row); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(row, whole[r*cols:(r+1)*cols]) {
				t.Fatalf("%v row %d differs from the whole-tensor decode", dt, r)
			}
		}
		for i, x := range src {
			var step float32
			if dt == APRQ4 {
				blk := src[i/32*32 : min(i/32*32+32, len(src))]
				step = symmetricScale(blk, 7) * 1.001
			} else {
				step = symmetricScale(src, 127)
			}
			if d := math.Abs(float64(whole[i] - x)); d > float64(step)/2*1.001+1e-6 {
				t.Fatalf("%v element %d: %g decoded as %g (step %g)", dt, i, x, whole[i], step)
			}
		}
		if err := DequantizeRow(dt, data, 7*32-3, make([]float32, 4)); err == nil {
			t.Errorf("%v: range past the end accepted", dt)
		}
		if err := DequantizeRow(dt, data, -1, make([]float32, 1)); err == nil {
			t.Errorf("%v: negative first accepted", dt)
		}
	}
	if err := DequantizeRow(F32, f32Bytes(1), 0, make([]float32, 1)); err == nil {
		t.Error("F32 accepted")
	}
	if err := DequantizeRow(APRQ4, nil, 0, nil); err != nil {
		t.Errorf("empty range: %v", err)
	}
}
