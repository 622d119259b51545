package gguf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// baseImage writes a small valid file with the package's own writer: five
// KVs (one an array) and three tensors, the last one a multiple of the
// alignment long so the file ends exactly at its last data byte.
func baseImage(t testing.TB) []byte {
	t.Helper()
	w := NewWriter(3)
	w.AddKV("general.architecture", String("llama"))
	w.AddKV(AlignmentKey, Uint32(32))
	w.AddKV("k.one", Int32(1))
	w.AddKV("k.two", Float32(2))
	w.AddKV("tok.list", StringArray([]string{"a", "bc"}))
	w.AddTensor("t.a", ggml.F32, []int64{8, 2}, seq(64))
	w.AddTensor("t.b", ggml.Q8_0, []int64{32, 2}, seq(68)) // padded to 96
	w.AddTensor("t.c", ggml.F32, []int64{8}, seq(32))
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 1)
	}
	return b
}

// image wraps a file image with helpers that locate fields by the strings
// around them, so the corruptions below compute their offsets instead of
// hard-coding them.
type image struct {
	t testing.TB
	b []byte
}

// str returns the offset of the length-prefixed encoding of s, which must
// occur exactly once.
func (m image) str(s string) int {
	enc := binary.LittleEndian.AppendUint64(nil, uint64(len(s)))
	enc = append(enc, s...)
	i := bytes.Index(m.b, enc)
	if i < 0 || bytes.Contains(m.b[i+1:], enc) {
		m.t.Fatalf("string %q not found exactly once", s)
	}
	return i
}

// after returns the offset just past the encoded string s: a KV's type tag
// or a tensor info's n_dims.
func (m image) after(s string) int { return m.str(s) + 8 + len(s) }

// tensorField returns the offset of a field of tensor name's info:
// "ndims", "dim0", "dim1", "type" or "offset".
func (m image) tensorField(name, field string) int {
	nd := m.after(name)
	n := int(binary.LittleEndian.Uint32(m.b[nd:]))
	switch field {
	case "ndims":
		return nd
	case "dim0":
		return nd + 4
	case "dim1":
		return nd + 4 + 8
	case "type":
		return nd + 4 + 8*n
	case "offset":
		return nd + 4 + 8*n + 4
	}
	m.t.Fatalf("no field %q", field)
	return 0
}

func (m image) put32(off int, v uint32) { binary.LittleEndian.PutUint32(m.b[off:], v) }
func (m image) put64(off int, v uint64) { binary.LittleEndian.PutUint64(m.b[off:], v) }
func (m image) get64(off int) uint64    { return binary.LittleEndian.Uint64(m.b[off:]) }

// TestCorrupt patches single fields of a valid file and checks that each
// patch yields a *FormatError of the right kind, never a panic.
func TestCorrupt(t *testing.T) {
	tests := []struct {
		name  string
		patch func(m image)
		is    error  // errors.Is target, if any
		msg   string // substring of the message
	}{
		{"bad magic", func(m image) { copy(m.b, "GGML") }, ErrBadMagic, `bad magic "GGML"`},
		{"version 1", func(m image) { m.put32(4, 1) }, ErrV1Unsupported, "GGUF v1 is not supported"},
		{"version 0", func(m image) { m.put32(4, 0) }, ErrBadVersion, "bad version 0"},
		{"version 4", func(m image) { m.put32(4, 4) }, ErrBadVersion, "version 4 not supported"},
		{"big-endian version", func(m image) { binary.BigEndian.PutUint32(m.b[4:], 3) }, ErrBadVersion, "big-endian"},
		{"huge tensor count", func(m image) { m.put64(8, 1<<40) }, io.ErrUnexpectedEOF, "1099511627776 tensors"},
		{"negative tensor count", func(m image) { m.put64(8, 1<<63) }, io.ErrUnexpectedEOF, "tensors"},
		{"huge KV count", func(m image) { m.put64(16, 1<<40) }, io.ErrUnexpectedEOF, "1099511627776 KVs"},
		{"key length past EOF", func(m image) { m.put64(m.str("k.one"), 1<<40) }, io.ErrUnexpectedEOF, "key length 1099511627776 exceeds"},
		{"string value past EOF", func(m image) { m.put64(m.after("general.architecture")+4, 1<<40) }, io.ErrUnexpectedEOF, "string value length"},
		{"string element past EOF", func(m image) { m.put64(m.str("bc"), 1<<40) }, io.ErrUnexpectedEOF, "string element length"},
		{"tensor name past EOF", func(m image) { m.put64(m.str("t.b"), 1<<40) }, io.ErrUnexpectedEOF, "tensor name length"},
		{"bad value type", func(m image) { m.put32(m.after("k.one"), 13) }, nil, `key "k.one" has bad value type 13`},
		{"bad array type", func(m image) { m.put32(m.after("tok.list")+4, 99) }, nil, `key "tok.list": bad array element type 99`},
		{"huge array length", func(m image) { m.put64(m.after("tok.list")+8, 1<<40) }, io.ErrUnexpectedEOF, "array of 1099511627776 string"},
		{"alignment not uint32", func(m image) { m.put32(m.after(AlignmentKey), uint32(TypeInt32)) }, ErrBadAlignment, "must be a uint32, not int32"},
		{"alignment not power of 2", func(m image) { m.put32(m.after(AlignmentKey)+4, 48) }, ErrBadAlignment, "48 is not a power of 2"},
		{"alignment 0", func(m image) { m.put32(m.after(AlignmentKey)+4, 0) }, ErrBadAlignment, "0 is not a power of 2"},
		{"n_dims > 4", func(m image) { m.put32(m.tensorField("t.a", "ndims"), 5) }, nil, "tensor 't.a' has 5 dimensions"},
		{"zero dim", func(m image) { m.put64(m.tensorField("t.a", "dim1"), 0) }, nil, "tensor 't.a' dimension 1 is 0"},
		{"negative dim", func(m image) { m.put64(m.tensorField("t.a", "dim0"), 1<<63) }, nil, "dimension 0 is -9223372036854775808"},
		{"element count overflow", func(m image) {
			m.put64(m.tensorField("t.a", "dim0"), 1<<32)
			m.put64(m.tensorField("t.a", "dim1"), 1<<32)
		}, nil, "element count overflows"},
		{"byte size overflow", func(m image) { m.put64(m.tensorField("t.a", "dim1"), 1<<58) }, nil, "size in bytes overflows"},
		{"unknown ggml type", func(m image) { m.put32(m.tensorField("t.a", "type"), 99) }, nil, "tensor 't.a' has unknown ggml type 99"},
		{"removed ggml type", func(m image) { m.put32(m.tensorField("t.a", "type"), 4) }, nil, "unknown ggml type 4"},
		{"row not a block multiple", func(m image) { m.put64(m.tensorField("t.b", "dim0"), 48) }, ErrRowNotBlockAlign, "tensor 't.b' has 48 elements per row, not a multiple of block size (32)"},
		{"tensor data past EOF", func(m image) { m.put64(m.tensorField("t.c", "dim0"), 16) }, ErrTensorLayout, "tensor 't.c' data"},
		{"offset past EOF", func(m image) { m.put64(m.tensorField("t.c", "offset"), 1<<62) }, ErrTensorLayout, "lies beyond the end"},
		{"offset unaligned", func(m image) {
			o := m.tensorField("t.b", "offset")
			m.put64(o, m.get64(o)+4)
		}, ErrTensorLayout, "not a multiple of the alignment 32"},
		{"overlapping tensors", func(m image) { m.put64(m.tensorField("t.b", "offset"), 0) }, ErrTensorLayout, "tensor 't.b' at offset 0 overlaps tensor 't.a'"},
		{"gap between tensors", func(m image) {
			o := m.tensorField("t.c", "offset")
			m.put64(o, m.get64(o)+32)
		}, ErrTensorLayout, "expected 160"},
		{"duplicate tensor names", func(m image) { copy(m.b[m.str("t.b")+8:], "t.a") }, ErrDuplicateTensor, "duplicate tensor name 't.a' (tensors 0 and 1)"},
		{"duplicate keys", func(m image) { copy(m.b[m.str("k.two")+8:], "k.one") }, ErrDuplicateKey, `duplicate key "k.one" (KVs 2 and 3)`},
		{"empty key", func(m image) {
			// Shorten "k.one" to "" and its tag+value to fit: the old
			// key bytes become the type tag and (1 byte of) value.
			o := m.str("k.one")
			m.put64(o, 0)
			m.put32(o+8, uint32(TypeUint8))
		}, nil, "KV 2 has an empty key"},
	}
	base := baseImage(t)
	if _, err := Parse(base); err != nil {
		t.Fatalf("base image: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := image{t, bytes.Clone(base)}
			tt.patch(m)
			f, err := Parse(m.b)
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("Parse = %v, %v; want a *FormatError", f, err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "gguf: offset ") {
				t.Errorf("error %q, want it to contain %q", err, tt.msg)
			}
			if fe.Off < 0 || fe.Off > int64(len(m.b)) {
				t.Errorf("offset %d outside the %d-byte file", fe.Off, len(m.b))
			}
		})
	}
}

// TestUnknownTypeUnwraps checks that an unknown tensor type exposes the
// ggml error naming the id.
func TestUnknownTypeUnwraps(t *testing.T) {
	m := image{t, baseImage(t)}
	typOff := m.tensorField("t.c", "type")
	m.put32(typOff, 77)
	_, err := Parse(m.b)
	var ue *ggml.UnknownTypeError
	var fe *FormatError
	if !errors.As(err, &ue) || ue.ID != 77 || !errors.As(err, &fe) || fe.Off != int64(typOff) {
		t.Fatalf("Parse = %v; want an UnknownTypeError for 77 at offset %d", err, typOff)
	}
}

// TestTruncated cuts the file at every length short of its end. Each prefix
// must fail: a cut inside the header, KVs or directory as an unexpected
// EOF, a cut in the padding or the data as a tensor past the end.
func TestTruncated(t *testing.T) {
	base := baseImage(t)
	m := image{t, base}
	dirEnd := m.tensorField("t.c", "offset") + 8
	boundaries := map[int]string{
		0: "empty", 4: "after magic", 8: "after version", 16: "after tensor count", 24: "after KV count",
		m.str("general.architecture"): "first KV", m.str("tok.list"): "last KV",
		m.str("t.a"): "tensor directory", dirEnd: "end of directory", len(base) - 32: "last tensor's data",
	}
	seen := 0
	for n := 0; n < len(base); n++ {
		_, err := Parse(base[:n])
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Fatalf("%d of %d bytes: Parse = %v, want a *FormatError", n, len(base), err)
		}
		want := io.ErrUnexpectedEOF
		if n >= dirEnd {
			want = ErrTensorLayout
		}
		if !errors.Is(err, want) {
			t.Errorf("%d bytes (%s): %v, want %v", n, boundaries[n], err, want)
		}
		if _, ok := boundaries[n]; ok {
			seen++
		}
	}
	if seen != len(boundaries) {
		t.Errorf("covered %d of %d section boundaries", seen, len(boundaries))
	}
}

// TestVocabOnly checks a file with no tensors: it ends after the KV block,
// without padding, and its data section starts at the end of the file.
func TestVocabOnly(t *testing.T) {
	w := NewWriter(2)
	w.AddKV("general.architecture", String("llama"))
	w.AddKV("tokenizer.ggml.tokens", StringArray([]string{"<unk>", "a"}))
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if buf.Len()%DefaultAlignment == 0 {
		t.Fatalf("test file is %d bytes, aligned by chance; it cannot show missing padding", buf.Len())
	}
	f, err := Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if f.Version != 2 || len(f.Tensors) != 0 || f.DataOffset != int64(buf.Len()) {
		t.Errorf("v%d, %d tensors, data at %d of %d", f.Version, len(f.Tensors), f.DataOffset, buf.Len())
	}
	for n := range buf.Len() {
		if _, err := Parse(buf.Bytes()[:n]); !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("%d of %d bytes: %v, want unexpected EOF", n, buf.Len(), err)
		}
	}
}

// TestHostileAllocation parses tiny files whose counts and lengths claim
// terabytes, and bounds what the parser allocates doing so.
func TestHostileAllocation(t *testing.T) {
	base := baseImage(t)
	patches := map[string]func(m image){
		"tensor count": func(m image) { m.put64(8, 1<<50) },
		"KV count":     func(m image) { m.put64(16, 1<<50) },
		"array length": func(m image) { m.put64(m.after("tok.list")+8, 1<<50) },
		"key length":   func(m image) { m.put64(m.str("k.one"), 1<<50) },
		"n_dims":       func(m image) { m.put32(m.tensorField("t.a", "ndims"), 1<<31) },
	}
	for name, patch := range patches {
		m := image{t, bytes.Clone(base)}
		patch(m)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := Parse(m.b)
		runtime.ReadMemStats(&after)
		if err == nil {
			t.Errorf("%s: no error", name)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
			t.Errorf("%s: parsing a %d-byte file allocated %d bytes", name, len(m.b), got)
		}
	}
}
