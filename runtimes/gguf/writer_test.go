package gguf

import (
	"bytes"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// allValues holds every value type, empty and nested arrays included.
func allValues() []KV {
	return []KV{
		{"u8", Uint8(200)}, {"i8", Int8(-100)}, {"u16", Uint16(60000)}, {"i16", Int16(-30000)},
		{"u32", Uint32(4294967295)}, {"i32", Int32(-2147483648)}, {"f32", Float32(float32(math.NaN()))},
		{"bool", Bool(true)}, {"str", String("héllo\x00")}, {"u64", Uint64(math.MaxUint64)},
		{"i64", Int64(math.MinInt64)}, {"f64", Float64(math.Copysign(0, -1))},
		{"a.u8", Uint8Array([]uint8{1, 2, 255})}, {"a.i8", Int8Array([]int8{-1, 0, 1})},
		{"a.u16", Uint16Array([]uint16{1, 65535})}, {"a.i16", Int16Array([]int16{-32768})},
		{"a.u32", Uint32Array([]uint32{7})}, {"a.i32", Int32Array([]int32{-5, 5})},
		{"a.f32", Float32Array([]float32{1.5, -2})}, {"a.bool", BoolArray([]bool{true, false})},
		{"a.str", StringArray([]string{"", "x", "yz"})}, {"a.u64", Uint64Array([]uint64{1 << 63})},
		{"a.i64", Int64Array([]int64{-1})}, {"a.f64", Float64Array([]float64{math.Inf(1)})},
		{"a.empty", StringArray(nil)},
		{"a.nested", ArrayOf(TypeArray, []Value{
			Int32Array([]int32{1, 2}),
			StringArray([]string{"a"}),
			ArrayOf(TypeArray, []Value{Float32Array(nil)}),
		})},
		{"a.of", ArrayOf(TypeUint16, []Value{Uint16(3), Uint16(4)})},
	}
}

// TestWriteReadValues writes every value type and reads it back.
func TestWriteReadValues(t *testing.T) {
	for _, version := range []uint32{2, 3} {
		w := NewWriter(version)
		kvs := allValues()
		for _, kv := range kvs {
			w.AddKV(kv.Key, kv.Value)
		}
		var buf bytes.Buffer
		if _, err := w.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		f, err := Parse(buf.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if f.Version != version || len(f.KVs) != len(kvs) {
			t.Fatalf("v%d with %d KVs, want v%d with %d", f.Version, len(f.KVs), version, len(kvs))
		}
		for i, kv := range kvs {
			if got := f.KVs[i]; got.Key != kv.Key || !got.Value.Equal(kv.Value) {
				t.Errorf("KV %d: %s = %v, want %s = %v", i, got.Key, got.Value, kv.Key, kv.Value)
			}
		}
		// Writing what was read gives the same bytes.
		var again bytes.Buffer
		if _, err := NewWriterFrom(f).WriteTo(&again); err != nil || !bytes.Equal(again.Bytes(), buf.Bytes()) {
			t.Errorf("v%d: rewrite differs (%v)", version, err)
		}
	}
}

// TestWriterLayout checks offsets, padding and a non-default alignment.
func TestWriterLayout(t *testing.T) {
	w := NewWriter(3)
	w.AddKV(AlignmentKey, Uint32(64))
	w.AddTensor("a", ggml.F16, []int64{3}, seq(6))
	w.AddTensor("b", ggml.Q4_K, []int64{256, 2}, seq(2*144))
	w.AddTensor("c", ggml.I8, nil, seq(1)) // a 0-dim scalar
	var buf bytes.Buffer
	n, err := w.WriteTo(&buf)
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.Alignment != 64 || f.DataOffset%64 != 0 || n != f.Size() {
		t.Errorf("alignment %d, data at %d, %d bytes written of %d", f.Alignment, f.DataOffset, n, f.Size())
	}
	wantOff := []int64{0, 64, 64 + 320}
	for i, want := range wantOff {
		tt := &f.Tensors[i]
		if tt.Offset != want {
			t.Errorf("tensor %s at %d, want %d", tt.Name, tt.Offset, want)
		}
		if !bytes.Equal(f.TensorData(tt), seq(int(tt.Size))) {
			t.Errorf("tensor %s: data differs", tt.Name)
		}
	}
	if c, _ := f.Tensor("c"); c.NumElements() != 1 || len(c.Dims) != 0 {
		t.Errorf("scalar tensor: %+v", c)
	}
	// Every tensor is padded, the last one included, with zeros.
	if want := f.DataOffset + 64 + 320 + 64; f.Size() != want {
		t.Errorf("file is %d bytes, want %d", f.Size(), want)
	}
	if tail := buf.Bytes()[f.DataOffset+64+320+1:]; bytes.Count(tail, []byte{0}) != len(tail) {
		t.Error("padding is not zero")
	}
}

// TestWriterErrors checks that the writer refuses what the reader would,
// before writing anything.
func TestWriterErrors(t *testing.T) {
	tests := []struct {
		name  string
		build func(w *Writer)
		is    error
		msg   string
	}{
		{"duplicate key", func(w *Writer) { w.AddKV("k", Uint8(1)); w.AddKV("k", Uint8(2)) }, ErrDuplicateKey, `"k"`},
		{"empty key", func(w *Writer) { w.AddKV("", Uint8(1)) }, nil, "empty key"},
		{"alignment type", func(w *Writer) { w.AddKV(AlignmentKey, Uint64(32)) }, ErrBadAlignment, "uint64"},
		{"alignment value", func(w *Writer) { w.AddKV(AlignmentKey, Uint32(24)) }, ErrBadAlignment, "24"},
		{"duplicate tensor", func(w *Writer) {
			w.AddTensor("t", ggml.F32, []int64{1}, seq(4))
			w.AddTensor("t", ggml.F32, []int64{1}, seq(4))
		}, ErrDuplicateTensor, "'t'"},
		{"long name", func(w *Writer) { w.AddTensor(strings.Repeat("n", 64), ggml.F32, []int64{1}, seq(4)) }, nil, "64 bytes long"},
		{"five dims", func(w *Writer) { w.AddTensor("t", ggml.F32, []int64{1, 1, 1, 1, 1}, seq(4)) }, nil, "5 dimensions"},
		{"zero dim", func(w *Writer) { w.AddTensor("t", ggml.F32, []int64{4, 0}, nil) }, nil, "dimension 1 is 0"},
		{"unknown type", func(w *Writer) { w.AddTensor("t", ggml.Type(5), []int64{1}, seq(4)) }, &ggml.UnknownTypeError{ID: 5}, "unknown ggml type 5"},
		{"row width", func(w *Writer) { w.AddTensor("t", ggml.Q8_0, []int64{172, 1}, seq(34)) }, ErrRowNotBlockAlign, "172 elements per row"},
		{"short data", func(w *Writer) { w.AddTensor("t", ggml.F32, []int64{2}, seq(7)) }, nil, "has 7 bytes of data"},
		{"nested too deep", func(w *Writer) {
			v := Uint8Array(nil)
			for range maxArrayDepth {
				v = ArrayOf(TypeArray, []Value{v})
			}
			w.AddKV("deep", v)
		}, nil, "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWriter(3)
			tt.build(w)
			var buf bytes.Buffer
			_, err := w.WriteTo(&buf)
			if err == nil || !strings.HasPrefix(err.Error(), "gguf: ") || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("WriteTo = %v, want an error saying %q", err, tt.msg)
			}
			if tt.is != nil {
				var ue *ggml.UnknownTypeError
				if _, isType := tt.is.(*ggml.UnknownTypeError); isType && !errors.As(err, &ue) || !isType && !errors.Is(err, tt.is) {
					t.Errorf("error %v does not wrap %v", err, tt.is)
				}
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes before failing", buf.Len())
			}
		})
	}
	if _, err := NewWriter(1).WriteTo(new(bytes.Buffer)); err == nil || !strings.Contains(err.Error(), "version 1") {
		t.Errorf("version 1: %v", err)
	}
}

// TestWriteFile checks the temp-and-rename path: a valid writer lands a
// file Open reads; a failing one leaves nothing behind.
func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.gguf")
	w := NewWriter(3)
	w.AddKV("general.architecture", String("llama"))
	w.AddTensor("t", ggml.F32, []int64{8}, seq(32))
	if err := WriteFile(good, w); err != nil {
		t.Fatal(err)
	}
	f, err := Open(good)
	if err != nil {
		t.Fatal(err)
	}
	if f.Architecture() != "llama" || !bytes.Equal(f.TensorData(&f.Tensors[0]), seq(32)) {
		t.Errorf("arch %q, data %v", f.Architecture(), f.TensorData(&f.Tensors[0]))
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if f.TensorData(&f.Tensors[0]) != nil || f.Close() != nil {
		t.Error("TensorData after Close is not nil, or a second Close fails")
	}

	bad := NewWriter(3)
	bad.AddTensor("t", ggml.F32, []int64{8}, seq(3))
	if err := WriteFile(filepath.Join(dir, "bad.gguf"), bad); err == nil {
		t.Fatal("WriteFile of an invalid writer succeeded")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries after a failed write, want only good.gguf", len(entries))
	}
}

// TestOpenErrors covers a missing file, an empty file and a corrupt one.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := Open(filepath.Join(dir, "missing.gguf")); !errors.Is(err, os.ErrNotExist) || !strings.HasPrefix(err.Error(), "gguf: ") {
		t.Errorf("missing file: %v", err)
	}
	empty := filepath.Join(dir, "empty.gguf")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var fe *FormatError
	if _, err := Open(empty); !errors.As(err, &fe) || fe.Off != 0 {
		t.Errorf("empty file: %v", err)
	}
	bad := filepath.Join(dir, "bad.gguf")
	if err := os.WriteFile(bad, []byte("GGUF\x01\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(bad); !errors.Is(err, ErrV1Unsupported) {
		t.Errorf("v1 file: %v", err)
	}
}

func TestAddTensorFunc(t *testing.T) {
	data := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	eager := NewWriter(3)
	eager.AddTensor("a", ggml.F32, []int64{2}, data)
	lazy := NewWriter(3)
	lazy.AddTensorFunc("a", ggml.F32, []int64{2}, func() ([]byte, error) { return data, nil })
	var b1, b2 bytes.Buffer
	if _, err := eager.WriteTo(&b1); err != nil {
		t.Fatal(err)
	}
	if _, err := lazy.WriteTo(&b2); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b1.Bytes(), b2.Bytes()) {
		t.Fatal("AddTensorFunc wrote other bytes than AddTensor")
	}
	short := NewWriter(3)
	short.AddTensorFunc("a", ggml.F32, []int64{2}, func() ([]byte, error) { return data[:4], nil })
	if _, err := short.WriteTo(io.Discard); err == nil {
		t.Fatal("a generator returning too few bytes was accepted")
	}
	failing := NewWriter(3)
	failing.AddTensorFunc("a", ggml.F32, []int64{2}, func() ([]byte, error) { return nil, errors.New("boom") })
	if _, err := failing.WriteTo(io.Discard); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("generator error not reported: %v", err)
	}
}
