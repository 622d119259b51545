package diag

import (
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/convert"
	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/gguf"
	"github.com/layerwise/parity/runtimes/model"
)

// TestWeightsOfConversionsAreBitIdentical: apr import copies F32, Q4_K and
// Q6_K bytes verbatim, so every tensor pairs (GGUF names with HF names for
// qwen) and is bit-identical.
func TestWeightsOfConversionsAreBitIdentical(t *testing.T) {
	for _, c := range []struct {
		file    string
		tensors int
	}{
		{"models/stories260K.gguf", 48},
		{"models/derived/tiny-qwen2-random-Q4_K_M.gguf", 27},
		{"models/derived/tiny-qwen3-random-Q4_K_M.gguf", 25},
	} {
		src := shared(t, c.file)
		r, err := CompareWeights(open(t, src), toAPR(t, src, convert.F32))
		if err != nil {
			t.Fatal(err)
		}
		if r.Counts[BitIdentical] != c.tensors || len(r.Tensors) != c.tensors || len(r.UnpairedA)+len(r.UnpairedB) > 0 || r.Verdict != BitIdentical {
			t.Errorf("%s: %v, unpaired %v %v, verdict %s; want all %d bit-identical", c.file, r.Counts, r.UnpairedA, r.UnpairedB, r.Verdict, c.tensors)
		}
	}
}

// TestWeightsWithinQuantizationNoise: a re-encoded model is within the
// noise both encodings explain, with the NMSE and the budget reported.
func TestWeightsWithinQuantizationNoise(t *testing.T) {
	q8 := shared(t, "models/derived/tiny-qwen3-random-Q8_0.gguf")
	q4 := shared(t, "models/derived/tiny-qwen3-random-Q4_K_M.gguf")
	f32 := shared(t, "models/derived/tiny-qwen3-random-f32.gguf")
	q8f16 := toAPR(t, q8, convert.F16)
	for _, c := range []struct {
		name string
		a, b *model.Weights
		// matrices: tensors re-encoded; the 9 F32 norms stay bit-identical.
		matrices int
		budgetOf string
	}{
		{"q8_0 vs its f16 conversion", open(t, q8), q8f16, 16, "q8_0 + f16 budget"},
		{"q4_K_M vs the f32 source (APR)", open(t, q4), toAPR(t, f32, convert.F16), 16, ""},
		{"q4_K_M vs the f16 conversion of q8_0", open(t, q4), q8f16, 16, ""},
	} {
		r, err := CompareWeights(c.a, c.b)
		if err != nil {
			t.Fatal(err)
		}
		if r.Counts[WithinNoise] != c.matrices || r.Counts[BitIdentical] != 9 || r.Verdict != WithinNoise {
			t.Errorf("%s: %v, verdict %s", c.name, r.Counts, r.Verdict)
		}
		worst := 0.0
		for _, tc := range r.Tensors {
			if tc.Verdict != WithinNoise {
				continue
			}
			nmse := float64(tc.Diff.NMSE)
			if nmse <= 0 || nmse > float64(tc.Budget) || (c.budgetOf != "" && tc.BudgetOf != c.budgetOf) {
				t.Errorf("%s: %s NMSE %g, budget %g (%s)", c.name, tc.NameA, nmse, tc.Budget, tc.BudgetOf)
			}
			worst = max(worst, nmse)
		}
		t.Logf("%s: worst NMSE %.3g", c.name, worst)
	}
}

// TestRopePermutationIsNamed: attn_q and attn_k (and their biases) stored
// in Hugging Face row order, llama.cpp's permute undone, are a "rope
// permutation", in either direction and across formats, and every other
// tensor still agrees.
func TestRopePermutationIsNamed(t *testing.T) {
	stories := shared(t, "models/stories260K.gguf")
	qwen2 := fixture(t, fixtures.Default("qwen2", ggml.Q8_0))
	for _, c := range []struct {
		src      string
		permuted int // q, k (and their biases) over all layers
	}{{stories, 10}, {qwen2, 8}} {
		orig := open(t, c.src)
		hf := rewrite(t, c.src, func(ti *gguf.TensorInfo, data []byte) []byte {
			role, _, _ := model.ParseName(ti.Name)
			if heads := ropeHeads(role, orig.Config); heads > 0 {
				rows := int(ti.Dims[len(ti.Dims)-1]) // a bias permutes its elements
				return hfOrder(data, rows, rows/heads)
			}
			return data
		})
		n := len(orig.Names())
		for _, p := range []struct {
			name, direction string
			a, b            *model.Weights
		}{
			{"gguf vs hf-order gguf", "B is in Hugging Face q/k row order", orig, open(t, hf)},
			{"hf-order gguf vs gguf", "A is in Hugging Face q/k row order", open(t, hf), orig},
			{"hf-order apr vs gguf", "A is in Hugging Face q/k row order", toAPR(t, hf, convert.F32), orig},
		} {
			r, err := CompareWeights(p.a, p.b)
			if err != nil {
				t.Fatal(err)
			}
			if r.Counts[RopePermutation] != c.permuted || len(r.Tensors) != n || r.Verdict != RopePermutation {
				t.Errorf("%s %s: %v, verdict %s", c.src, p.name, r.Counts, r.Verdict)
			}
			for _, tc := range r.Tensors {
				role, _, _ := model.ParseName(tc.NameA)
				// The rest is bit-identical, or equal after dequant where the
				// APR conversion wrote q8_0 as f32.
				if ropeHeads(role, orig.Config) > 0 != (tc.Verdict == RopePermutation) || tc.Verdict != RopePermutation && !tc.Verdict.OK() {
					t.Errorf("%s: %s is %s", p.name, tc.NameA, tc.Verdict)
				}
				if tc.Verdict == RopePermutation && (!strings.HasPrefix(tc.Note, p.direction) || tc.Undone == nil || !tc.Undone.Zero() || tc.Diff.Zero()) {
					t.Errorf("%s: %s: note %q, undone %+v", p.name, tc.NameA, tc.Note, tc.Undone)
				}
			}
		}
	}
}

// TestFileFaultsAreNamed: the fixtures' transposed attn_output is
// "transposed"; corrupted attn_q rows are "different" (no layout explains
// them); a quantized copy of either is judged against its budget.
func TestFileFaultsAreNamed(t *testing.T) {
	for _, typ := range []ggml.Type{ggml.F32, ggml.Q8_0} {
		clean := fixtures.Default("llama", typ)
		bad := clean
		bad.FileFaults = []faults.Fault{{Kind: faults.Transpose, Layer: 0}, {Kind: faults.CorruptRows, Layer: 1}}
		r, err := CompareWeights(open(t, fixture(t, clean)), open(t, fixture(t, bad)))
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]Verdict{"blk.0.attn_output.weight": Transposed, "blk.1.attn_q.weight": Different}
		for _, tc := range r.Tensors {
			v, ok := want[tc.NameA]
			if !ok {
				v = BitIdentical
			}
			if tc.Verdict != v {
				t.Errorf("%s: %s is %s, want %s (%s)", typ, tc.NameA, tc.Verdict, v, tc.Note)
			}
		}
		if r.Verdict != Different {
			t.Errorf("%s: verdict %s", typ, r.Verdict)
		}
	}
}

// TestUnpairedAndTied: a tensor only one side has is listed, and a tied
// model's lm_head.weight (APR) pairs with the GGUF's token_embd.
func TestUnpairedAndTied(t *testing.T) {
	s := fixtures.Default("qwen2", ggml.F32)
	s.Tied = true
	src := fixture(t, s)
	r, err := CompareWeights(open(t, src), toAPR(t, src, convert.F32))
	if err != nil {
		t.Fatal(err)
	}
	last := r.Tensors[len(r.Tensors)-1]
	if r.Verdict != BitIdentical || len(r.UnpairedB) != 0 || last.NameB != "lm_head.weight" || last.NameA != "token_embd.weight" {
		t.Errorf("tied: verdict %s, unpaired %v, last pair %s/%s", r.Verdict, r.UnpairedB, last.NameA, last.NameB)
	}
	extra := rewrite(t, src, func(_ *gguf.TensorInfo, d []byte) []byte { return d },
		gguf.TensorInfo{Name: "rope_freqs.weight", Type: ggml.F32, Dims: []int64{8}})
	r, err = CompareWeights(open(t, src), open(t, extra))
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != Different || len(r.UnpairedB) != 1 || r.UnpairedB[0] != "rope_freqs.weight" || len(r.UnpairedA) != 0 {
		t.Errorf("extra tensor: verdict %s, unpaired %v / %v", r.Verdict, r.UnpairedA, r.UnpairedB)
	}
}

// TestLayoutChecksOnBareTensors covers the shapes model files cannot
// carry for role tensors: a reversed non-square shape over transposed data
// is "transposed", over the same data "reshaped", and a different element
// count is a shape mismatch.
func TestLayoutChecksOnBareTensors(t *testing.T) {
	const rows, cols = 3, 5
	v := make([]float32, rows*cols)
	tr := make([]float32, rows*cols)
	for i := range v {
		v[i] = float32(i*i%7) - 2.5
	}
	for r := 0; r < rows; r++ {
		for c := 0; c < cols; c++ {
			tr[c*rows+r] = v[r*cols+c]
		}
	}
	mk := func(name string, shape []int64, vals []float32) *model.Tensor {
		return &model.Tensor{Name: name, Type: ggml.F32, Shape: shape, Data: f32Bytes(vals)}
	}
	a := mk("a", []int64{cols, rows}, v)
	for _, c := range []struct {
		b    *model.Tensor
		want Verdict
	}{
		{mk("b", []int64{cols, rows}, v), BitIdentical},
		{mk("b", []int64{rows, cols}, tr), Transposed},
		{mk("b", []int64{rows, cols}, v), Reshaped},
		{mk("b", []int64{cols, rows + 1}, append(append([]float32{}, v...), 1, 2, 3, 4, 5)), ShapeMismatch},
		{mk("b", []int64{cols, rows}, tr), Different},
	} {
		tc, err := compareTensors(a, c.b, 0)
		if err != nil {
			t.Fatal(err)
		}
		if tc.Verdict != c.want {
			t.Errorf("shape %v: %s, want %s (%s)", c.b.Shape, tc.Verdict, c.want, tc.Note)
		}
	}
}
