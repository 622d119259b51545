package diag

import (
	"fmt"

	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/stats"
)

// RowStats describes values the way the seed's diag_compare_embedding
// printed them: count, mean, population standard deviation, min and max
// (over the finite values; NaN and Inf are counted in Nonfinite).
type RowStats struct {
	N         int64 `json:"n"`
	Mean      Float `json:"mean"`
	Std       Float `json:"std"`
	Min       Float `json:"min"`
	Max       Float `json:"max"`
	Nonfinite int64 `json:"nonfinite,omitempty"`
}

func rowStats(s stats.Summary) RowStats {
	return RowStats{N: s.Count, Mean: Float(s.Mean), Std: Float(s.Std()), Min: Float(s.Min), Max: Float(s.Max), Nonfinite: s.NaN + s.Inf}
}

// RowCheck compares the embedding row of one prompt token.
type RowCheck struct {
	Pos   int      `json:"pos"`
	Token int32    `json:"token"`
	Piece string   `json:"piece,omitempty"` // the token's text in A's vocabulary
	A     RowStats `json:"a"`
	B     RowStats `json:"b"`
	// ByteIdentical is set when both tables store the row in the same
	// ggml type and its bytes are equal.
	ByteIdentical bool `json:"byte_identical"`
	// Diff.Row is the token id, Diff.Col the element.
	Diff    Diff    `json:"diff"`
	Verdict Verdict `json:"verdict"`
}

// TableCheck is the whole-table part of CompareEmbedding.
type TableCheck struct {
	NameA         string   `json:"name_a"`
	NameB         string   `json:"name_b"`
	EncodingA     string   `json:"encoding_a"`
	EncodingB     string   `json:"encoding_b"`
	ShapeA        []int64  `json:"shape_a"` // ggml order: [n_embd, n_vocab]
	ShapeB        []int64  `json:"shape_b"`
	ByteIdentical bool     `json:"byte_identical"`
	A             RowStats `json:"a"`
	B             RowStats `json:"b"`
	// Diff covers the rows both tables have; Diff.Row is the token id of
	// the largest difference. Nil when the bytes are identical (there is
	// nothing to measure) or the row lengths differ (nothing to compare).
	Diff *Diff `json:"diff,omitempty"`
	// RowsDiffer counts the rows holding any unequal value; DifferingRows
	// lists the first maxListed of them.
	RowsDiffer    int     `json:"rows_differ"`
	DifferingRows []int   `json:"differing_rows,omitempty"`
	Verdict       Verdict `json:"verdict"`
	Note          string  `json:"note,omitempty"`
}

// maxListed bounds the differing rows a TableCheck names.
const maxListed = 16

// EmbeddingResult is CompareEmbedding's answer.
type EmbeddingResult struct {
	A     Model      `json:"a"`
	B     Model      `json:"b"`
	Table TableCheck `json:"table"`
	// Rows holds one check per prompt position, in prompt order.
	Rows []RowCheck `json:"rows,omitempty"`
	// Worst indexes the row with the largest difference (−1 without rows).
	Worst int `json:"worst"`
	// Scope says what Verdict covers: "prompt" (the rows of the prompt's
	// tokens, when tokens were given) or "table" (the whole table).
	Scope   string  `json:"scope"`
	Verdict Verdict `json:"verdict"`
}

// CompareEmbedding compares the token embedding tables of a and b (the
// seed's diag_compare_embedding, generalised to any two files and
// encodings): the whole table first (shape, encoding, bytes, then the
// dequantized max |diff|, RMS difference and NMSE, and which rows differ),
// then, for each token id in tokens, both rows' statistics and their
// difference.
//
// Bands, on the largest absolute difference (see Verdict):
// byte-identical, identical (< 1e-6), quantization rounding (< 1e-3),
// suspicious (< 1e-1), defect. With tokens the verdict covers only their
// rows — the question is whether both runtimes feed the same vectors for
// this prompt — and the table check stays information; without tokens it
// covers the table.
func CompareEmbedding(a, b *model.Weights, tokens []int32) (*EmbeddingResult, error) {
	ea, err := a.Tensor(model.TokenEmbd, -1)
	if err != nil {
		return nil, err
	}
	eb, err := b.Tensor(model.TokenEmbd, -1)
	if err != nil {
		return nil, err
	}
	res := &EmbeddingResult{A: modelOf(a), B: modelOf(b), Worst: -1, Scope: "table"}
	if res.Table, err = compareTables(ea, eb); err != nil {
		return nil, err
	}
	res.Verdict = res.Table.Verdict
	if len(tokens) == 0 {
		return res, nil
	}
	if ea.Cols() != eb.Cols() {
		return nil, fmt.Errorf("diag: embedding rows have %d values in A and %d in B: no row can be compared", ea.Cols(), eb.Cols())
	}
	var pieces []string
	if v, err := a.Vocab(); err == nil {
		pieces = v.Tokens
	}
	res.Scope, res.Verdict = "prompt", ByteIdentical
	ra, rb := make([]float32, ea.Cols()), make([]float32, eb.Cols())
	for pos, id := range tokens {
		if id < 0 || int(id) >= ea.Rows() || int(id) >= eb.Rows() {
			return nil, fmt.Errorf("diag: token %d at position %d is outside the embedding tables (%d and %d rows)", id, pos, ea.Rows(), eb.Rows())
		}
		r := int(id)
		if err := ea.DequantizeRows(r, 1, ra); err != nil {
			return nil, err
		}
		if err := eb.DequantizeRows(r, 1, rb); err != nil {
			return nil, err
		}
		var sa, sb stats.Summary
		sa.AddSlice(ra)
		sb.AddSlice(rb)
		rc := RowCheck{Pos: pos, Token: id, A: rowStats(sa), B: rowStats(sb), ByteIdentical: sameRowBytes(ea, eb, r),
			Diff: compare(ra, rb, len(ra))}
		rc.Diff.Row = int64(id)
		if r < len(pieces) {
			rc.Piece = pieces[r]
		}
		rc.Verdict = maxAbsBand(float64(rc.Diff.MaxAbs))
		if rc.ByteIdentical {
			rc.Verdict = ByteIdentical
		}
		res.Rows = append(res.Rows, rc)
		res.Verdict = worse(res.Verdict, rc.Verdict, embeddingRank)
		if res.Worst < 0 || rowWorse(rc.Diff, res.Rows[res.Worst].Diff) {
			res.Worst = len(res.Rows) - 1
		}
	}
	return res, nil
}

// rowWorse orders row differences by max |diff|, a NaN one first.
func rowWorse(d, than Diff) bool {
	if d.MaxAbs != d.MaxAbs {
		return than.MaxAbs == than.MaxAbs
	}
	return d.MaxAbs > than.MaxAbs
}

// compareTables streams both tables a block of rows at a time: their
// statistics, the difference over the rows both have, and which rows
// differ.
func compareTables(a, b *model.Tensor) (TableCheck, error) {
	tc := TableCheck{NameA: a.Name, NameB: b.Name, EncodingA: Encoding(a), EncodingB: Encoding(b), ShapeA: a.Shape, ShapeB: b.Shape,
		ByteIdentical: sameBytes(a, b)}
	var sa, sb stats.Summary
	summarize := func(t *model.Tensor, s *stats.Summary) error {
		cols := t.Cols()
		per := max(1, blockElems/cols)
		buf := make([]float32, per*cols)
		for r := 0; r < t.Rows(); r += per {
			n := min(per, t.Rows()-r)
			if err := t.DequantizeRows(r, n, buf); err != nil {
				return err
			}
			s.AddSlice(buf[:n*cols])
		}
		return nil
	}
	if err := summarize(a, &sa); err != nil {
		return tc, err
	}
	if err := summarize(b, &sb); err != nil {
		return tc, err
	}
	tc.A, tc.B = rowStats(sa), rowStats(sb)
	if tc.ByteIdentical {
		tc.Verdict = ByteIdentical
		return tc, nil
	}
	if a.Cols() != b.Cols() {
		tc.Verdict = Defect
		tc.Note = fmt.Sprintf("rows hold %d values in A and %d in B: the tables cannot be compared", a.Cols(), b.Cols())
		return tc, nil
	}
	rows, cols := min(a.Rows(), b.Rows()), a.Cols()
	if a.Rows() != b.Rows() {
		tc.Note = fmt.Sprintf("A has %d rows, B %d: the first %d are compared", a.Rows(), b.Rows(), rows)
	}
	per := max(1, blockElems/cols)
	ba, bb := make([]float32, per*cols), make([]float32, per*cols)
	c := newAcc(cols)
	for r := 0; r < rows; r += per {
		n := min(per, rows-r)
		if err := a.DequantizeRows(r, n, ba); err != nil {
			return tc, err
		}
		if err := b.DequantizeRows(r, n, bb); err != nil {
			return tc, err
		}
		for i := 0; i < n; i++ {
			if absMax(ba[i*cols:(i+1)*cols], bb[i*cols:(i+1)*cols]) > 0 {
				tc.RowsDiffer++
				if len(tc.DifferingRows) < maxListed {
					tc.DifferingRows = append(tc.DifferingRows, r+i)
				}
			}
		}
		c.add(ba[:n*cols], bb[:n*cols])
	}
	d := c.diff()
	tc.Diff = &d
	tc.Verdict = maxAbsBand(float64(d.MaxAbs))
	return tc, nil
}

// absMax is the largest absDiff over two equally long rows.
func absMax(a, b []float32) float64 {
	m := 0.0
	for i, x := range a {
		if d := absDiff(float64(x), float64(b[i])); d > m {
			m = d
		}
	}
	return m
}
