package convert_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/convert"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/gguf"
	"github.com/layerwise/parity/runtimes/model"
)

// parse builds a fixture and parses it in memory, after adding extra KVs.
func parse(t *testing.T, s fixtures.Spec, extra ...gguf.KV) *gguf.File {
	t.Helper()
	w, err := fixtures.Build(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range extra {
		w.AddKV(kv.Key, kv.Value)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// TestConvertSyntheticTypes runs the shared-model checks on synthetic models
// of the weight types the shared files lack: the legacy and K-quants that
// must be dequantized, BF16 and Q6_K that are copied, for a tied llama
// (GGUF names plus a synthesised lm_head.weight) and an untied qwen3. Every
// quantize mode runs on one legacy type (64-wide rows, so q4k pads them)
// and one K-quant; the others check the exact f32 path.
func TestConvertSyntheticTypes(t *testing.T) {
	for _, typ := range []ggml.Type{ggml.Q4_0, ggml.Q4_1, ggml.Q5_0, ggml.Q5_1, ggml.Q2_K, ggml.Q3_K, ggml.Q5_K, ggml.IQ4_NL, ggml.BF16, ggml.Q6_K} {
		for _, arch := range []string{"llama", "qwen3"} {
			s := fixtures.Default(arch, typ)
			s.Tied = arch == "llama"
			t.Run(arch+"-"+typ.String(), func(t *testing.T) {
				src := parse(t, s)
				modes := []convert.Quantize{convert.F32}
				if (arch == "llama" && typ == ggml.Q4_0) || (arch == "qwen3" && typ == ggml.Q5_K) {
					modes = convert.Modes
				}
				for _, q := range modes {
					t.Run(string(q), func(t *testing.T) { convert.CheckConversion(t, src, convert.Options{Quantize: q}) })
				}
			})
		}
	}
}

func TestConvertRefuses(t *testing.T) {
	s := fixtures.Default("llama", ggml.F32)
	for _, tc := range []struct {
		name  string
		extra []gguf.KV
		want  string
	}{
		{"rope scaling", []gguf.KV{{Key: "llama.rope.scaling.factor", Value: gguf.Float32(4)}}, "rope scale 0.25"},
		{"partial rope", []gguf.KV{{Key: "llama.rope.dimension_count", Value: gguf.Uint32(8)}}, "over 8 of 16"},
	} {
		if _, err := convert.FromGGUF(parse(t, s, tc.extra...), convert.Options{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := convert.FromGGUF(parse(t, s), convert.Options{Quantize: "q8"}); err == nil {
		t.Error("unknown quantize mode accepted")
	}
	w, _ := fixtures.Build(s)
	var buf bytes.Buffer
	w.WriteTo(&buf)
	// An architecture the engines do not run is refused by name.
	data := bytes.Replace(buf.Bytes(), []byte("\x05\x00\x00\x00\x00\x00\x00\x00llama"), []byte("\x05\x00\x00\x00\x00\x00\x00\x00gemma"), 1)
	f, err := gguf.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := convert.FromGGUF(f, convert.Options{}); !errors.Is(err, model.ErrUnsupportedArch) {
		t.Errorf("gemma: %v", err)
	}
}
