package apr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// entryPos locates the fields of the first index entry of b.
type entryPos struct{ nameLen, name, dtype, ndim, dims, off, size int }

func firstEntry(b []byte) entryPos {
	idx := int(binary.LittleEndian.Uint64(b[24:]))
	nl := int(binary.LittleEndian.Uint16(b[idx:]))
	p := entryPos{nameLen: idx, name: idx + 2, dtype: idx + 2 + nl, ndim: idx + 3 + nl, dims: idx + 4 + nl}
	nd := int(b[p.ndim])
	p.off = p.dims + 8*nd
	p.size = p.off + 8
	return p
}

func put64(b []byte, at int, v uint64) { binary.LittleEndian.PutUint64(b[at:], v) }
func put32(b []byte, at int, v uint32) { binary.LittleEndian.PutUint32(b[at:], v) }

// TestCorruption feeds damaged files to Parse: each must give a
// *FormatError naming the problem and wrapping its sentinel category,
// never a panic.
func TestCorruption(t *testing.T) {
	base := writeModel(t, sampleMetadata(t), sampleTensors())
	hdr := decodeHeader(base)
	mdOff, idxOff, dataOff := int(hdr.MetadataOffset), int(hdr.IndexOffset), int(hdr.DataOffset)
	e := firstEntry(base)
	size := len(base)

	for _, tc := range []struct {
		name     string
		mut      func(b []byte) []byte
		fix      bool // recompute CRCs after mut so the intended check fires
		want     string
		sentinel error
		off      int64 // -1: not checked
	}{
		{"bad magic", func(b []byte) []byte { copy(b, "GGUF"); return b }, true, "bad magic", ErrBadMagic, 0},
		{"magic APR1", func(b []byte) []byte { b[3] = '1'; return b }, true, "APR v1", ErrV1, 0},
		{"magic APRN", func(b []byte) []byte { b[3] = 'N'; return b }, true, "APR v1", ErrV1, 0},
		{"magic APRX", func(b []byte) []byte { b[3] = 'X'; return b }, true, "bad magic", ErrBadMagic, 0},
		{"bad version", func(b []byte) []byte { b[4] = 3; return b }, true, "format version 3.0", ErrBadVersion, 4},
		{"version 1", func(b []byte) []byte { b[4] = 1; return b }, true, "format version 1.0", ErrBadVersion, 4},
		{"huge tensor count", func(b []byte) []byte { put32(b, 8, 0xffffffff); return b }, true, "tensor count 4294967295", ErrLayout, 8},
		{"tensor count too small", func(b []byte) []byte { put32(b, 8, 1); return b }, false, "header checksum", ErrHeaderChecksum, 40},
		{"metadata offset inside header", func(b []byte) []byte { put64(b, 12, 10); return b }, true, "metadata offset 10", ErrLayout, 12},
		{"metadata size past EOF", func(b []byte) []byte { put32(b, 20, uint32(size)); return b }, true, "metadata", ErrLayout, 20},
		{"metadata not JSON", func(b []byte) []byte { b[mdOff+1] = '#'; return b }, true, "not a JSON object", ErrMetadata, int64(mdOff + 1)},
		{"metadata JSON array", func(b []byte) []byte {
			n := int(hdr.MetadataSize)
			copy(b[mdOff:], "["+strings.Repeat(" ", n-2)+"]")
			return b
		}, true, "not a JSON object", ErrMetadata, int64(mdOff)},
		{"metadata not UTF-8", func(b []byte) []byte { copy(b[mdOff+2:], "\xff\xfe"); return b }, true, "UTF-8", ErrMetadata, int64(mdOff)},
		{"metadata wrong type", func(b []byte) []byte {
			i := bytes.Index(b, []byte(`"max_position_embeddings":32768`))
			copy(b[i:], `"max_position_embeddings":"327"`)
			return b
		}, true, `"max_position_embeddings": want an integer`, ErrMetadata, int64(mdOff)},
		{"index past EOF", func(b []byte) []byte { put64(b, 24, uint64(size+100)); return b }, true, "tensor index offset", ErrLayout, 24},
		{"index before metadata end", func(b []byte) []byte { put64(b, 24, uint64(mdOff)); return b }, true, "tensor index offset", ErrLayout, 24},
		{"data offset past EOF", func(b []byte) []byte { put64(b, 32, uint64(size)); return b }, true, "data offset", ErrLayout, 32},
		{"data before index", func(b []byte) []byte { put64(b, 32, uint64(idxOff-64)); return b }, true, "data offset", ErrLayout, 32},
		{"index/data overlap", func(b []byte) []byte { put64(b, 32, uint64(idxOff+8*minEntrySize+10)); return b }, true, "runs past the data section start", ErrLayout, -1},
		{"bad dtype", func(b []byte) []byte { b[e.dtype] = 2; return b }, true, "dtype byte 2", ErrBadDType, int64(e.dtype)},
		{"aprender-only dtype I8", func(b []byte) []byte { b[e.dtype] = 6; return b }, true, "dtype byte 6", ErrBadDType, int64(e.dtype)},
		{"dtype 200", func(b []byte) []byte { b[e.dtype] = 200; return b }, true, "dtype byte 200", ErrBadDType, int64(e.dtype)},
		{"legacy dtype 8, ggml size", func(b []byte) []byte { b[e.dtype] = 8; return b }, true, "legacy APR_Q4", ErrBadDType, int64(e.dtype)},
		{"zero dim", func(b []byte) []byte { put64(b, e.dims, 0); return b }, true, "dimension 0 is 0", ErrBadEntry, int64(e.dims)},
		{"huge dim", func(b []byte) []byte { put64(b, e.dims, 1<<62); return b }, true, "dimension 0 is 4611686018427387904", ErrBadEntry, int64(e.dims)},
		{"huge shape", func(b []byte) []byte { put64(b, e.dims, 6000); put64(b, e.dims+8, 6000); return b }, true, "more than", ErrBadEntry, int64(e.dims)},
		{"zero ndim", func(b []byte) []byte { b[e.ndim] = 0; return b }, true, "0 dimensions", ErrBadEntry, int64(e.ndim)},
		{"nine dims", func(b []byte) []byte { b[e.ndim] = 9; return b }, true, "9 dimensions", ErrBadEntry, int64(e.ndim)},
		{"zero name length", func(b []byte) []byte { b[e.nameLen], b[e.nameLen+1] = 0, 0; return b }, true, "name length 0", ErrBadEntry, int64(e.nameLen)},
		{"name length 257", func(b []byte) []byte { b[e.nameLen], b[e.nameLen+1] = 1, 1; return b }, true, "name length 257", ErrBadEntry, int64(e.nameLen)},
		{"name not UTF-8", func(b []byte) []byte { b[e.name] = 0xff; return b }, true, "UTF-8", ErrBadEntry, int64(e.name)},
		{"size mismatch", func(b []byte) []byte { put64(b, e.size, 575); return b }, true, "size 575, but Q4_K [2 300] takes 576", ErrBadEntry, int64(e.size)},
		{"data past EOF", func(b []byte) []byte { put64(b, e.off, uint64(size)); return b }, true, "runs past the end", ErrLayout, int64(e.off)},
		{"data offset overflow", func(b []byte) []byte { put64(b, e.off, ^uint64(0)-10); return b }, true, "runs past the end", ErrLayout, int64(e.off)},
		{"data into footer", func(b []byte) []byte { put64(b, e.off, uint64(size-dataOff-576)); return b }, true, "runs past the end", ErrLayout, int64(e.off)},
		{"tensor overlap", func(b []byte) []byte { put64(b, e.off, 64); return b }, true, "overlaps", ErrLayout, -1},
		{"unsorted index", func(b []byte) []byte { b[e.name] = 'z'; return b }, true, "not sorted", ErrUnsorted, -1},
		{"bad header CRC", func(b []byte) []byte { b[50] = 1; return b }, false, "header checksum mismatch", ErrHeaderChecksum, 40},
		{"bad footer CRC", func(b []byte) []byte { b[size-1] ^= 0x80; return b }, false, "footer checksum mismatch", ErrFooterChecksum, int64(size - 4)},
		{"payload bit flip", func(b []byte) []byte { b[dataOff+3] ^= 1; return b }, false, "footer checksum mismatch", ErrFooterChecksum, int64(size - 4)},
		{"column-major flag", func(b []byte) []byte { b[7] |= 0x08; return b }, true, "column-major", ErrUnsupported, 6},
		{"encrypted flag", func(b []byte) []byte { b[6] |= 0x04; return b }, true, "encrypted", ErrUnsupported, 6},
		{"lz4 flag", func(b []byte) []byte { b[6] |= 0x01; return b }, true, "LZ4", ErrUnsupported, 6},
		{"zstd flag", func(b []byte) []byte { b[6] |= 0x02; return b }, true, "zstd", ErrUnsupported, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.mut(bytes.Clone(base))
			if tc.fix {
				b = fixCRC(b)
			}
			checkFormatError(t, b, tc.want, tc.sentinel, tc.off)
		})
	}
}

func checkFormatError(t *testing.T, b []byte, want string, sentinel error, off int64) {
	t.Helper()
	f, err := Parse(b)
	if err == nil {
		t.Fatalf("Parse succeeded (%d tensors), want error %q", len(f.Tensors), want)
	}
	var fe *FormatError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v (%T) is not a *FormatError", err, err)
	}
	if !strings.HasPrefix(err.Error(), "apr: ") || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q, want it to contain %q", err, want)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("error %v does not wrap %v", err, sentinel)
	}
	if off >= 0 && fe.Off != off {
		t.Errorf("offset %d, want %d (%v)", fe.Off, off, err)
	}
}

// TestHandBuilt covers what the Writer cannot produce: other writers'
// layouts that must be accepted, index orders that must be refused.
func TestHandBuilt(t *testing.T) {
	md := `{"model_type":"transformer_lm","hidden_size":4}`
	four := f32Bytes(1, 2, 3, 4)
	ent := func(name string, off uint64) rawEntry {
		return rawEntry{name: name, dt: 0, dims: []uint64{4}, off: off, size: 16}
	}
	data := append(pad64(bytes.Clone(four)), four...)

	t.Run("realizar layout", func(t *testing.T) {
		// flags 0, no checksums, index not padded, data in a different
		// order than the index.
		b := rawFile(md, []rawEntry{ent("a", 64), ent("b", 0)}, data, rawOpts{unpadded: true, noCRC: true})
		f, err := Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		a, _ := f.Tensor("a")
		if f.Header.DataOffset%64 == 0 || a.Offset != 64 || !bytes.Equal(f.TensorData(a), four) {
			t.Errorf("header %+v tensor %+v", f.Header, a)
		}
	})
	t.Run("APR2 magic", func(t *testing.T) {
		if _, err := Parse(rawFile(md, []rawEntry{ent("a", 0)}, data, rawOpts{magic: "APR2"})); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("no tensors", func(t *testing.T) {
		f, err := Parse(rawFile(md, nil, nil, rawOpts{}))
		if err != nil || len(f.Tensors) != 0 {
			t.Fatal(f, err)
		}
	})
	t.Run("legacy dtype 8 as APR_Q4", func(t *testing.T) {
		q := QuantizeAPRQ4([]float32{1, -2, 3})
		b := rawFile(md, []rawEntry{{name: "q", dt: 8, dims: []uint64{3}, size: uint64(len(q))}}, q, rawOpts{})
		f, err := Parse(b)
		if err != nil || f.Tensors[0].DType != APRQ4 {
			t.Fatal(f, err)
		}
	})
	t.Run("legacy dtype 9 as APR_Q8", func(t *testing.T) {
		q := QuantizeAPRQ8([]float32{1, -2, 3})
		b := rawFile(md, []rawEntry{{name: "q", dt: 9, dims: []uint64{3}, size: uint64(len(q))}}, q, rawOpts{})
		f, err := Parse(b)
		if err != nil || f.Tensors[0].DType != APRQ8 {
			t.Fatal(f, err)
		}
	})
	t.Run("unsorted index", func(t *testing.T) {
		b := rawFile(md, []rawEntry{ent("b", 0), ent("a", 64)}, data, rawOpts{})
		checkFormatError(t, b, `tensor index not sorted: "a" follows "b"`, ErrUnsorted, -1)
	})
	t.Run("duplicate names", func(t *testing.T) {
		b := rawFile(md, []rawEntry{ent("a", 0), ent("a", 64)}, data, rawOpts{})
		checkFormatError(t, b, `duplicate tensor name "a"`, ErrDuplicateTensor, -1)
	})
	t.Run("overlap", func(t *testing.T) {
		b := rawFile(md, []rawEntry{ent("a", 0), ent("b", 8)}, data, rawOpts{})
		checkFormatError(t, b, `overlaps`, ErrLayout, -1)
	})
	t.Run("checksummed file too short for footer", func(t *testing.T) {
		b := rawFile("{}", nil, nil, rawOpts{})
		checkFormatError(t, b[:HeaderSize+2], "footer", ErrLayout, -1)
	})
	t.Run("shorter than header", func(t *testing.T) {
		checkFormatError(t, []byte("APR\x00\x02"), "shorter than the 64-byte header", ErrLayout, 5)
	})
}

// TestTruncation cuts the file at every length: each prefix must be
// refused. The section boundaries are among the cuts.
func TestTruncation(t *testing.T) {
	base := writeModel(t, sampleMetadata(t), sampleTensors())
	for n := range len(base) {
		if f, err := Parse(base[:n]); err == nil {
			t.Fatalf("prefix of %d bytes parsed (%d tensors)", n, len(f.Tensors))
		} else if _, ok := errors.AsType[*FormatError](err); !ok {
			t.Fatalf("prefix %d: %v is not a *FormatError", n, err)
		}
	}
	// Without checksums nothing flags a cut that only removes trailing
	// padding, but a cut into a payload is still caught.
	md := `{"model_type":"m"}`
	raw := rawFile(md, []rawEntry{{name: "a", dims: []uint64{4}, size: 16}}, f32Bytes(1, 2, 3, 4), rawOpts{noCRC: true})
	checkFormatError(t, raw[:len(raw)-1], "runs past the end", ErrLayout, -1)
}

func TestFlagsString(t *testing.T) {
	for f, want := range map[Flags]string{
		0:                               "0",
		FlagRowMajor:                    "row_major",
		FlagRowMajor | FlagVocab:        "vocab|row_major",
		FlagColumnMajor | Flags(0x8000): "column_major|0x8000",
	} {
		if got := f.String(); got != want {
			t.Errorf("%#04x: %q, want %q", uint16(f), got, want)
		}
	}
}

func TestDTypes(t *testing.T) {
	for _, dt := range []DType{F32, F16, Q4_K, Q6_K, BF16} {
		g, ok := dt.GGML()
		if !ok || uint8(g) != uint8(dt) {
			t.Errorf("%v.GGML() = %v, %v", dt, g, ok)
		}
		if back, ok := FromGGML(g); !ok || back != dt {
			t.Errorf("FromGGML(%v) = %v, %v", g, back, ok)
		}
		if g.String() == "" || !strings.EqualFold(strings.ReplaceAll(g.String(), "_", ""), strings.ReplaceAll(dt.String(), "_", "")) {
			t.Errorf("names differ: ggml %q, apr %q", g, dt)
		}
	}
	for _, dt := range []DType{APRQ4, APRQ8} {
		if _, ok := dt.GGML(); ok {
			t.Errorf("%v has a ggml type", dt)
		}
	}
	for _, id := range []uint8{2, 8, 9, 13} {
		if dt, ok := FromGGML(ggml.Type(id)); ok {
			t.Errorf("ggml %d maps to %v", id, dt)
		}
	}
	if DType(3).String() != "dtype(3)" || DType(3).Valid() {
		t.Error("dtype 3 should be unknown")
	}
}
