package probes

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// FuzzReadTraceFile feeds the reader whole compressed files, as ReadFile
// gets them: zstd frames of any window size, checksums on and off,
// concatenated frames, bombs. It must never panic, and whatever it accepts
// must be a valid trace. (FuzzReadTrace covers the JSONL layer below it
// more efficiently.)
func FuzzReadTraceFile(f *testing.F) {
	plain, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false), zstd.WithWindowSize(1<<10))
	if err != nil {
		f.Fatal(err)
	}
	defer plain.Close()
	for _, tr := range []*Trace{
		record(f, fakeEngine{prompt: 2, steps: 1}, Policy{Slots: []Slot{K, Logits}, Head: 1}),
		record(f, fakeEngine{prompt: 3}, Policy{Slots: []Slot{Embed}, Positions: Positions{Last: true}}),
	} {
		b, err := encodeJSONL(tr, nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(compress(f, b))
		f.Add(plain.EncodeAll(b, nil))
		f.Add(append(compress(f, b[:len(b)/2]), compress(f, b[len(b)/2:])...))
	}
	f.Add(compress(f, bytes.Repeat([]byte{' '}, 1<<16)))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := decodeCompressed(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if err := d.trace.Validate(); err != nil {
			t.Fatalf("accepted an invalid trace: %v", err)
		}
	})
}

// FuzzReadSidecar feeds ReadFile a trace whose header pins an arbitrary
// sidecar (its size and SHA-256 match, so the bytes reach the GGUF reader
// and the record checks): it must never panic, and an accepted trace has
// every full tensor Count values long.
func FuzzReadSidecar(f *testing.F) {
	tr := richTrace(f)
	seedDir := f.TempDir()
	seed := filepath.Join(seedDir, "seed"+TraceSuffix)
	if err := WriteFile(seed, tr); err != nil {
		f.Fatal(err)
	}
	sc, err := os.ReadFile(SidecarPath(seed))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sc)
	f.Add(sc[:len(sc)/2])
	work := f.TempDir()
	path := filepath.Join(work, "x"+TraceSuffix)
	f.Fuzz(func(t *testing.T, sidecar []byte) {
		sum := sha256.Sum256(sidecar)
		ref := &sidecarRef{File: filepath.Base(SidecarPath(path)), Size: int64(len(sidecar)), SHA256: hex.EncodeToString(sum[:])}
		jsonl, err := encodeJSONL(tr, ref)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(SidecarPath(path), sidecar, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, compress(t, jsonl), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFile(path)
		if err != nil {
			return
		}
		for _, r := range got.Records {
			if r.Full != nil && int64(len(r.Full)) != r.Count {
				t.Fatalf("%v: %d full values for count %d", r.Key(), len(r.Full), r.Count)
			}
		}
	})
}

// FuzzParseSlots: --slots never panics; what it accepts is a non-empty
// list of distinct catalog slots in catalog order, and parsing its names
// again gives the same list.
func FuzzParseSlots(f *testing.F) {
	for _, s := range []string{"all", "attn_norm,ffn_*", "?_rope", "qkv,output", "ffn_silu_gate, ffn_swiglu_inner", "[", "q,,k", "nope", "*_norm,logits"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		slots, err := ParseSlots(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "probes: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}
		if len(slots) == 0 {
			t.Fatal("accepted an empty list")
		}
		if err := (Policy{Slots: slots}).Validate(); err != nil {
			t.Fatalf("%q gave %v: %v", s, slots, err)
		}
		names := make([]string, len(slots))
		for i, sl := range slots {
			names[i] = sl.String()
		}
		again, err := ParseSlots(strings.Join(names, ","))
		if err != nil || !slices.Equal(again, slots) {
			t.Fatalf("%q gave %v; its names parse to %v, %v", s, slots, again, err)
		}
	})
}

// FuzzParsePositions: --positions (and --layers, which is ParseInts) never
// panics; what it accepts is a valid policy selection whose String parses
// back to the same value, and no list exceeds MaxList.
func FuzzParsePositions(f *testing.F) {
	for _, s := range []string{"all", "last", "", "0,3,5-9", " 1 , 2-2 ", "9-1", "-1", "0-16777215", "16777216", "1e3", "0x10", "3,1,3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePositions(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "probes: ") {
				t.Fatalf("error %q lacks the package prefix", err)
			}
			return
		}
		if len(p.List) > MaxList {
			t.Fatalf("%q: %d positions", s, len(p.List))
		}
		if err := (Policy{Positions: p}).Validate(); err != nil {
			t.Fatalf("%q gave an invalid selection: %v", s, err)
		}
		q, err := ParsePositions(p.String())
		if err != nil || q.Last != p.Last || !slices.Equal(q.List, p.List) {
			t.Fatalf("%q → %q → %+v, %v", s, p.String(), q, err)
		}
	})
}
