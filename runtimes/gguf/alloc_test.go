package gguf

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// hostileValues are what a crafted header writes into a count, length,
// dimension, type or offset: sign bits, 32-bit edges, sizes near the
// address space and just past the file.
func hostileValues(size int) []uint64 {
	return []uint64{1 << 31, 1<<32 - 1, 1 << 32, 1 << 40, 1 << 50, 1 << 62, 1 << 63, math.MaxUint64,
		uint64(size), uint64(size) + 1, uint64(size) / 2}
}

// kibImage is a valid file of about 1 KiB: baseImage's KVs and tensors,
// a nested array, and a padding string that brings it near 1024 bytes.
func kibImage(t testing.TB) []byte {
	w := NewWriter(3)
	w.AddKV("general.architecture", String("llama"))
	w.AddKV(AlignmentKey, Uint32(32))
	w.AddKV("k.one", Int32(1))
	w.AddKV("tok.list", StringArray([]string{"a", "bc", "def"}))
	w.AddKV("tok.nested", ArrayOf(TypeArray, []Value{ArrayOf(TypeUint8, []Value{Uint8(1), Uint8(2)})}))
	w.AddKV("pad", String(strings.Repeat("p", 520)))
	w.AddTensor("t.a", ggml.F32, []int64{8, 2}, seq(64))
	w.AddTensor("t.b", ggml.Q8_0, []int64{32, 2}, seq(68))
	w.AddTensor("t.c", ggml.F32, []int64{8}, seq(32))
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestHostileHeaderAllocation writes every hostile value, as a 64-bit and
// as a 32-bit field, at every offset of a 1 KiB file's header, KVs and
// tensor directory, and parses each variant: it must not panic, must fail
// with a *FormatError or parse, and must not allocate more than the file's
// size plus 64 KiB.
func TestHostileHeaderAllocation(t *testing.T) {
	base := kibImage(t)
	f, err := Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	dirEnd := int(f.DataOffset)
	limit := uint64(len(base)) + 64<<10
	var variants, refused int
	var worst uint64
	b := make([]byte, len(base))
	for off := range dirEnd {
		for _, v := range hostileValues(len(base)) {
			for _, width := range []int{8, 4} {
				if off+width > len(b) || width == 4 && v > math.MaxUint32 {
					continue
				}
				copy(b, base)
				m := image{t, b}
				if width == 8 {
					m.put64(off, v)
				} else {
					m.put32(off, uint32(v))
				}
				variants++
				var err error
				got := allocated(func() { _, err = Parse(b) })
				worst = max(worst, got)
				if err != nil {
					refused++
					if _, ok := errors.AsType[*FormatError](err); !ok {
						t.Fatalf("%#x (%d bytes) at offset %d: %v is not a *FormatError", v, width, off, err)
					}
				}
				if got > limit {
					t.Errorf("%#x (%d bytes) at offset %d: parsing %d bytes allocated %d (%v)", v, width, off, len(b), got, err)
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
