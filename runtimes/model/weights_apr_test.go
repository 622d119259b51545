package model

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/layerwise/parity/runtimes/apr"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/gguf"
	"github.com/layerwise/parity/runtimes/quant"
	"github.com/layerwise/parity/runtimes/tokenizer"
)

// parseAPR writes md and the tensors added by add, and parses the result.
func parseAPR(t *testing.T, md apr.Metadata, add func(w *apr.Writer)) *apr.File {
	t.Helper()
	w := apr.NewWriter(md)
	if add != nil {
		add(w)
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	f, err := apr.Parse(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func wave(n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(math.Sin(float64(i)*0.61)) * float32(1+i%5)
	}
	return v
}

// TestPaddedRowsRanges decodes K-quant tensors whose rows aprender padded to
// whole super-blocks, over element ranges that start and end inside rows.
func TestPaddedRowsRanges(t *testing.T) {
	for _, typ := range []ggml.Type{ggml.Q4_K, ggml.Q6_K} {
		for _, cols := range []int64{64, 300} {
			const rows = 3
			padded := (cols + 255) / 256 * 256
			rowBytes := padded / 256 * int64(typ.TypeSize())
			vals := wave(int(rows * cols))
			data := make([]byte, rows*rowBytes)
			want := make([]float32, 0, rows*cols)
			for r := range int64(rows) {
				row := make([]float32, padded)
				copy(row, vals[r*cols:(r+1)*cols])
				blk := data[r*rowBytes : (r+1)*rowBytes]
				if err := quant.Quantize(typ, row, blk); err != nil {
					t.Fatal(err)
				}
				if err := quant.Dequantize(typ, blk, row); err != nil {
					t.Fatal(err)
				}
				want = append(want, row[:cols]...)
			}
			dt, _ := apr.FromGGML(typ)
			tn := tensorFromAPR(&apr.TensorInfo{Name: "w", DType: dt, Shape: []int64{rows, cols}, Size: int64(len(data))}, data)
			if tn.GGMLRows() || tn.Storage == "" || tn.Cols() != int(cols) || tn.Rows() != rows {
				t.Fatalf("%v×%d: GGMLRows %v, storage %q, %d×%d", typ, cols, tn.GGMLRows(), tn.Storage, tn.Rows(), tn.Cols())
			}
			n := rows * cols
			for _, r := range [][2]int64{{0, n}, {1, 5}, {cols - 3, 7}, {cols + 10, cols}, {n - 1, 1}, {5, 2*cols + 1}} {
				got := make([]float32, r[1])
				if err := tn.dequant(r[0], got); err != nil {
					t.Fatalf("%v×%d [%d,+%d): %v", typ, cols, r[0], r[1], err)
				}
				if !slices.Equal(got, want[r[0]:r[0]+r[1]]) {
					t.Errorf("%v×%d [%d,+%d) decodes differently", typ, cols, r[0], r[1])
				}
			}
			if err := tn.dequant(n-1, make([]float32, 2)); err == nil {
				t.Errorf("%v×%d: a range past the end decoded", typ, cols)
			}
		}
	}
}

// TestTensorFromAPR checks shapes (2-D reversed to ggml order, others kept),
// zero-copy ggml payloads, and APR-Q4 row reads whose blocks straddle rows.
func TestTensorFromAPR(t *testing.T) {
	f32 := make([]byte, 4*6*4)
	tn := tensorFromAPR(&apr.TensorInfo{Name: "m", DType: apr.F32, Shape: []int64{6, 4}, Size: int64(len(f32))}, f32)
	if !slices.Equal(tn.Shape, []int64{4, 6}) || tn.Rows() != 6 || tn.Cols() != 4 || !tn.GGMLRows() || &tn.Data[0] != &f32[0] {
		t.Errorf("2-D F32: shape %v, GGMLRows %v", tn.Shape, tn.GGMLRows())
	}
	for _, shape := range [][]int64{{24}, {2, 3, 4}} {
		if tn := tensorFromAPR(&apr.TensorInfo{DType: apr.F32, Shape: shape}, f32); !slices.Equal(tn.Shape, shape) {
			t.Errorf("shape %v became %v", shape, tn.Shape)
		}
	}
	const rows, cols = 5, 40 // 200 elements: APR-Q4 blocks of 32 straddle rows
	vals := wave(rows * cols)
	for _, dt := range []apr.DType{apr.APRQ4, apr.APRQ8} {
		var data []byte
		if dt == apr.APRQ4 {
			data = apr.QuantizeAPRQ4(vals)
		} else {
			data = apr.QuantizeAPRQ8(vals)
		}
		want := make([]float32, len(vals))
		if err := apr.DequantizeRow(dt, data, 0, want); err != nil {
			t.Fatal(err)
		}
		tn := tensorFromAPR(&apr.TensorInfo{Name: "q", DType: dt, Shape: []int64{rows, cols}, Size: int64(len(data))}, data)
		if tn.GGMLRows() || tn.Type != ggml.F32 || tn.Storage != dt.String() {
			t.Errorf("%v: GGMLRows %v, type %v, storage %q", dt, tn.GGMLRows(), tn.Type, tn.Storage)
		}
		got := make([]float32, 2*cols)
		if err := tn.DequantizeRows(1, 2, got); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want[cols:3*cols]) {
			t.Errorf("%v: rows 1..2 decode differently", dt)
		}
	}
}

func intp(v int) *int { return &v }

func TestConfigFromAPRFallbacks(t *testing.T) {
	arch := "Qwen2"
	md := apr.Metadata{Architecture: &arch, HiddenSize: intp(64), NumLayers: intp(2), NumHeads: intp(4), IntermediateSize: intp(128)}
	f := parseAPR(t, md, func(w *apr.Writer) {
		w.AddTensor("model.embed_tokens.weight", apr.F32, []int64{300, 64}, make([]byte, 4*300*64))
	})
	c, err := ConfigFromAPR(f)
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Arch: archs["qwen2"], NEmbd: 64, NLayer: 2, NHead: 4, NHeadKV: 4, HeadDim: 16, HeadDimV: 16, NFF: 128,
		NVocab: 300, RopeBase: 1e6, RopeScale: 1, RopeDim: 16, RMSEps: 1e-6, TiedEmbeddings: true}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("config %+v\n  want %+v", *c, want)
	}

	// llama: realizar's 1e4 base; an explicit rope_type that disagrees with
	// the architecture does not change the pairing; tied_embeddings wins
	// over a present lm_head.
	md = apr.Metadata{ModelType: "llama", HiddenSize: intp(64), NumLayers: intp(2), NumHeads: intp(4), IntermediateSize: intp(128),
		VocabSize: intp(10), HeadDim: intp(8), NumKVHeads: intp(2), RopeType: new(uint32)}
	*md.RopeType = 2
	if err := md.SetCustom("tied_embeddings", true); err != nil {
		t.Fatal(err)
	}
	f = parseAPR(t, md, func(w *apr.Writer) { w.AddTensor("lm_head.weight", apr.F32, []int64{1}, make([]byte, 4)) })
	if c, err = ConfigFromAPR(f); err != nil {
		t.Fatal(err)
	}
	if c.Arch.Rope != RopeNorm || c.RopeBase != 1e4 || c.HeadDim != 8 || c.NHeadKV != 2 || c.NVocab != 10 || !c.TiedEmbeddings {
		t.Errorf("llama config %+v", *c)
	}

	md = apr.Metadata{ModelType: "llama", HiddenSize: intp(64), NumLayers: intp(2), IntermediateSize: intp(128)}
	if _, err := ConfigFromAPR(parseAPR(t, md, nil)); err == nil {
		t.Error("missing num_heads accepted")
	}
	if _, err := ConfigFromAPR(parseAPR(t, apr.Metadata{ModelType: "linear_regression"}, nil)); !errors.Is(err, ErrUnsupportedArch) {
		t.Errorf("unsupported architecture: %v", err)
	}
}

// roundTripVocab copies the GGUF tokenizer into APR metadata and reads it
// back.
func roundTripVocab(t *testing.T, g *gguf.File) (*tokenizer.Vocab, error) {
	t.Helper()
	var md apr.Metadata
	if err := TokenizerToAPR(g, &md); err != nil {
		return nil, err
	}
	if name, ok := g.GetString("general.name"); ok {
		md.Name = &name
	}
	if a := g.Architecture(); a != "" {
		md.Architecture = &a
	}
	return VocabFromAPR(parseAPR(t, md, nil))
}

// TestVocabAPRKeys carries the keys aprender leaves out (UNK, EOT, the FIM
// ids, add_eos_token, add_space_prefix) and llama.cpp's id rules: an id
// outside the vocabulary keeps the default, a later deprecated key
// overrides an earlier one.
func TestVocabAPRKeys(t *testing.T) {
	tokens := []string{"<unk>", "<s>", "</s>", "a", "b", "<eot>", "<pre>", "<suf>"}
	kvs := []gguf.KV{
		{Key: "general.architecture", Value: gguf.String("llama")},
		{Key: "general.name", Value: gguf.String("Phi-3 mini")},
		{Key: "tokenizer.ggml.model", Value: gguf.String("llama")},
		{Key: "tokenizer.ggml.tokens", Value: gguf.StringArray(tokens)},
		{Key: "tokenizer.ggml.scores", Value: gguf.Int32Array([]int32{0, 0, 0, -1, -2, 0, 0, 0})},
		{Key: "tokenizer.ggml.token_type", Value: gguf.Int32Array([]int32{2, 3, 3, 1, 1, 4, 4, 4})},
		{Key: "tokenizer.ggml.unknown_token_id", Value: gguf.Uint32(4)},
		{Key: "tokenizer.ggml.eos_token_id", Value: gguf.Uint32(4294967295)},
		{Key: "tokenizer.ggml.eot_token_id", Value: gguf.Uint32(5)},
		{Key: "tokenizer.ggml.fim_pre_token_id", Value: gguf.Uint32(7)},
		{Key: "tokenizer.ggml.prefix_token_id", Value: gguf.Uint32(6)},
		{Key: "tokenizer.ggml.add_eos_token", Value: gguf.Bool(true)},
		{Key: "tokenizer.ggml.add_space_prefix", Value: gguf.Bool(false)},
	}
	g := vocabGGUF(t, kvs...)
	want, err := VocabFromGGUF(g)
	if err != nil {
		t.Fatal(err)
	}
	got, err := roundTripVocab(t, g)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("APR vocab %+v\n    GGUF vocab %+v", *got, *want)
	}
	if got.UNK != 4 || got.EOS != 2 || got.SpecialIDs["fim_pre"] != 6 || got.SpecialIDs["eot"] != 5 || !got.AddEOS || got.AddSpacePrefix {
		t.Errorf("keys not honoured: %+v", *got)
	}

	for _, bad := range []gguf.KV{
		{Key: "tokenizer.ggml.bos_token_id", Value: gguf.Int32(1)},
		{Key: "tokenizer.ggml.add_bos_token", Value: gguf.Uint8(1)},
		{Key: "tokenizer.ggml.token_type", Value: gguf.Uint32Array(make([]uint32, len(tokens)))},
	} {
		if _, err := roundTripVocab(t, vocabGGUF(t, append(slices.Clone(kvs[:4]), bad)...)); err == nil {
			t.Errorf("%s of type %v was copied", bad.Key, bad.Value.Type())
		}
	}
	bin := vocabGGUF(t, kv("tokenizer.ggml.model", gguf.String("llama")),
		kv("tokenizer.ggml.tokens", gguf.StringArray([]string{"a", "\xff"})))
	if _, err := roundTripVocab(t, bin); err == nil {
		t.Error("a token that is not UTF-8 was copied into JSON")
	}
}

// TestVocabFromAPRErrors covers files aprender did not write: keys with the
// wrong JSON type, short arrays, no tokenizer.
func TestVocabFromAPRErrors(t *testing.T) {
	base := func() apr.Metadata {
		var md apr.Metadata
		if err := md.SetTokenizer(&apr.Tokenizer{Model: "llama", Vocabulary: []string{"<unk>", "<s>", "</s>"}}); err != nil {
			t.Fatal(err)
		}
		return md
	}
	if v, err := VocabFromAPR(parseAPR(t, base(), nil)); err != nil || v.BOS != 1 || v.EOS != 2 || !v.AddBOS {
		t.Fatalf("minimal tokenizer: %+v, %v", v, err)
	}
	for key, val := range map[string]any{
		"tokenizer.unknown_token_id": "zero",
		"tokenizer.add_eos_token":    1,
		"tokenizer.scores":           []float32{0},
		"tokenizer.token_type":       []int32{1, 1},
		"tokenizer.model":            "wordpiece",
	} {
		md := base()
		if err := md.SetCustom(key, val); err != nil {
			t.Fatal(err)
		}
		if _, err := VocabFromAPR(parseAPR(t, md, nil)); err == nil {
			t.Errorf("%s = %v accepted", key, val)
		}
	}
	if _, err := VocabFromAPR(parseAPR(t, apr.Metadata{ModelType: "llama"}, nil)); err == nil {
		t.Error("a file without a tokenizer gave a vocabulary")
	}
}
