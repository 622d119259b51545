package main

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/gguf"
)

// rewrite copies the GGUF model src to a new file in dir, with kv
// replacing the values of the keys it names and tensor deciding each
// tensor: false drops it, and it may change the name, dims and data it is
// given.
func rewrite(t *testing.T, src, dir, name string, kv map[string]gguf.Value,
	tensor func(name *string, dims *[]int64, data *[]byte) bool) string {
	t.Helper()
	f, err := gguf.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := gguf.NewWriter(f.Version)
	for _, e := range f.KVs {
		if v, ok := kv[e.Key]; ok {
			e.Value = v
		}
		w.AddKV(e.Key, e.Value)
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		n, dims, data := ti.Name, append([]int64(nil), ti.Dims...), bytes.Clone(f.TensorData(ti))
		if tensor == nil || tensor(&n, &dims, &data) {
			w.AddTensor(n, ti.Type, dims, data)
		}
	}
	path := filepath.Join(dir, name)
	if err := gguf.WriteFile(path, w); err != nil {
		t.Fatal(err)
	}
	return path
}

// ids returns n comma-separated copies of id.
func ids(id string, n int) string { return strings.TrimSuffix(strings.Repeat(id+",", n), ",") }

// TestBadInputs runs the commands on inputs parity must refuse: each
// ends with exit status 3 and a message naming the problem, never a panic
// or a run over something else.
func TestBadInputs(t *testing.T) {
	m := shared(t, "models/stories260K.gguf") // llama, 5 layers, 512 ids, context 2048
	dir := t.TempDir()
	mamba := rewrite(t, m, dir, "mamba.gguf", map[string]gguf.Value{"general.architecture": gguf.String("mamba")}, nil)
	missing := rewrite(t, m, dir, "missing.gguf", nil, func(n *string, _ *[]int64, _ *[]byte) bool { return *n != "blk.3.ffn_up.weight" })
	reshaped := rewrite(t, m, dir, "reshaped.gguf", nil, func(n *string, dims *[]int64, _ *[]byte) bool {
		if *n == "blk.0.attn_q.weight" {
			*dims = []int64{32, 128}
		}
		return true
	})
	ff := rewrite(t, m, dir, "ff.gguf", map[string]gguf.Value{"llama.feed_forward_length": gguf.Uint32(256)}, nil)
	text := filepath.Join(dir, "notes.gguf")
	os.WriteFile(text, []byte("these are not weights\n"), 0o644)
	full, _ := os.ReadFile(m)
	half := filepath.Join(dir, "half.gguf")
	os.WriteFile(half, full[:len(full)/2], 0o644)
	empty := filepath.Join(dir, "empty.gguf")
	os.WriteFile(empty, nil, 0o644)

	for _, tc := range []struct {
		name string
		args []string
		msg  string
	}{
		{"id past the vocabulary", []string{"run", "--model", m, "--tokens", "1,512"}, "token id outside the vocabulary: id 512 at prompt position 1; the model's ids are 0..511"},
		{"id past int32", []string{"run", "--model", m, "--tokens", "1,2147483648"}, "bad token id"},
		{"negative id", []string{"trace", "-m", m, "--tokens", "1,-5", "-o", filepath.Join(dir, "x.trace.jsonl.zst")}, "bad token id"},
		{"id past the vocabulary, bisect", []string{"bisect", "--a", m, "--b", m, "--tokens", "1,600"}, "outside the vocabulary"},
		{"prompt past the context", []string{"run", "--model", m, "--tokens", ids("1", 2049)}, "longer than the model's context: the prompt has 2049 tokens, the model's context is 2048"},
		{"decode past the context", []string{"trace", "-m", m, "--tokens", ids("1", 2000), "-n", "49", "-o", filepath.Join(dir, "x.trace.jsonl.zst")}, "2000 prompt tokens and 49 decode steps need 2049 positions"},
		{"decode past the context, no EOS", []string{"run", "--model", m, "--tokens", "1", "-n", "2049", "--ignore-eos"}, "1 prompt tokens and 2048 decode steps"},
		{"empty prompt", []string{"run", "--model", m, "--prompt", ""}, "give --prompt TEXT or --tokens IDS"},
		{"empty token list", []string{"run", "--model", m, "--tokens", " , "}, "--tokens is empty"},
		{"unknown architecture", []string{"run", "--model", mamba, "--tokens", "1"}, `unsupported architecture "mamba"`},
		{"missing tensor", []string{"trace", "-m", missing, "--tokens", "1", "-o", filepath.Join(dir, "x.trace.jsonl.zst")}, "missing tensor blk.3.ffn_up.weight"},
		{"tensor shape", []string{"run", "--model", reshaped, "--tokens", "1"}, "blk.0.attn_q.weight has shape [32 128], the configuration implies [64 64]"},
		{"metadata shape", []string{"run", "--model", ff, "--tokens", "1", "--engine", "apr"}, "tensor shape does not match the metadata: blk.0.ffn_gate.weight"},
		{"not a model", []string{"run", "--model", text, "--tokens", "1"}, "unknown file format"},
		{"truncated model", []string{"bisect", "--a", half, "--b", m, "--tokens", "1"}, "extends past the end of the file"},
		{"empty file", []string{"inspect", empty}, "too short"},
		{"unknown engine", []string{"run", "--model", m, "--tokens", "1", "--engine", "onnx"}, "unknown engine"},
	} {
		stdout, stderr, code := parity(t, tc.args...)
		if code != exitUsageIO || !strings.Contains(stderr, tc.msg) {
			t.Errorf("%s: exit %d\n%s%s\nwant exit 3 and %q", tc.name, code, stdout, stderr, tc.msg)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "x.trace.jsonl.zst")); err == nil {
		t.Error("a refused trace wrote its file")
	}
}

// TestNaNWeights: a NaN in a weight is not an error but a finding. The
// engines run it, the trace counts the NaN values in its statistics, and
// bisect against the clean model reports the divergence at the first
// tensor the NaN reaches (exit 1) rather than passing it or crashing.
func TestNaNWeights(t *testing.T) {
	m := shared(t, "models/stories260K.gguf")
	dir := t.TempDir()
	nan := rewrite(t, m, dir, "nan.gguf", nil, func(n *string, _ *[]int64, data *[]byte) bool {
		if *n == "blk.2.attn_norm.weight" {
			binary.LittleEndian.PutUint32((*data)[4*5:], math.Float32bits(float32(math.NaN())))
		}
		if *n == "blk.2.ffn_norm.weight" {
			binary.LittleEndian.PutUint32((*data)[4*7:], math.Float32bits(float32(math.Inf(1))))
		}
		return true
	})
	out := filepath.Join(dir, "nan.trace.jsonl.zst")
	for _, engine := range []string{"gguf", "apr"} {
		if _, stderr, code := parity(t, "trace", "-m", nan, "--engine", engine, "-p", "Once upon a time", "-n", "2", "-o", out); code != 0 {
			t.Fatalf("%s engine on a NaN weight: exit %d: %s", engine, code, stderr)
		}
		tr, err := probes.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var nans int64
		for _, r := range tr.Records {
			if r.Layer >= 0 && r.Layer < 2 && r.Stats.NaN+r.Stats.Inf > 0 {
				t.Errorf("%s: %v holds NaN or Inf before the faulty layer", engine, r.Key())
			}
			if r.Layer == 2 && r.Slot == probes.AttnNorm && r.Stats.NaN == 0 {
				t.Errorf("%s: %v counts no NaN", engine, r.Key())
			}
			nans += r.Stats.NaN
		}
		if nans == 0 {
			t.Errorf("%s: no record counts a NaN", engine)
		}
	}
	stdout, stderr, code := parity(t, "--color", "never", "bisect", "--a", m, "--b", nan, "--a-engine", "gguf", "-p", "Once upon a time", "--profile", "exact")
	if code != exitDivergence || !strings.Contains(stdout, "first divergence: step 0 layer 2 attn_norm: non-finite values differ: A has 0 NaN/Inf, B 5") {
		t.Errorf("bisect against the NaN model: exit %d\n%s%s", code, stdout, stderr)
	}
}
