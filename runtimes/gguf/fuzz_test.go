package gguf

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// fuzzSeedPrefix is how much of each shared model seeds the fuzzer as is:
// the header and part of the KV block, without megabytes of tensor data.
const fuzzSeedPrefix = 8 << 10

// FuzzParse feeds arbitrary bytes to Parse. It must never panic; every
// failure must be a *FormatError; and whatever parses must survive a
// write and a second parse unchanged.
func FuzzParse(f *testing.F) {
	f.Add(baseImage(f))
	w := NewWriter(2)
	for _, kv := range allValues() {
		w.AddKV(kv.Key, kv.Value)
	}
	w.AddTensor("s", ggml.BF16, []int64{2, 1, 1, 3}, seq(12))
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	if root := findSharedModels(); root != "" {
		files, _ := filepath.Glob(filepath.Join(root, "*", "*.gguf"))
		top, _ := filepath.Glob(filepath.Join(root, "*.gguf"))
		for _, p := range append(top, files...) {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b[:min(len(b), fuzzSeedPrefix)])
			if g, err := Parse(b); err == nil {
				f.Add(miniature(f, g))
			}
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := Parse(data)
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		var out bytes.Buffer
		if _, err := NewWriterFrom(g).WriteTo(&out); err != nil {
			t.Fatalf("a parsed file does not write: %v", err)
		}
		h, err := Parse(out.Bytes())
		if err != nil {
			t.Fatalf("a rewritten file does not parse: %v", err)
		}
		assertSameFile(t, g, h)
	})
}

// miniature rewrites a shared model small enough to mutate quickly but
// still valid: its real KVs with arrays cut to a few elements, and its first
// tensors shrunk to one block each.
func miniature(tb testing.TB, g *File) []byte {
	w := NewWriter(g.Version)
	for _, kv := range g.KVs {
		v := kv.Value
		if et, ok := v.ArrayType(); ok && v.Len() > 4 {
			elems := make([]Value, 4)
			for i := range elems {
				elems[i] = v.Index(i)
			}
			v = ArrayOf(et, elems)
		}
		w.AddKV(kv.Key, v)
	}
	for _, t := range g.Tensors[:min(len(g.Tensors), 3)] {
		w.AddTensor(t.Name, t.Type, []int64{int64(t.Type.BlockSize())}, seq(t.Type.TypeSize()))
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		tb.Fatalf("miniature of a parsed file: %v", err)
	}
	return buf.Bytes()
}
