package quant

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// FuzzKernels feeds arbitrary bytes to every kernel: as blocks to
// Dequantize and VecDot (any bit pattern is a valid block, including
// NaN/Inf fp16 scales), and as float32 values (NaN, ±Inf, subnormals) to
// Quantize and QuantizeRow. None may panic, and the quantizers must stay
// deterministic.
func FuzzKernels(f *testing.F) {
	f.Add([]byte{0x00, 0x3c, 0x0f, 0xf0})
	f.Add(make([]byte, 600))
	nan := make([]byte, 1200)
	for i := 0; i < len(nan); i += 4 {
		binary.LittleEndian.PutUint32(nan[i:], []uint32{0x7fc00000, 0x7f800000, 0xff800000, 0x00000001, 0x3f800000, 0x80000000}[i/4%6])
	}
	f.Add(nan)
	ramp := make([]byte, 2400)
	for i := range ramp {
		ramp[i] = byte(i * 37)
	}
	f.Add(ramp)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range append(dotTypes, ggml.Q8_1, ggml.Q8_K) {
			bs, ts := typ.BlockSize(), typ.TypeSize()
			nb := len(data) / ts
			if nb > 0 {
				y := make([]float32, nb*bs)
				if err := Dequantize(typ, data[:nb*ts], y); err != nil {
					t.Fatalf("%s: %v", typ, err)
				}
			}
			at, ok := VecDotType(typ)
			if ok {
				// Use the bytes as both operands, sized to the common length.
				// Bytes both operands need per weight block.
				per := max(ts, at.TypeSize()*bs/at.BlockSize())
				if n := len(data) / per * bs; n > 0 {
					VecDot(typ, data, data, n)
				}
			}
		}
		x := make([]float32, len(data)/4)
		for i := range x {
			x[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
		}
		for _, typ := range append(weightTypes, ggml.F16, ggml.BF16) {
			n := len(x) / typ.BlockSize() * typ.BlockSize()
			if n == 0 {
				continue
			}
			a := make([]byte, rowSize(t, typ, n))
			b := make([]byte, len(a))
			if err := Quantize(typ, x[:n], a); err != nil {
				t.Fatal(err)
			}
			Quantize(typ, x[:n], b)
			if string(a) != string(b) {
				t.Fatalf("%s: Quantize is not deterministic", typ)
			}
		}
		for _, typ := range []ggml.Type{ggml.F16, ggml.BF16, ggml.Q8_0, ggml.Q8_1, ggml.Q8_K} {
			n := len(x) / typ.BlockSize() * typ.BlockSize()
			if n == 0 {
				continue
			}
			if err := QuantizeRow(typ, x[:n], make([]byte, rowSize(t, typ, n))); err != nil {
				t.Fatal(err)
			}
		}
	})
}
