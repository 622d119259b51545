package diag

import (
	"fmt"
	"slices"

	"github.com/layerwise/parity/runtimes/model"
)

// Layout traps: two tensors that hold the same values in a different
// arrangement. Reporting them as "different" would send someone hunting
// for a numeric bug where there is a bookkeeping one.
//
// The rope permutation. Hugging Face llama checkpoints order the rows of
// q_proj and k_proj (and their biases) so that RoPE can rotate the two
// halves of each head, x[i] with x[i+hd/2]; GGUF files for llama rotate
// adjacent pairs, x[2i] with x[2i+1]. convert_hf_to_gguf.py bridges the
// two with LlamaModel.permute, which reshapes the rows as
// [n_head, 2, hd/2] and swaps the last two axes, n_head being
// num_key_value_heads for k_proj. Written out, GGUF row h·hd + 2j + s is
// HF row h·hd + s·hd/2 + j (s ∈ {0, 1}, j < hd/2). A converter that skips
// the permutation, or applies it twice, or applies it to a NEOX model,
// leaves every value in place but in the wrong row.

// ropeSource returns the HF row that GGUF row i of a q or k projection
// comes from, for heads of hd rows (see above).
func ropeSource(i, hd int) int {
	h, w := i/hd, i%hd
	return h*hd + (w%2)*(hd/2) + w/2
}

// ropeHeads returns the head count whose permutation applies to a tensor
// of this role, or 0 if the role has none.
func ropeHeads(r model.Role, c *model.Config) int {
	switch r {
	case model.AttnQ, model.AttnQBias:
		return c.NHead
	case model.AttnK, model.AttnKBias:
		return c.NHeadKV
	}
	return 0
}

// layoutMatch is a layout trap found: what was undone and the difference
// left after undoing it.
type layoutMatch struct {
	verdict Verdict
	note    string
	diff    Diff
}

// checkRope tries both directions of the rope permutation on two tensors
// of equal shape: B = permute(A) (A in HF order) and A = permute(B).
func checkRope(a, b *model.Tensor, heads int, limit float64) (*layoutMatch, error) {
	ra, err := newRowReader(a)
	if err != nil {
		return nil, err
	}
	rb, err := newRowReader(b)
	if err != nil {
		return nil, err
	}
	if heads <= 0 || ra.n%heads != 0 {
		return nil, nil
	}
	hd := ra.n / heads
	if hd < 4 || hd%2 != 0 { // hd 2 makes the permutation the identity
		return nil, nil
	}
	for _, dir := range []struct {
		aRow, bRow func(int) int
		note       string
	}{
		{func(i int) int { return ropeSource(i, hd) }, func(i int) int { return i },
			"A is in Hugging Face q/k row order (RoPE on halves), B in GGUF's (on pairs): B = llama.cpp's permute of A"},
		{func(i int) int { return i }, func(i int) int { return ropeSource(i, hd) },
			"B is in Hugging Face q/k row order (RoPE on halves), A in GGUF's (on pairs): A = llama.cpp's permute of B"},
	} {
		c := newAcc(ra.w)
		for i := 0; i < ra.n; i++ {
			x, err := ra.row(dir.aRow(i))
			if err != nil {
				return nil, err
			}
			y, err := rb.row(dir.bRow(i))
			if err != nil {
				return nil, err
			}
			c.add(x, y)
		}
		if d := c.diff(); float64(d.NMSE) <= limit {
			return &layoutMatch{RopePermutation, fmt.Sprintf("%s; %d heads of %d rows", dir.note, heads, hd), d}, nil
		}
	}
	return nil, nil
}

// checkTranspose compares A with the transpose of B, for matrices whose
// shapes are equal and square or reversed: B[j][i] = A[i][j].
func checkTranspose(a, b *model.Tensor, limit float64) (*layoutMatch, error) {
	if len(a.Shape) != 2 || len(b.Shape) != 2 || a.Shape[0] != b.Shape[1] || a.Shape[1] != b.Shape[0] {
		return nil, nil
	}
	va, vb, err := denseBoth(a, b)
	if err != nil || va == nil {
		return nil, err
	}
	rows, cols := a.Rows(), a.Cols()
	t := make([]float32, len(vb))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			t[i*cols+j] = vb[j*rows+i]
		}
	}
	if d := compare(va, t, cols); float64(d.NMSE) <= limit {
		note := "B is A transposed"
		if !slices.Equal(a.Shape, b.Shape) {
			note += fmt.Sprintf(" (shape %v vs %v in ggml order: the data was transposed along with the shape)", a.Shape, b.Shape)
		}
		return &layoutMatch{Transposed, note, d}, nil
	}
	return nil, nil
}

// checkReshape compares the flat element sequences of two tensors with
// different shapes but the same element count: the values are right and
// only the shape is wrong (a 2-D shape reversed without transposing the
// data reads every row across two real ones).
func checkReshape(a, b *model.Tensor, limit float64) (*layoutMatch, error) {
	if slices.Equal(a.Shape, b.Shape) || a.NumElements() != b.NumElements() {
		return nil, nil
	}
	va, vb, err := denseBoth(a, b)
	if err != nil || va == nil {
		return nil, err
	}
	if d := compare(va, vb, a.Cols()); float64(d.NMSE) <= limit {
		return &layoutMatch{Reshaped, fmt.Sprintf("same elements in the same order under shape %v vs %v: the shape is mislabelled, the data is not", a.Shape, b.Shape), d}, nil
	}
	return nil, nil
}

// denseBoth decodes both tensors, or returns nils when they are too large
// for a layout check (the caller then notes it skipped the check).
func denseBoth(a, b *model.Tensor) ([]float32, []float32, error) {
	if a.NumElements() > maxDense || b.NumElements() > maxDense {
		return nil, nil, nil
	}
	va, err := a.Float32s()
	if err != nil {
		return nil, nil, err
	}
	vb, err := b.Float32s()
	if err != nil {
		return nil, nil, err
	}
	return va, vb, nil
}
