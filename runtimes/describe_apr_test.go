package runtimes

import (
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/apr"
	"github.com/layerwise/parity/runtimes/convert"
)

func TestDescribeAPR(t *testing.T) {
	src := filepath.Join("..", "..", "shared", "models", "derived", "stories260K-Q8_0.gguf")
	out := filepath.Join(t.TempDir(), "s.apr")
	if err := convert.ConvertFile(src, out, convert.Options{Quantize: convert.APRQ8}); err != nil {
		t.Fatal(err)
	}
	want, err := Describe(src, false)
	if err != nil {
		t.Fatal(err)
	}
	d, err := Describe(out, true)
	if err != nil {
		t.Fatal(err)
	}
	if d.Format != FormatAPR || d.Version != "2.0" || len(d.Problems) > 0 || !reflect.DeepEqual(d.Config, want.Config) {
		t.Errorf("format %s v%s, problems %v, config %+v", d.Format, d.Version, d.Problems, d.Config)
	}
	summary := map[string]string{}
	for _, f := range d.Summary {
		summary[f.Key] = f.Value
	}
	for k, v := range map[string]string{"architecture": "llama", "flags": "row_major", "tokenizer": "llama",
		"tokenizer vocab": "512", "bos": "1", "tensors": "48 (APR_Q8×32, F32×11, F16×5)"} {
		if summary[k] != v {
			t.Errorf("summary %s = %q, want %q", k, summary[k], v)
		}
	}
	i := slices.IndexFunc(d.Tensors, func(r TensorRow) bool { return r.Name == "blk.0.attn_k.weight" })
	if i < 0 || !slices.Equal(d.Tensors[i].Shape, []int64{32, 64}) || d.Tensors[i].DType != "APR_Q8" {
		t.Errorf("attn_k row %+v", d.Tensors[max(i, 0)])
	}
	var vocab string
	for _, kv := range d.KV {
		if kv.Key == "tokenizer.vocabulary" {
			vocab = kv.Value
		}
	}
	if !strings.HasPrefix(vocab, `[512 values: "<unk>", "<s>", "</s>"`) {
		t.Errorf("tokenizer.vocabulary listed as %q", vocab)
	}
	if d.KV[0].Key != "model_type" {
		t.Errorf("first key %q, want model_type (file order)", d.KV[0].Key)
	}

	// A rope_type that contradicts the architecture is reported.
	f, err := apr.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	md := f.Metadata
	neox := uint32(2)
	md.RopeType = &neox
	w := apr.NewWriter(md)
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		w.AddTensor(ti.Name, ti.DType, ti.Shape, f.TensorData(ti))
	}
	bad := filepath.Join(t.TempDir(), "bad.apr")
	err = apr.WriteFile(bad, w)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if d, err = Describe(bad, false); err != nil || len(d.Problems) != 1 || !strings.Contains(d.Problems[0], "rope_type 2") {
		t.Errorf("problems %v, %v", d.Problems, err)
	}
}
