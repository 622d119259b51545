package apr

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"runtime"
	"testing"
)

// kibModel is a valid checksummed file of about 1 KiB: metadata with a
// tokenizer, three tensors of different dtypes and ranks.
func kibModel(t testing.TB) []byte {
	md := Metadata{ModelType: "qwen2", HiddenSize: new(8), NumLayers: new(1), VocabSize: new(3)}
	if err := md.SetTokenizer(&Tokenizer{Model: "gpt2", Vocabulary: []string{"a", "b", "ab"}, Merges: []string{"a b"}}); err != nil {
		t.Fatal(err)
	}
	g := lcg(7)
	return writeModel(t, md, []spec{
		{"a.weight", F32, []int64{3, 8}, f32Bytes(g.floats(24)...)},
		{"b.weight", Q4_K, []int64{1, 256}, g.bytes(144)},
		{"c.bias", F16, []int64{8}, halfBytes(g.floats(8), f32ToF16)},
	})
}

// TestHostileHeaderAllocation writes hostile values (sign bits, 16-, 32-
// and 64-bit edges, the file's size and just past it) as 8-, 4-, 2- and
// 1-byte fields at every offset of a 1 KiB file's header, metadata and
// index, with the CRCs recomputed so that the parser sees the field and
// not a checksum mismatch, and with them left stale. Each variant must
// parse or fail with a categorized *FormatError, never panic, and never
// allocate more than the file's size plus 64 KiB.
func TestHostileHeaderAllocation(t *testing.T) {
	base := kibModel(t)
	if _, err := Parse(base); err != nil {
		t.Fatal(err)
	}
	size := uint64(len(base))
	values := []uint64{0, 1 << 7, 1 << 8, 1 << 15, 1<<16 - 1, 1 << 31, 1<<32 - 1, 1 << 32, 1 << 40, 1 << 62, 1 << 63, math.MaxUint64, size, size + 1, size / 2}
	dataOff := int(decodeHeader(base).DataOffset)
	limit := size + 64<<10
	var variants, refused int
	var worst uint64
	for off := range dataOff {
		for _, v := range values {
			for _, width := range []int{8, 4, 2, 1} {
				if off+width > len(base) || width < 8 && v >= 1<<(8*width) {
					continue
				}
				for _, fix := range []bool{true, false} {
					b := bytes.Clone(base)
					var w [8]byte
					binary.LittleEndian.PutUint64(w[:], v)
					copy(b[off:off+width], w[:width])
					if fix {
						b = fixCRC(b)
					}
					variants++
					var err error
					got := allocated(func() { _, err = Parse(b) })
					worst = max(worst, got)
					if err != nil {
						refused++
						if fe, ok := errors.AsType[*FormatError](err); !ok || fe.Err == nil {
							t.Fatalf("%#x (%d bytes) at offset %d: %v is not a categorized *FormatError", v, width, off, err)
						}
					}
					if got > limit {
						t.Errorf("%#x (%d bytes) at offset %d: parsing %d bytes allocated %d (%v)", v, width, off, len(b), got, err)
					}
				}
			}
		}
	}
	t.Logf("%d variants of a %d-byte file, %d refused; at most %d bytes allocated", variants, len(base), refused, worst)
}

// allocated returns the bytes f allocates (MemStats.TotalAlloc's growth).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
