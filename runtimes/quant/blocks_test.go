package quant

import (
	"math"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// Hand-built blocks: each case writes a few fields of one block (or a few
// blocks) and lists element values worked out by hand from the layout in
// the type's comment (legacy.go, kquants.go, iquants.go). fp16 constants:
// 0x3400 = 0.25, 0x3800 = 0.5, 0x3c00 = 1, 0x4000 = 2, 0x4900 = 10,
// 0xbc00 = -1, 0xc000 = -2, 0xfbff = -65504, 0x0001 = 2⁻²⁴.

type elem struct {
	i    int
	want float32
}

var negZero = float32(math.Copysign(0, -1))

func put16(b []byte, off int, v uint16) { b[off], b[off+1] = byte(v), byte(v>>8) }

func TestDequantizeHandBuilt(t *testing.T) {
	for _, tc := range []struct {
		name  string
		typ   ggml.Type
		n     int
		build func(b []byte)
		want  []elem
	}{
		{"f32", ggml.F32, 2, func(b []byte) {
			putF32(b[0:], -1.5)
			putF32(b[4:], 0x1p-149)
		}, []elem{{0, -1.5}, {1, 0x1p-149}}},
		{"f16", ggml.F16, 3, func(b []byte) {
			put16(b, 0, 0xfbff)
			put16(b, 2, 0x0001)
			put16(b, 4, 0x8000)
		}, []elem{{0, -65504}, {1, 0x1p-24}, {2, negZero}}},
		{"bf16", ggml.BF16, 2, func(b []byte) {
			put16(b, 0, 0xc0a0) // -5
			put16(b, 2, 0x0001) // smallest subnormal bf16 = 2⁻¹³³
		}, []elem{{0, -5}, {1, 0x1p-133}}},
		{"q4_0 sign, extreme, zero and subnormal scales", ggml.Q4_0, 128, func(b []byte) {
			put16(b, 0, 0x3800)
			b[2], b[3], b[17] = 0x0f, 0x88, 0xf0
			put16(b, 18, 0xfbff)
			b[20] = 0x0f
			put16(b, 36, 0x0000)
			b[38] = 0x0f
			put16(b, 54, 0x0001)
			b[56] = 0x0f
		}, []elem{{0, 3.5}, {16, -4}, {1, 0}, {17, 0}, {15, -4}, {31, 3.5},
			{32, -458528}, {48, 524032}, {64, 0}, {80, negZero}, {96, 7 * 0x1p-24}, {112, -8 * 0x1p-24}}},
		{"q4_1", ggml.Q4_1, 32, func(b []byte) {
			put16(b, 0, 0x3800)
			put16(b, 2, 0xbc00)
			b[4] = 0x3a
		}, []elem{{0, 4}, {16, 0.5}, {1, -1}}},
		{"q5_0", ggml.Q5_0, 32, func(b []byte) {
			put16(b, 0, 0x3c00)
			b[2], b[4] = 0x01, 0x01 // qh = 1 | 1<<16
			b[6] = 0x21
		}, []elem{{0, 1}, {16, 2}, {1, -16}, {17, -16}}},
		{"q5_1", ggml.Q5_1, 32, func(b []byte) {
			put16(b, 0, 0x3400)
			put16(b, 2, 0x4900)
			b[4], b[5], b[6], b[7] = 0xff, 0xff, 0xff, 0xff
			b[8] = 0xff
		}, []elem{{0, 17.75}, {16, 17.75}, {1, 14}, {31, 14}}},
		{"q8_0", ggml.Q8_0, 32, func(b []byte) {
			put16(b, 0, 0xc000)
			b[2], b[3], b[4], b[5] = 127, 0x80, 0, 1
		}, []elem{{0, -254}, {1, 256}, {2, negZero}, {3, -2}}},
		{"q8_1 ignores s", ggml.Q8_1, 32, func(b []byte) {
			put16(b, 0, 0x3800)
			put16(b, 2, 0x7bff)
			b[4] = 0xfd
		}, []elem{{0, -1.5}, {1, 0}}},
		{"q2_K", ggml.Q2_K, 256, func(b []byte) {
			b[0], b[2], b[4], b[6], b[9] = 0x21, 0x03, 0xf5, 0x00, 0xff
			b[16] = 0xe4         // elements 0, 32, 64, 96 = levels 0, 1, 2, 3
			b[16+32+17] = 0x03   // element 145 (half 1, plane 0, sub-block 9) = level 3
			put16(b, 80, 0x3c00) // d
			put16(b, 82, 0x3800) // dmin
		}, []elem{{0, -1}, {32, 3}, {64, 2.5}, {96, 0}, {145, 37.5}, {1, -1}}},
		{"q3_K", ggml.Q3_K, 256, func(b []byte) {
			b[0] = 0x01 // hmask: element 0 has its high bit
			b[32], b[33] = 0x03, 0x01
			sc := b[96:108]
			sc[0] = 0x02                                          // scale 0 low nibble 2
			sc[8], sc[9], sc[10], sc[11] = 0xaa, 0xaa, 0xaa, 0x2a // high bits 2 (→ 32+…), scale 15 gets 0
			put16(b, 108, 0x3800)
		}, []elem{{0, 3}, {1, -3}, {2, -4}, {255, 64}, {16, negZero}}},
		{"q4_K", ggml.Q4_K, 256, func(b []byte) {
			put16(b, 0, 0x4000)
			put16(b, 2, 0x3c00)
			sc := b[4:16]
			sc[0], sc[4], sc[1], sc[5] = 3, 5, 0, 63
			sc[11], sc[3], sc[7] = 0xf1, 0xc0, 0x40 // sub-block 7: scale 49, min 31
			b[16] = 0xa7
			b[16+96+31] = 0xf0
		}, []elem{{0, 37}, {32, -63}, {255, 1439}, {1, -5}}},
		{"q5_K", ggml.Q5_K, 256, func(b []byte) {
			put16(b, 0, 0x4000)
			put16(b, 2, 0x3c00)
			sc := b[4:16]
			sc[0], sc[4], sc[1], sc[5] = 3, 5, 0, 63
			sc[11], sc[3], sc[7] = 0xf1, 0xc0, 0x40
			b[16] = 0x01    // qh[0] bit 0: element 0 gets +16
			b[16+31] = 0x80 // qh[31] bit 7: element 255 gets +16
			b[48] = 0xa7
			b[48+96+31] = 0xf0
		}, []elem{{0, 133}, {32, -63}, {255, 3007}, {1, -5}}},
		{"q6_K", ggml.Q6_K, 256, func(b []byte) {
			b[0] = 0x05     // ql[0]
			b[128] = 0x03   // qh[0]
			b[192] = 0xfd   // scales[0] = -3
			b[192+15] = 127 // scales[15]
			put16(b, 208, 0x3800)
		}, []elem{{0, -31.5}, {64, negZero}, {255, -2032}, {1, 48}}},
		{"q8_K", ggml.Q8_K, 256, func(b []byte) {
			putF32(b[0:], -0.25)
			b[4], b[4+255] = 4, 0x80
		}, []elem{{0, -1}, {255, 32}, {1, negZero}}},
		{"iq4_nl", ggml.IQ4_NL, 32, func(b []byte) {
			put16(b, 0, 0x3800)
			b[2], b[3] = 0x0f, 0x87
		}, []elem{{0, 56.5}, {16, -63.5}, {1, -5}, {17, 0.5}}},
		{"iq4_xs", ggml.IQ4_XS, 256, func(b []byte) {
			put16(b, 0, 0x3c00)
			put16(b, 2, 0x0002) // scales_h: sub-block 0 high bits 2
			b[4] = 0x01         // scales_l[0]: sub-block 0 low nibble 1 → ls 33
			b[8] = 0x0f
			b[135] = 0xe0
		}, []elem{{0, 113}, {16, -127}, {255, -2848}, {32, 4064}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := tc.typ.RowSize(int64(tc.n))
			if err != nil {
				t.Fatal(err)
			}
			b := make([]byte, rs)
			tc.build(b)
			got := make([]float32, tc.n)
			if err := Dequantize(tc.typ, b, got); err != nil {
				t.Fatal(err)
			}
			for _, e := range tc.want {
				if math.Float32bits(got[e.i]) != math.Float32bits(e.want) {
					t.Errorf("element %d = %g, want %g", e.i, got[e.i], e.want)
				}
			}
		})
	}
}
