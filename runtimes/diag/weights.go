package diag

import (
	"fmt"
	"slices"

	"github.com/layerwise/parity/runtimes/model"
)

// Model identifies one side of a comparison.
type Model struct {
	Path    string `json:"path"`
	Format  string `json:"format"` // "gguf" or "apr"
	Arch    string `json:"arch"`
	Tensors int    `json:"tensors"`
}

func modelOf(w *model.Weights) Model {
	return Model{Path: w.Path, Format: w.Format, Arch: w.Config.Arch.Name, Tensors: len(w.Names())}
}

// TensorCheck is the comparison of one tensor pair.
type TensorCheck struct {
	NameA     string  `json:"name_a"`
	NameB     string  `json:"name_b"`
	EncodingA string  `json:"encoding_a"` // Encoding: ggml type name or APR layout
	EncodingB string  `json:"encoding_b"`
	ShapeA    []int64 `json:"shape_a"` // ggml order (ne0 first); APR's [out, in] is shown reversed
	ShapeB    []int64 `json:"shape_b"`
	Verdict   Verdict `json:"verdict"`
	// Diff compares the values as stored, when the shapes are equal.
	Diff *Diff `json:"diff,omitempty"`
	// Budget is the NMSE the pair's encodings explain (both budgets
	// summed, see nmseBudget) and BudgetOf says whose they are; a pair
	// within it is "within quantization noise".
	Budget   Float  `json:"budget"`
	BudgetOf string `json:"budget_of"`
	// Undone compares the values after undoing the layout trap the
	// verdict names (rope permutation, transposition, reshape).
	Undone *Diff  `json:"undone,omitempty"`
	Note   string `json:"note,omitempty"`
}

// WeightsResult is CompareWeights' answer.
type WeightsResult struct {
	A Model `json:"a"`
	B Model `json:"b"`
	// Tensors lists the pairs in A's file order.
	Tensors []TensorCheck `json:"tensors"`
	// UnpairedA and UnpairedB list tensors with no counterpart on the
	// other side under either naming convention.
	UnpairedA []string `json:"unpaired_a,omitempty"`
	UnpairedB []string `json:"unpaired_b,omitempty"`
	// Counts tallies the verdicts of Tensors.
	Counts map[Verdict]int `json:"counts"`
	// Verdict is the least favourable tensor verdict, or Different when
	// some tensor is unpaired.
	Verdict Verdict `json:"verdict"`
}

// CompareWeights pairs every tensor of a with its counterpart in b by role
// and layer (so GGUF and Hugging Face names pair up: blk.0.attn_q.weight
// with model.layers.0.self_attn.q_proj.weight), and by identical name for
// tensors without a known role. A missing output.weight on one side pairs
// with that side's token_embd.weight when its embeddings are tied, so a
// GGUF with tied embeddings pairs with its APR conversion, which writes a
// copy as lm_head.weight. Such pairs follow A's tensors in the list.
//
// Each pair is judged, in this order:
//
//   - bit-identical: same encoding, shape and bytes;
//   - equal after dequant: every f32 value equal;
//   - within quantization noise: NMSE (B against A) at most the two
//     encodings' budgets summed (nmseBudget; TensorCheck.BudgetOf names them);
//   - rope permutation (attn_q, attn_k and their biases): within that
//     budget after undoing llama.cpp's q/k permute in either direction;
//   - transposed (square or reversed 2-D shapes): within it against the
//     other's transpose;
//   - reshaped: same element count, different shape, same flat values;
//   - different, or shape mismatch when the element counts differ.
//
// Shapes are compared in ggml order, which model.Weights gives for both
// formats (APR's [out, in] reversed back), so a conversion that reversed a
// shape as `apr import` does pairs as equal.
func CompareWeights(a, b *model.Weights) (*WeightsResult, error) {
	res := &WeightsResult{A: modelOf(a), B: modelOf(b), Counts: map[Verdict]int{}}
	usedB := map[string]bool{}
	for _, name := range a.Names() {
		ta, _ := a.ByName(name)
		tb, note := counterpart(a, b, name)
		if tb == nil {
			res.UnpairedA = append(res.UnpairedA, name)
			continue
		}
		usedB[tb.Name] = true
		role, _, known := model.ParseName(name)
		heads := 0
		if known {
			heads = ropeHeads(role, a.Config)
		}
		tc, err := compareTensors(ta, tb, heads)
		if err != nil {
			return nil, err
		}
		if note != "" {
			tc.Note = joinNote(note, tc.Note)
		}
		res.Tensors = append(res.Tensors, tc)
		res.Counts[tc.Verdict]++
	}
	for _, name := range b.Names() {
		if usedB[name] {
			continue
		}
		// B's output matrix against A's tied embedding table.
		if role, _, ok := model.ParseName(name); ok && role == model.Output && a.Config.TiedEmbeddings {
			if ta, ok := a.Lookup(model.TokenEmbd, -1); ok {
				tb, _ := b.ByName(name)
				tc, err := compareTensors(ta, tb, 0)
				if err != nil {
					return nil, err
				}
				tc.Note = joinNote("A ties its embeddings: "+name+" compared with "+ta.Name, tc.Note)
				res.Tensors = append(res.Tensors, tc)
				res.Counts[tc.Verdict]++
				continue
			}
		}
		res.UnpairedB = append(res.UnpairedB, name)
	}
	res.Verdict = BitIdentical
	for _, t := range res.Tensors {
		res.Verdict = worse(res.Verdict, t.Verdict, weightRank)
	}
	if len(res.UnpairedA)+len(res.UnpairedB) > 0 && res.Verdict.OK() {
		res.Verdict = Different
	}
	return res, nil
}

// counterpart finds the tensor of b that pairs with a's tensor name.
func counterpart(a, b *model.Weights, name string) (*model.Tensor, string) {
	role, layer, ok := model.ParseName(name)
	if !ok {
		t, _ := b.ByName(name)
		return t, ""
	}
	if t, ok := b.Lookup(role, layer); ok {
		return t, ""
	}
	if role == model.Output && b.Config.TiedEmbeddings {
		if t, ok := b.Lookup(model.TokenEmbd, -1); ok {
			return t, "B ties its embeddings: compared with " + t.Name
		}
	}
	return nil, ""
}

// compareTensors judges one pair; heads > 0 enables the rope permutation
// check with that many heads.
func compareTensors(a, b *model.Tensor, heads int) (TensorCheck, error) {
	limit, of := pairBudget(a, b)
	tc := TensorCheck{NameA: a.Name, NameB: b.Name, EncodingA: Encoding(a), EncodingB: Encoding(b),
		ShapeA: a.Shape, ShapeB: b.Shape, Budget: Float(limit), BudgetOf: of}
	if sameBytes(a, b) {
		tc.Verdict = BitIdentical
		return tc, nil
	}
	if slices.Equal(a.Shape, b.Shape) {
		d, err := streamRows(a, b, a.Rows())
		if err != nil {
			return tc, fmt.Errorf("diag: %s vs %s: %w", a.Name, b.Name, err)
		}
		tc.Diff = &d
		switch {
		case d.Zero():
			tc.Verdict = EqualAfterDequant
			return tc, nil
		case float64(d.NMSE) <= limit:
			tc.Verdict = WithinNoise
			return tc, nil
		}
	}
	if a.NumElements() != b.NumElements() {
		tc.Verdict = ShapeMismatch
		tc.Note = fmt.Sprintf("%d elements vs %d", a.NumElements(), b.NumElements())
		return tc, nil
	}
	tc.Verdict = Different
	checks := []func() (*layoutMatch, error){
		func() (*layoutMatch, error) {
			if heads == 0 || !slices.Equal(a.Shape, b.Shape) {
				return nil, nil
			}
			return checkRope(a, b, heads, limit)
		},
		func() (*layoutMatch, error) { return checkTranspose(a, b, limit) },
		func() (*layoutMatch, error) { return checkReshape(a, b, limit) },
	}
	for _, check := range checks {
		m, err := check()
		if err != nil {
			return tc, fmt.Errorf("diag: %s vs %s: %w", a.Name, b.Name, err)
		}
		if m != nil {
			tc.Verdict, tc.Note, tc.Undone = m.verdict, m.note, &m.diff
			return tc, nil
		}
	}
	if a.NumElements() > maxDense {
		tc.Note = fmt.Sprintf("transpose and reshape checks skipped: more than %d elements", maxDense)
	}
	return tc, nil
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}
