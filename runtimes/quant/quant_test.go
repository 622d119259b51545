package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// weightTypes are the types Quantize handles that are quantized (not plain
// floats).
var weightTypes = []ggml.Type{ggml.Q4_0, ggml.Q4_1, ggml.Q5_0, ggml.Q5_1, ggml.Q8_0,
	ggml.Q2_K, ggml.Q3_K, ggml.Q4_K, ggml.Q5_K, ggml.Q6_K, ggml.IQ4_NL, ggml.IQ4_XS}

// dotTypes are the weight types with a dot kernel.
var dotTypes = append([]ggml.Type{ggml.F32, ggml.F16, ggml.BF16}, weightTypes...)

func rowSize(t testing.TB, typ ggml.Type, n int) int {
	t.Helper()
	rs, err := typ.RowSize(int64(n))
	if err != nil {
		t.Fatal(err)
	}
	return int(rs)
}

func TestUnsupportedTypes(t *testing.T) {
	for _, tc := range []struct {
		typ  ggml.Type
		want string
	}{
		{ggml.IQ2_XXS, "type iq2_xxs (id 16) is not supported"},
		{ggml.TQ1_0, "type tq1_0 (id 34) is not supported"},
		{ggml.Type(4), "unknown type id 4"},
		{ggml.Type(99), "unknown type id 99"},
		{ggml.Type(1 << 20), "unknown type id 1048576"},
	} {
		var ue *UnsupportedError
		err := Dequantize(tc.typ, nil, nil)
		if !errors.As(err, &ue) || ue.Type != tc.typ || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Dequantize(%d) = %v, want %q", uint32(tc.typ), err, tc.want)
		}
		if err := Quantize(tc.typ, nil, nil); !errors.As(err, &ue) {
			t.Errorf("Quantize(%d) = %v", uint32(tc.typ), err)
		}
		if _, ok := VecDotType(tc.typ); ok {
			t.Errorf("VecDotType(%d) reports a kernel", uint32(tc.typ))
		}
		if err := MatMul(nil, nil, tc.typ, 0, 0, nil, 0, 1); !errors.As(err, &ue) {
			t.Errorf("MatMul(%d) = %v", uint32(tc.typ), err)
		}
	}
	// Activation-only types are not weight quantizers and vice versa.
	for _, typ := range []ggml.Type{ggml.Q8_1, ggml.Q8_K} {
		if err := Quantize(typ, make([]float32, 256), make([]byte, rowSize(t, typ, 256))); err == nil {
			t.Errorf("Quantize(%s) should fail", typ)
		}
	}
	for _, typ := range []ggml.Type{ggml.Q4_K, ggml.Q4_0, ggml.IQ4_NL} {
		if err := QuantizeRow(typ, make([]float32, 256), make([]byte, rowSize(t, typ, 256))); err == nil {
			t.Errorf("QuantizeRow(%s) should fail", typ)
		}
	}
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), "iq2_xxs") {
			t.Errorf("VecDot on iq2_xxs: recovered %v", r)
		}
	}()
	VecDot(ggml.IQ2_XXS, nil, nil, 256)
}

func TestLengthErrors(t *testing.T) {
	for _, tc := range []struct {
		typ      ggml.Type
		n, bytes int
	}{
		{ggml.Q4_K, 255, 144}, // not a whole block
		{ggml.Q4_K, 256, 143}, // short
		{ggml.Q4_K, 256, 288}, // long
		{ggml.Q8_0, 32, 0},
		{ggml.F16, 3, 4},
	} {
		if err := Dequantize(tc.typ, make([]byte, tc.bytes), make([]float32, tc.n)); err == nil || !strings.HasPrefix(err.Error(), "quant: ") {
			t.Errorf("Dequantize %s n=%d bytes=%d: %v", tc.typ, tc.n, tc.bytes, err)
		}
		if err := Quantize(tc.typ, make([]float32, tc.n), make([]byte, tc.bytes)); err == nil {
			t.Errorf("Quantize %s n=%d bytes=%d succeeded", tc.typ, tc.n, tc.bytes)
		}
	}
	w := make([]byte, 2*144)
	for _, tc := range []struct {
		dst           []float32
		w             []byte
		rows, cols, n int
		x             []float32
	}{
		{make([]float32, 2), w, 2, 255, 1, make([]float32, 255)},       // cols not a block multiple
		{make([]float32, 2), w[:144], 2, 256, 1, make([]float32, 256)}, // weights short
		{make([]float32, 2), w, 2, 256, 1, make([]float32, 255)},       // activations short
		{make([]float32, 3), w, 2, 256, 1, make([]float32, 256)},       // dst wrong
		{nil, w, -2, 256, 1, nil},
	} {
		if err := MatMul(tc.dst, tc.w, ggml.Q4_K, tc.rows, tc.cols, tc.x, tc.n, 1); err == nil {
			t.Errorf("MatMul %d×%d n=%d succeeded", tc.rows, tc.cols, tc.n)
		}
	}
}

// TestQuantizeHandChecked checks the reference quantizers' rounding rules
// on values chosen so that the exact C results are obvious.
func TestQuantizeHandChecked(t *testing.T) {
	// Q4_0: max = -8 → d = 1, q = min(15, trunc(x + 8.5)).
	x := make([]float32, 32)
	copy(x, []float32{-8, 7, 7.6, 0.4, -0.6, -7.5})
	b := make([]byte, 18)
	if err := Quantize(ggml.Q4_0, x, b); err != nil {
		t.Fatal(err)
	}
	wantQ := []byte{0, 15, 15, 8, 7, 1}
	for j, w := range wantQ {
		if got := b[2+j] & 0x0f; got != w {
			t.Errorf("q4_0 element %d (x=%g): level %d, want %d", j, x[j], got, w)
		}
	}
	if le16(b) != 0x3c00 {
		t.Errorf("q4_0 d = %#04x, want 1.0", le16(b))
	}

	// Q8_0 weight (roundf: ties away from zero) vs activation (ties to even).
	copy(x, []float32{127, 2.5, -2.5, 3.5, 0.5, -0.5})
	ref := make([]byte, 34)
	act := make([]byte, 34)
	if err := Quantize(ggml.Q8_0, x, ref); err != nil {
		t.Fatal(err)
	}
	if err := QuantizeRow(ggml.Q8_0, x, act); err != nil {
		t.Fatal(err)
	}
	for j, w := range []struct{ ref, act int8 }{{127, 127}, {3, 2}, {-3, -2}, {4, 4}, {1, 0}, {-1, 0}} {
		if int8(ref[2+j]) != w.ref || int8(act[2+j]) != w.act {
			t.Errorf("q8_0 x=%g: weight %d activation %d, want %d %d", x[j], int8(ref[2+j]), int8(act[2+j]), w.ref, w.act)
		}
	}
	// Q8_1 activation: s = fp16(d·Σq) = 127+2-2+4+0+0 = 131.
	a1 := make([]byte, 36)
	if err := QuantizeRow(ggml.Q8_1, x, a1); err != nil {
		t.Fatal(err)
	}
	if d, s := FP16ToFP32(le16(a1)), FP16ToFP32(le16(a1[2:])); d != 1 || s != 131 {
		t.Errorf("q8_1 d=%g s=%g, want 1 131", d, s)
	}
}

func TestQuantizeRowQ8K(t *testing.T) {
	x := make([]float32, 512)
	copy(x, []float32{-127, 2.5, 3.5, -0.5, 126.5, -126.5})
	// Second block: all zero.
	b := make([]byte, 2*292)
	for i := range b {
		b[i] = 0xaa // must be overwritten, bsums included
	}
	if err := QuantizeRow(ggml.Q8_K, x, b); err != nil {
		t.Fatal(err)
	}
	// max = -127 → iscale = 1, nearest_int rounds half to even.
	if d := f32(b); d != 1 {
		t.Errorf("d = %g, want 1", d)
	}
	want := []int8{-127, 2, 4, 0, 126, -126}
	sum := 0
	for j, w := range want {
		if got := int8(b[4+j]); got != w {
			t.Errorf("q[%d] = %d, want %d", j, got, w)
		}
		sum += int(w)
	}
	if got := int16(le16(b[260:])); int(got) != sum {
		t.Errorf("bsums[0] = %d, want %d", got, sum)
	}
	for i, v := range b[292:] {
		if v != 0 {
			t.Fatalf("all-zero block byte %d = %#x, want 0", i, v)
		}
	}
	// A positive max gives iscale < 0: the max maps to -127 and -max to 127.
	x = make([]float32, 256)
	copy(x, []float32{100, -100, 25})
	if err := QuantizeRow(ggml.Q8_K, x, b[:292]); err != nil {
		t.Fatal(err)
	}
	if int8(b[4]) != -127 || int8(b[5]) != 127 || int8(b[6]) != -32 {
		t.Errorf("positive max: q = %d %d %d, want -127 127 -32", int8(b[4]), int8(b[5]), int8(b[6]))
	}
	if d := f32(b); d != 1/(-127/float32(100)) {
		t.Errorf("d = %g", d)
	}
}

// TestQuantizeSplitInvariant: blocks never straddle rows, so quantizing a
// matrix in one call or row by row gives the same bytes.
func TestQuantizeSplitInvariant(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const rows, cols = 3, 512
	x := make([]float32, rows*cols)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for _, typ := range weightTypes {
		rs := rowSize(t, typ, cols)
		whole := make([]byte, rows*rs)
		if err := Quantize(typ, x, whole); err != nil {
			t.Fatal(err)
		}
		for row := 0; row < rows; row++ {
			part := make([]byte, rs)
			if err := Quantize(typ, x[row*cols:(row+1)*cols], part); err != nil {
				t.Fatal(err)
			}
			if string(part) != string(whole[row*rs:(row+1)*rs]) {
				t.Errorf("%s: row %d differs", typ, row)
			}
		}
	}
}

// TestQuantizeErrorBound checks the defining property of each reference
// quantizer on synthetic data: the dequantized value lies within the
// type's rounding step of the input. Per block (or sub-block), step is the
// largest gap between adjacent representable values.
func TestQuantizeErrorBound(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const n = 4096
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	// Relative to the block's max |x|. Legacy types: half a step, where
	// the step is d (Q4_0/Q5_0 clamp the top level, so there a whole step),
	// plus the fp16 rounding of d over the largest level (2⁻¹¹·levels·d).
	// The K and IQ4 types search scales that trade max error for mean
	// error; their bounds are loose ceilings, not tight ones.
	const fp16 = 1.0 / 2048
	bound := map[ggml.Type]float64{
		ggml.Q8_0: (0.5 + 127*fp16) / 127, ggml.Q4_0: (1 + 8*fp16) / 8, ggml.Q5_0: (1 + 16*fp16) / 16,
		ggml.Q4_1: 2 * (0.5 + 15*fp16) / 15, ggml.Q5_1: 2 * (0.5 + 31*fp16) / 31,
		ggml.Q6_K: 0.03, ggml.Q5_K: 0.06, ggml.Q4_K: 0.1, ggml.Q3_K: 0.25, ggml.Q2_K: 0.5,
		ggml.IQ4_NL: 0.15, ggml.IQ4_XS: 0.15,
	}
	for _, typ := range weightTypes {
		q := make([]byte, rowSize(t, typ, n))
		if err := Quantize(typ, x, q); err != nil {
			t.Fatal(err)
		}
		y := make([]float32, n)
		if err := Dequantize(typ, q, y); err != nil {
			t.Fatal(err)
		}
		bs := typ.BlockSize()
		worst := 0.0
		for b := 0; b < n; b += bs {
			var amax float64
			for _, v := range x[b : b+bs] {
				amax = math.Max(amax, math.Abs(float64(v)))
			}
			for i := b; i < b+bs; i++ {
				worst = math.Max(worst, math.Abs(float64(x[i]-y[i]))/amax)
			}
		}
		t.Logf("%-7s max error %.4f of the block max (bound %.4f)", typ, worst, bound[typ])
		if worst > bound[typ] {
			t.Errorf("%s: max error %.4f of the block max, bound %.4f", typ, worst, bound[typ])
		}
	}
}
