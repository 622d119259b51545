package apr

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// benchFile is a 64 MiB file of eight F32 tensors: Parse's cost is then
// dominated by the footer CRC over every byte.
func benchFile(b *testing.B) []byte {
	md := Metadata{ModelType: "bench"}
	w := NewWriter(md)
	for i := range 8 {
		w.AddTensor(fmt.Sprintf("t%d", i), F32, []int64{1024, 2048}, make([]byte, 4*1024*2048))
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

func BenchmarkParse(b *testing.B) {
	data := benchFile(b)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteTo(b *testing.B) {
	f, err := Parse(benchFile(b))
	if err != nil {
		b.Fatal(err)
	}
	w := NewWriter(f.Metadata)
	for i := range f.Tensors {
		t := &f.Tensors[i]
		w.AddTensor(t.Name, t.DType, t.Shape, f.TensorData(t))
	}
	b.SetBytes(int64(len(f.data)))
	for b.Loop() {
		if _, err := w.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDequantizeRow(b *testing.B) {
	g := lcg(5)
	src := g.floats(4096)
	dst := make([]float32, 4096)
	for _, dt := range []DType{APRQ4, APRQ8} {
		data := QuantizeAPRQ4(src)
		if dt == APRQ8 {
			data = QuantizeAPRQ8(src)
		}
		b.Run(dt.String(), func(b *testing.B) {
			b.SetBytes(4 * int64(len(dst)))
			for b.Loop() {
				if err := DequantizeRow(dt, data, 0, dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
