package diag

import (
	"math"
	"slices"
	"testing"

	"github.com/layerwise/parity/runtimes/convert"
	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
)

func TestEmbeddingOfConversionIsByteIdentical(t *testing.T) {
	src := shared(t, "models/stories260K.gguf")
	a := open(t, src)
	tok, err := a.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	ids, err := tok.Encode("Once upon a time", true, false)
	if err != nil {
		t.Fatal(err)
	}
	r, err := CompareEmbedding(a, toAPR(t, src, convert.F32), ids)
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != ByteIdentical || r.Scope != "prompt" || !r.Table.ByteIdentical || r.Table.Verdict != ByteIdentical || len(r.Rows) != len(ids) {
		t.Fatalf("verdict %s (%s), table %s, %d rows", r.Verdict, r.Scope, r.Table.Verdict, len(r.Rows))
	}
	for _, row := range r.Rows {
		if !row.ByteIdentical || row.Verdict != ByteIdentical || row.A != row.B || row.A.N != 64 || row.Piece == "" {
			t.Errorf("row %+v", row)
		}
	}
	// The population std of a row, checked against a direct computation.
	emb, _ := a.ByName("token_embd.weight")
	v := make([]float32, 64)
	if err := emb.DequantizeRows(int(ids[1]), 1, v); err != nil {
		t.Fatal(err)
	}
	var sum, sq float64
	for _, x := range v {
		sum += float64(x)
	}
	for _, x := range v {
		d := float64(x) - sum/64
		sq += d * d
	}
	if got, want := float64(r.Rows[1].A.Std), math.Sqrt(sq/64); math.Abs(got-want) > 1e-12 {
		t.Errorf("row std %g, want the population std %g", got, want)
	}
}

// TestCorruptEmbeddingRowIsCaughtOnlyInThePrompt: the fixtures' corrupted
// row of "▁the" makes the prompt verdict a defect naming that row when
// the prompt holds the word, and leaves it byte-identical when it does
// not; the table check sees the one differing row either way.
func TestCorruptEmbeddingRowIsCaughtOnlyInThePrompt(t *testing.T) {
	for _, typ := range []ggml.Type{ggml.F32, ggml.Q8_0} {
		clean := fixtures.Default("llama", typ)
		bad := clean
		bad.FileFaults = []faults.Fault{{Kind: faults.CorruptEmbedRow, Layer: 0}}
		a, b := open(t, fixture(t, clean)), open(t, fixture(t, bad))
		tok, err := a.Tokenizer()
		if err != nil {
			t.Fatal(err)
		}
		row := fixtures.CorruptEmbedToken()
		for _, c := range []struct {
			prompt string
			caught bool
		}{{"What is the answer", true}, {"What is it", false}} {
			ids, err := tok.Encode(c.prompt, true, false)
			if err != nil {
				t.Fatal(err)
			}
			if slices.Contains(ids, int32(row)) != c.caught {
				t.Fatalf("%q tokenizes to %v: the test's premise about row %d is wrong", c.prompt, ids, row)
			}
			r, err := CompareEmbedding(a, b, ids)
			if err != nil {
				t.Fatal(err)
			}
			if r.Table.RowsDiffer != 1 || !slices.Equal(r.Table.DifferingRows, []int{row}) || r.Table.Diff.Row != int64(row) || r.Table.Verdict != Defect {
				t.Errorf("%s %q: table %+v", typ, c.prompt, r.Table)
			}
			worst := r.Rows[r.Worst]
			switch {
			case c.caught && (r.Verdict != Defect || worst.Token != int32(row) || worst.Piece != "▁the" || worst.Verdict != Defect || worst.ByteIdentical):
				t.Errorf("%s %q: verdict %s, worst row %+v", typ, c.prompt, r.Verdict, worst)
			case !c.caught && r.Verdict != ByteIdentical:
				t.Errorf("%s %q: verdict %s for a prompt without the corrupted token", typ, c.prompt, r.Verdict)
			}
		}
		r, err := CompareEmbedding(a, b, nil)
		if err != nil {
			t.Fatal(err)
		}
		if r.Scope != "table" || r.Verdict != Defect || len(r.Rows) != 0 {
			t.Errorf("%s without a prompt: scope %s, verdict %s", typ, r.Scope, r.Verdict)
		}
	}
}

func TestEmbeddingAcrossEncodings(t *testing.T) {
	q8 := shared(t, "models/derived/tiny-qwen3-random-Q8_0.gguf")
	a, b := open(t, q8), toAPR(t, q8, convert.F16)
	r, err := CompareEmbedding(a, b, []int32{1, 2, 300})
	if err != nil {
		t.Fatal(err)
	}
	// token_embd ~ N(0, 1): f16 rounds values up to ~4 by at most 2^-10.
	d := r.Table.Diff
	if r.Table.ByteIdentical || r.Table.EncodingA != "q8_0" || r.Table.EncodingB != "f16" || d == nil ||
		d.MaxAbs <= 0 || d.MaxAbs > 1.0/1024 || d.NMSE > 1e-7 {
		t.Errorf("table %+v, diff %+v", r.Table, d)
	}
	for _, row := range r.Rows {
		if row.ByteIdentical || row.Verdict != maxAbsBand(float64(row.Diff.MaxAbs)) || !row.Verdict.OK() {
			t.Errorf("row %+v", row)
		}
	}
	if _, err := CompareEmbedding(a, b, []int32{512}); err == nil {
		t.Error("a token beyond the vocabulary was accepted")
	}
}

func TestBands(t *testing.T) {
	for _, c := range []struct {
		d    float64
		want Verdict
	}{{0, Identical}, {9e-7, Identical}, {1e-6, QuantRounding}, {9e-4, QuantRounding}, {1e-3, Suspicious},
		{0.05, Suspicious}, {0.1, Defect}, {math.Inf(1), Defect}, {math.NaN(), Defect}} {
		if got := maxAbsBand(c.d); got != c.want {
			t.Errorf("maxAbsBand(%g) = %s, want %s", c.d, got, c.want)
		}
	}
	for _, c := range []struct {
		rel          float64
		zero, matmul bool
		want         Verdict
	}{{0, true, false, BitIdentical}, {6e-8, false, false, Rounding}, {1e-7, false, false, AccumulationOrder},
		{5e-3, false, true, ActivationQuant}, {5e-3, false, false, Suspicious}, {1e-2, false, true, Defect},
		{math.NaN(), false, false, Defect}} {
		if got := relBand(c.rel, c.zero, c.matmul); got != c.want {
			t.Errorf("relBand(%g, %v, %v) = %s, want %s", c.rel, c.zero, c.matmul, got, c.want)
		}
	}
	if worse(Identical, Defect, embeddingRank) != Defect || worse(Transposed, WithinNoise, weightRank) != Transposed {
		t.Error("worse picks the better verdict")
	}
	for v, ok := range map[Verdict]bool{ByteIdentical: true, WithinNoise: true, ActivationQuant: true, Suspicious: false,
		RopePermutation: false, Different: false, Defect: false} {
		if v.OK() != ok {
			t.Errorf("%s.OK() = %v", v, !ok)
		}
	}
}
