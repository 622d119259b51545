package apr

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"testing"
)

// TestWorkedExample rebuilds the worked example of specs/apr-v2.md §12
// (aprender's golden_fixtures.rs write_golden_v2_model) and checks every
// byte the spec states.
func TestWorkedExample(t *testing.T) {
	md := Metadata{
		ModelType:  "linear_regression",
		Name:       new("golden-v2"),
		Version:    new("0.0.0-golden"),
		CreatedAt:  new("1700000000"),
		ParamCount: 8,
	}
	w := NewWriter(md)
	// Insertion order differs from the sorted order on purpose.
	w.AddTensor("weights", F32, []int64{8}, f32Bytes(1, 2, 0.5, -0.5, 4, -2, 0.25, 8))
	w.AddTensor("bias", F32, []int64{1}, f32Bytes(0.125))
	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got := buf.Bytes()
	if n != 516 || len(got) != 516 {
		t.Fatalf("wrote %d bytes (buffer %d), want 516", n, len(got))
	}

	const wantJSON = `{"model_type":"linear_regression","name":"golden-v2","license":null,"data_source":null,"data_license":null,"version":"0.0.0-golden","created_at":"1700000000","total_size":0,"param_count":8}`
	if len(wantJSON) != 189 {
		t.Fatalf("spec JSON is %d bytes, the spec says 189", len(wantJSON))
	}

	var want []byte
	// Header rows 0x00..0x2f as the spec prints them; reserved bytes zero.
	want = append(want,
		0x41, 0x50, 0x52, 0x00, 0x02, 0x00, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00, 0x40, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0xbd, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x8c, 0xc0, 0x3b, 0x00, 0x00, 0x00, 0x00)
	want = append(want, make([]byte, 16)...)
	want = append(want, wantJSON...)
	want = pad64(want)
	if len(want) != 256 {
		t.Fatalf("index would start at %d, spec says 256", len(want))
	}
	entry := func(name string, dim, off, size uint64) {
		want = binary.LittleEndian.AppendUint16(want, uint16(len(name)))
		want = append(want, name...)
		want = append(want, 0 /* F32 */, 1 /* ndim */)
		want = binary.LittleEndian.AppendUint64(want, dim)
		want = binary.LittleEndian.AppendUint64(want, off)
		want = binary.LittleEndian.AppendUint64(want, size)
	}
	entry("bias", 1, 0, 4)
	entry("weights", 8, 64, 32)
	if len(want)-256 != 67 {
		t.Fatalf("index is %d bytes, spec says 67", len(want)-256)
	}
	want = pad64(want)
	if len(want) != 384 {
		t.Fatalf("data would start at %d, spec says 384", len(want))
	}
	want = pad64(append(want, f32Bytes(0.125)...))
	want = pad64(append(want, f32Bytes(1, 2, 0.5, -0.5, 4, -2, 0.25, 8)...))
	want = binary.LittleEndian.AppendUint32(want, 0x550F3F35)

	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("byte %d (0x%x) = %#02x, want %#02x", i, i, got[i], want[i])
		}
	}
	if c := binary.LittleEndian.Uint32(got[40:]); c != 0x3BC08C02 {
		t.Errorf("header CRC %#08x, want 0x3BC08C02", c)
	}
	if c := crc32.ChecksumIEEE(got[:512]); c != 0x550F3F35 {
		t.Errorf("footer CRC over [0,512) = %#08x, want 0x550F3F35", c)
	}

	f, err := Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(f.MetadataJSON) != wantJSON {
		t.Errorf("MetadataJSON = %s", f.MetadataJSON)
	}
	if f.Header.Flags != FlagRowMajor || f.Header.DataOffset != 384 || f.Header.IndexOffset != 256 {
		t.Errorf("header %+v", f.Header)
	}
	bias, ok := f.Tensor("bias")
	if !ok || !bytes.Equal(f.TensorData(bias), f32Bytes(0.125)) || bias.Offset != 0 {
		t.Errorf("bias = %+v", bias)
	}
}

func f32Bytes(vs ...float32) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func pad64(b []byte) []byte {
	for len(b)%64 != 0 {
		b = append(b, 0)
	}
	return b
}
