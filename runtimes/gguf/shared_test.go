package gguf

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
)

// sharedModels returns ../shared/models relative to the module root (the
// directory holding go.mod), skipping the test when it is absent.
func sharedModels(t testing.TB) string {
	t.Helper()
	models := findSharedModels()
	if models == "" {
		t.Skip("shared models not available")
	}
	return models
}

// findSharedModels returns ../shared/models next to the module root, or ""
// when there is none.
func findSharedModels() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			models := filepath.Join(dir, "..", "shared", "models")
			if _, err := os.Stat(models); err != nil {
				return ""
			}
			return models
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// sharedGGUFs lists every .gguf under the shared models directory, relative
// to it.
func sharedGGUFs(t testing.TB) (string, []string) {
	root := sharedModels(t)
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".gguf") {
			rel, _ := filepath.Rel(root, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Skip("no .gguf files in the shared models directory")
	}
	return root, files
}

// legacyErrors are the shared files current llama.cpp refuses, with what
// the error must say.
var legacyErrors = map[string]struct {
	is   error
	text string
}{
	"legacy/tinyllamas-stories-260k-f32.gguf":  {ErrV1Unsupported, "GGUF v1 is not supported"},
	"legacy/tinyllamas-stories-260k-q8_0.gguf": {ErrRowNotBlockAlign, "tensor 'blk.0.ffn_down.weight' has 172 elements per row, not a multiple of block size (32)"},
}

// TestSharedRoundTrip opens every shared model, writes it back and demands
// the identical bytes; the legacy files must fail with their known errors.
func TestSharedRoundTrip(t *testing.T) {
	root, files := sharedGGUFs(t)
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			path := filepath.Join(root, rel)
			f, err := Open(path)
			if want, legacy := legacyErrors[rel]; legacy {
				var fe *FormatError
				if !errors.As(err, &fe) || !errors.Is(err, want.is) || !strings.Contains(err.Error(), want.text) {
					t.Fatalf("Open = %v, want a *FormatError wrapping %v saying %q", err, want.is, want.text)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			n, err := NewWriterFrom(f).WriteTo(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if n != int64(buf.Len()) {
				t.Errorf("WriteTo returned %d, wrote %d bytes", n, buf.Len())
			}
			if !bytes.Equal(buf.Bytes(), orig) {
				t.Fatalf("rewrite differs: %d bytes vs %d, first difference at offset %d", buf.Len(), len(orig), firstDiff(buf.Bytes(), orig))
			}
			// The mapped and the in-memory reader must agree.
			g, err := Parse(orig)
			if err != nil {
				t.Fatal(err)
			}
			assertSameFile(t, f, g)
			t.Logf("v%d, %d KVs, %d tensors, data at %d, %d bytes: identical", f.Version, len(f.KVs), len(f.Tensors), f.DataOffset, f.Size())
		})
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// assertSameFile fails unless f and g hold the same metadata, directory and
// tensor bytes.
func assertSameFile(t *testing.T, f, g *File) {
	t.Helper()
	if f.Version != g.Version || f.Alignment != g.Alignment || f.DataOffset != g.DataOffset {
		t.Fatalf("header (v%d, align %d, data %d) vs (v%d, align %d, data %d)",
			f.Version, f.Alignment, f.DataOffset, g.Version, g.Alignment, g.DataOffset)
	}
	if len(f.KVs) != len(g.KVs) || len(f.Tensors) != len(g.Tensors) {
		t.Fatalf("%d KVs, %d tensors vs %d KVs, %d tensors", len(f.KVs), len(f.Tensors), len(g.KVs), len(g.Tensors))
	}
	for i := range f.KVs {
		if f.KVs[i].Key != g.KVs[i].Key || !f.KVs[i].Value.Equal(g.KVs[i].Value) {
			t.Fatalf("KV %d: %s=%v vs %s=%v", i, f.KVs[i].Key, f.KVs[i].Value, g.KVs[i].Key, g.KVs[i].Value)
		}
	}
	for i := range f.Tensors {
		a, b := &f.Tensors[i], &g.Tensors[i]
		if a.Name != b.Name || a.Type != b.Type || a.Offset != b.Offset || a.Size != b.Size || !slicesEqual(a.Dims, b.Dims) {
			t.Fatalf("tensor %d: %+v vs %+v", i, *a, *b)
		}
		if !bytes.Equal(f.TensorData(a), g.TensorData(b)) {
			t.Fatalf("tensor %q: data differs", a.Name)
		}
	}
}

func slicesEqual(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestSharedFacts checks what the shared models' README states about them,
// through the typed getters.
func TestSharedFacts(t *testing.T) {
	root := sharedModels(t)
	open := func(rel string) *File {
		t.Helper()
		f, err := Open(filepath.Join(root, rel))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		return f
	}

	s := open("stories260K.gguf")
	if s.Architecture() != "llama" || s.KVs[0].Key == "general.architecture" {
		t.Errorf("stories260K: arch %q, first key %q; want llama, not first", s.Architecture(), s.KVs[0].Key)
	}
	if id, ok := s.GetUint("tokenizer.ggml.seperator_token_id"); !ok || id != 4294967295 {
		t.Errorf("seperator_token_id = %d, %v", id, ok)
	}
	if _, ok := s.GetFloat("llama.rope.freq_base"); ok {
		t.Error("stories260K has a rope.freq_base key")
	}
	toks, ok := s.GetStrings("tokenizer.ggml.tokens")
	scores, ok2 := s.GetFloat32s("tokenizer.ggml.scores")
	types, ok3 := s.GetInt32s("tokenizer.ggml.token_type")
	if !ok || !ok2 || !ok3 || len(toks) != 512 || len(scores) != 512 || len(types) != 512 {
		t.Errorf("vocab: %d tokens, %d scores, %d types", len(toks), len(scores), len(types))
	}
	if len(s.Tensors) != 48 {
		t.Errorf("stories260K: %d tensors", len(s.Tensors))
	}
	emb, ok := s.Tensor("token_embd.weight")
	out, ok2 := s.Tensor("output.weight")
	if !ok || !ok2 || emb.Type != ggml.F32 || !slicesEqual(emb.Dims, []int64{64, 512}) || emb.NumElements() != 64*512 {
		t.Fatalf("token_embd: %+v", emb)
	}
	if !bytes.Equal(s.TensorData(emb), s.TensorData(out)) {
		t.Error("stories260K: output.weight differs from token_embd.weight (llama2.c ties them)")
	}

	r := open("llama-2-tiny-random.gguf")
	if ff, ok := r.Tensor("blk.0.ffn_down.weight"); !ok || ff.Type != ggml.F16 || !slicesEqual(ff.Dims, []int64{32, 8}) || ff.Size != 32*8*2 {
		t.Errorf("llama-2-tiny-random ffn_down: %+v", ff)
	}

	for _, rel := range []string{"vocab/ggml-vocab-llama-spm.gguf", "vocab/ggml-vocab-gpt-2.gguf"} {
		v := open(rel)
		// Vocab-only: no tensors and no padding, the data section starts at EOF.
		if len(v.Tensors) != 0 || v.DataOffset != v.Size() {
			t.Errorf("%s: %d tensors, data at %d of %d bytes", rel, len(v.Tensors), v.DataOffset, v.Size())
		}
	}
	if merges, ok := open("vocab/ggml-vocab-gpt-2.gguf").GetStrings("tokenizer.ggml.merges"); !ok || len(merges) != 50000 {
		t.Errorf("gpt-2 merges: %d, %v", len(merges), ok)
	}

	q := open("derived/tiny-qwen3-random-Q4_K_M.gguf")
	if o, ok := q.Tensor("output.weight"); !ok || o.Type != ggml.Q6_K {
		t.Errorf("qwen3 Q4_K_M output.weight: %+v", o)
	}
	if a, ok := q.GetUint(AlignmentKey); !ok || a != 32 || q.Alignment != 32 {
		t.Errorf("qwen3 alignment KV %d, %v; File.Alignment %d", a, ok, q.Alignment)
	}
}
