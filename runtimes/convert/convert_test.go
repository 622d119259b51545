package convert

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/apr"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/gguf"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/runtimes/quant"
)

// shared returns ../shared (beside the directory holding go.mod).
func shared(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			s := filepath.Join(dir, "..", "shared")
			if _, err := os.Stat(filepath.Join(s, "models")); err != nil {
				t.Fatalf("shared test data missing: %v (the repository expects ../shared beside it)", err)
			}
			return s
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// sharedModels lists the shared GGUF models: the two upstream ones and
// every derived file (the legacy ones are GGUF v1 / misaligned Q8_0, which
// the reader refuses).
func sharedModels(t testing.TB) []string {
	models := filepath.Join(shared(t), "models")
	paths := []string{filepath.Join(models, "stories260K.gguf"), filepath.Join(models, "llama-2-tiny-random.gguf")}
	derived, _ := filepath.Glob(filepath.Join(models, "derived", "*.gguf"))
	if len(derived) < 8 {
		t.Fatalf("found %d derived models", len(derived))
	}
	return append(paths, derived...)
}

// convertTo converts src with opts into dir and returns the path written.
func convertTo(t testing.TB, src *gguf.File, opts Options, dir, name string) string {
	t.Helper()
	w, err := FromGGUF(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, name)
	if err := apr.WriteFile(out, w); err != nil {
		t.Fatal(err)
	}
	return out
}

// errStats accumulates the error of converted values against the GGUF's
// dequantized ones.
type errStats struct{ sse, ref float64 }

func (e *errStats) add(got, want []float32) {
	for i := range got {
		d := float64(got[i]) - float64(want[i])
		e.sse += d * d
		e.ref += float64(want[i]) * float64(want[i])
	}
}

func (e errStats) nmse() float64 { return e.sse / e.ref }

// TestConvertSharedModels converts every shared model in every mode that
// changes something and checks the file against its source: tensor bytes,
// values, names, shapes, metadata, configuration and tokenizer.
func TestConvertSharedModels(t *testing.T) {
	for _, path := range sharedModels(t) {
		base := filepath.Base(path)
		t.Run(base, func(t *testing.T) {
			src, err := gguf.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			modes := []Quantize{F32}
			for _, ti := range src.Tensors {
				if _, ok := apr.FromGGML(ti.Type); !ok {
					modes = Modes // something is converted: try every mode
					break
				}
			}
			for _, q := range modes {
				t.Run(string(q), func(t *testing.T) {
					checkConversion(t, src, Options{Quantize: q})
				})
			}
		})
	}
}

func checkConversion(t *testing.T, src *gguf.File, opts Options) {
	plans, err := Plan(src, opts)
	if err != nil {
		t.Fatal(err)
	}
	out := convertTo(t, src, opts, t.TempDir(), "m.apr")
	f, err := apr.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := model.OpenAPR(out) // runs the shared shape validation
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()

	cfg, err := model.ConfigFromGGUF(src)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w.Config, cfg) {
		t.Errorf("config from APR %+v\n      from GGUF %+v", *w.Config, *cfg)
	}
	if len(f.Tensors) != len(plans) {
		t.Errorf("%d tensors in the APR file, %d planned", len(f.Tensors), len(plans))
	}
	checkNames(t, src, cfg, f)

	var copied, converted int
	var st errStats
	for _, p := range plans {
		ti, ok := f.Tensor(p.Name)
		if !ok {
			t.Errorf("%s missing", p.Name)
			continue
		}
		gi, _ := src.Tensor(p.Source)
		want := slices.Clone(gi.Dims)
		if len(want) == 2 {
			want[0], want[1] = want[1], want[0]
		}
		if !slices.Equal(ti.Shape, want) || ti.DType != p.DType {
			t.Errorf("%s: %v %v, want %v %v", p.Name, ti.DType, ti.Shape, p.DType, want)
			continue
		}
		if p.Verbatim {
			copied++
			if !bytes.Equal(f.TensorData(ti), src.TensorData(gi)) {
				t.Errorf("%s: copied bytes differ from the GGUF's", p.Name)
			}
			continue
		}
		converted++
		ref := make([]float32, gi.NumElements())
		if err := quant.Dequantize(gi.Type, src.TensorData(gi), ref); err != nil {
			t.Fatal(err)
		}
		mt, _ := w.ByName(p.Name)
		got, err := decodeByRows(mt)
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		checkValues(t, p, got, ref)
		st.add(got, ref)
	}
	if converted > 0 {
		t.Logf("%d copied, %d converted (%v → %s), NMSE %.3g", copied, converted, convertedTypes(plans), opts.Quantize, st.nmse())
	} else {
		t.Logf("%d copied", copied)
	}
	checkRewrite(t, out)
	checkVocab(t, src, w)
}

// decodeByRows decodes a tensor three rows at a time, the way the engines
// read row blocks, so decoders are asked for ranges that start inside the
// payload (and, for APR-Q4, inside a block).
func decodeByRows(t *model.Tensor) ([]float32, error) {
	out := make([]float32, t.NumElements())
	for r := 0; r < t.Rows(); r += 3 {
		n := min(3, t.Rows()-r)
		if err := t.DequantizeRows(r, n, out[r*t.Cols():]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func convertedTypes(plans []TensorPlan) []string {
	var s []string
	for _, p := range plans {
		if name := p.SourceType.String(); !p.Verbatim && !slices.Contains(s, name) {
			s = append(s, name)
		}
	}
	return s
}

// checkValues compares a converted tensor with the GGUF's values. f32 and
// f16 are exact (f16 to the one rounding the conversion does); the
// APR-native codecs are held to their rounding bounds; Q4_K, whose error
// depends on its scale search, is held to an NMSE bound.
func checkValues(t *testing.T, p TensorPlan, got, ref []float32) {
	t.Helper()
	switch p.DType {
	case apr.F32:
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(ref[i]) {
				t.Errorf("%s[%d] = %v, want %v", p.Name, i, got[i], ref[i])
				return
			}
		}
	case apr.F16:
		for i := range got {
			if want := quant.FP16ToFP32(quant.FP32ToFP16(ref[i])); got[i] != want {
				t.Errorf("%s[%d] = %v, want %v (f16 of %v)", p.Name, i, got[i], want, ref[i])
				return
			}
		}
	case apr.APRQ8:
		// One scale s = max|x|/127; each value rounds to the nearest
		// multiple of s, so the error is at most s/2 (plus the f32
		// rounding of x/s and q·s).
		s := maxAbs(ref) / 127
		for i := range got {
			if e := math.Abs(float64(got[i] - ref[i])); e > float64(s)*0.5001 {
				t.Errorf("%s[%d] = %v, want %v ± %v", p.Name, i, got[i], ref[i], s/2)
				return
			}
		}
	case apr.APRQ4:
		// Per block of 32: quantized with s = max|x|/7 in f32, decoded
		// with s rounded to f16, so |err| ≤ s/2 + 8·|f16(s) − s|.
		for b := 0; b < len(ref); b += 32 {
			blk := ref[b:min(b+32, len(ref))]
			s := maxAbs(blk) / 7
			s16 := quant.FP16ToFP32(quant.FP32ToFP16(s))
			bound := float64(s)*0.5001 + 8*math.Abs(float64(s16-s))
			for i := range blk {
				if e := math.Abs(float64(got[b+i] - blk[i])); e > bound {
					t.Errorf("%s[%d] = %v, want %v ± %v", p.Name, b+i, got[b+i], blk[i], bound)
					return
				}
			}
		}
	case apr.Q4_K:
		// Q4_K spends 4.5 bits per weight; on the shared models'
		// Gaussian-like weights llama.cpp's quantizer stays near 0.6% NMSE
		// per tensor, rows zero-padded from 64 to 256 values included. A
		// wrong row padding or a misplaced block is off by orders of
		// magnitude, so 2% separates the two.
		var e errStats
		e.add(got, ref)
		if e.nmse() > 0.02 {
			t.Errorf("%s: Q4_K NMSE %.3g", p.Name, e.nmse())
		}
	default:
		t.Errorf("%s: unexpected dtype %v", p.Name, p.DType)
	}
}

func maxAbs(xs []float32) float32 {
	var m float32
	for _, x := range xs {
		m = max(m, float32(math.Abs(float64(x))))
	}
	if m == 0 {
		return 1
	}
	return m
}

// checkNames applies §9: qwen names become HF names wherever a role
// matches, llama names stay GGUF names, and a tied model gains
// lm_head.weight, a byte copy of the embedding.
func checkNames(t *testing.T, src *gguf.File, cfg *model.Config, f *apr.File) {
	t.Helper()
	hf := cfg.Arch.Name == "qwen2" || cfg.Arch.Name == "qwen3"
	for _, ti := range f.Tensors {
		r, l, ok := model.ParseName(ti.Name)
		if !ok {
			t.Errorf("unexpected tensor %s", ti.Name)
			continue
		}
		want := r.GGUFName(l)
		if hf || (r == model.Output && cfg.TiedEmbeddings) {
			want = r.HFName(l)
		}
		if ti.Name != want {
			t.Errorf("tensor %s, want the name %s", ti.Name, want)
		}
	}
	var tied bool
	if _, err := f.Metadata.Custom("tied_embeddings", &tied); err != nil || tied != cfg.TiedEmbeddings {
		t.Errorf("tied_embeddings = %v (%v), want %v", tied, err, cfg.TiedEmbeddings)
	}
	if cfg.TiedEmbeddings {
		head, ok := f.Tensor("lm_head.weight")
		emb, _ := f.Tensor(model.TokenEmbd.HFName(-1))
		if !hf {
			emb, _ = f.Tensor(model.TokenEmbd.GGUFName(-1))
		}
		if !ok || emb == nil || !bytes.Equal(f.TensorData(head), f.TensorData(emb)) || head.DType != emb.DType {
			t.Error("tied model: lm_head.weight is not a copy of the embedding")
		}
	}
}

// checkRewrite reads the file and writes it again from what was read: the
// bytes must not change.
func checkRewrite(t *testing.T, path string) {
	t.Helper()
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f, err := apr.Parse(orig)
	if err != nil {
		t.Fatal(err)
	}
	w := apr.NewWriter(f.Metadata)
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		w.AddTensor(ti.Name, ti.DType, ti.Shape, f.TensorData(ti))
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), orig) {
		t.Errorf("rewritten file differs (%d vs %d bytes)", buf.Len(), len(orig))
	}
}

// checkVocab compares the whole vocabulary read back from the APR file with
// the GGUF's: every token, score, type, merge, id and flag.
func checkVocab(t *testing.T, src *gguf.File, w *model.Weights) {
	t.Helper()
	want, err := model.VocabFromGGUF(src)
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.Vocab()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("vocabulary from APR differs: model %q/%q bos %d eos %d unk %d pad %d add %v/%v/%v special %v name %q arch %q\n"+
			"                        from GGUF: model %q/%q bos %d eos %d unk %d pad %d add %v/%v/%v special %v name %q arch %q",
			got.Model, got.Pre, got.BOS, got.EOS, got.UNK, got.PAD, got.AddBOS, got.AddEOS, got.AddSpacePrefix, got.SpecialIDs, got.Name, got.Arch,
			want.Model, want.Pre, want.BOS, want.EOS, want.UNK, want.PAD, want.AddBOS, want.AddEOS, want.AddSpacePrefix, want.SpecialIDs, want.Name, want.Arch)
	}
}

// TestTokenizerVectors encodes llama.cpp's test vectors with the tokenizer
// rebuilt from converted files: the ids must be llama.cpp's.
func TestTokenizerVectors(t *testing.T) {
	models := filepath.Join(shared(t), "models")
	for _, vf := range []struct{ model, vectors string }{
		{"stories260K.gguf", "vocab/stories260K-spm"},
		{"derived/tiny-qwen2-bpe-f32.gguf", "vocab/tiny-qwen2-bpe"},
	} {
		t.Run(vf.model, func(t *testing.T) {
			src, err := gguf.Open(filepath.Join(models, vf.model))
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			w, err := model.OpenAPR(convertTo(t, src, Options{}, t.TempDir(), "m.apr"))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			tk, err := w.Tokenizer()
			if err != nil {
				t.Fatal(err)
			}
			inputs, want := readVectors(t, filepath.Join(models, vf.vectors+".inp"), filepath.Join(models, vf.vectors+".out"))
			for i, in := range inputs {
				got, err := tk.Encode(in, false, false)
				if err != nil || !slices.Equal(got, want[i]) {
					t.Errorf("input %d %q: %v %v, want %v", i, in, got, err, want[i])
				}
			}
			t.Logf("%d vectors", len(inputs))
		})
	}
}

// readVectors reads llama.cpp's test-tokenizer-0 format: inputs separated by
// "\n__ggml_vocab_test__\n", one line of ids per input.
func readVectors(t *testing.T, inp, out string) ([]string, [][]int32) {
	t.Helper()
	raw, err := os.ReadFile(inp)
	if err != nil {
		t.Fatal(err)
	}
	inputs := strings.Split(string(raw), "\n__ggml_vocab_test__\n")
	if inputs[len(inputs)-1] == "" {
		inputs = inputs[:len(inputs)-1]
	}
	lines, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var ids [][]int32
	for _, line := range strings.Split(strings.TrimSuffix(string(lines), "\n"), "\n") {
		var row []int32
		for _, w := range strings.Fields(line) {
			var n int32
			for _, c := range w {
				n = 10*n + int32(c-'0')
			}
			row = append(row, n)
		}
		ids = append(ids, row)
	}
	if len(inputs) != len(ids) {
		t.Fatalf("%d inputs, %d id lines", len(inputs), len(ids))
	}
	return inputs, ids
}

// TestPaddedQ4KRows checks the q4k encoding of rows that are not whole
// super-blocks against quantizing each zero-padded row directly.
func TestPaddedQ4KRows(t *testing.T) {
	const rows, cols = 3, 300
	vals := make([]float32, rows*cols)
	for i := range vals {
		vals[i] = float32(math.Sin(float64(i)*0.37)) * float32(1+i%7)
	}
	got, err := paddedQ4K(vals, cols)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := apr.PayloadSize(apr.Q4_K, []int64{rows, cols}); int64(len(got)) != want {
		t.Fatalf("%d bytes, want %d", len(got), want)
	}
	for r := range rows {
		row := make([]float32, 512)
		copy(row, vals[r*cols:(r+1)*cols])
		want := make([]byte, 2*ggml.Q4_K.TypeSize())
		if err := quant.Quantize(ggml.Q4_K, row, want); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[r*len(want):(r+1)*len(want)], want) {
			t.Errorf("row %d differs", r)
		}
	}
}

func TestKeepF32(t *testing.T) {
	for _, tc := range []struct {
		name string
		n    int64
		keep bool
	}{
		{"model.layers.0.input_layernorm.weight", 4096, true},
		{"model.layers.0.self_attn.q_proj.bias", 4096, true},
		{"model.norm.weight", 4096, true},
		{"blk.0.attn_norm.weight", 4096, true},
		{"model.layers.0.self_attn.k_norm.weight", 4096, true},
		{"model.layers.0.self_attn.q_proj.weight", 1023, true},
		{"model.layers.0.self_attn.q_proj.weight", 1024, false},
		{"model.embed_tokens.weight", 1 << 20, false},
		{"lm_head.weight", 1 << 20, false},
	} {
		if got := keepF32(tc.name, tc.n); got != tc.keep {
			t.Errorf("keepF32(%s, %d) = %v", tc.name, tc.n, got)
		}
	}
	if got := targetDType("model.norm.weight", 10, F16); got != apr.F16 {
		t.Errorf("f16 mode writes a norm as %v; aprender converts every tensor", got)
	}
}

func TestParseQuantize(t *testing.T) {
	for in, want := range map[string]Quantize{"": F32, "f32": F32, "F16": F16, "q4k": Q4K, "apr-q8": APRQ8, "apr-q4": APRQ4} {
		if got, err := ParseQuantize(in); err != nil || got != want {
			t.Errorf("ParseQuantize(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseQuantize("q8_0"); err == nil || !strings.Contains(err.Error(), "apr-q4") {
		t.Errorf("ParseQuantize(q8_0): %v", err)
	}
}

// TestConvertDeterministic converts the same model twice: the files must
// be identical.
func TestConvertDeterministic(t *testing.T) {
	src, err := gguf.Open(filepath.Join(shared(t), "models", "derived", "stories260K-Q8_0.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dir := t.TempDir()
	a, _ := os.ReadFile(convertTo(t, src, Options{Quantize: APRQ4}, dir, "a.apr"))
	b, _ := os.ReadFile(convertTo(t, src, Options{Quantize: APRQ4}, dir, "b.apr"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Errorf("two conversions differ (%d and %d bytes)", len(a), len(b))
	}
	if binary.LittleEndian.Uint16(a[6:]) != uint16(apr.FlagRowMajor) {
		t.Errorf("flags %#x", a[6:8])
	}
}
