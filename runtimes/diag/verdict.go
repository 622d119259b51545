package diag

// Verdict is what a check concluded, in words a report prints as they are.
type Verdict string

// Embedding rows (CompareEmbedding), by the largest |b−a| of a row or
// table, the seed's diag_compare_embedding bands. They are absolute: read
// them against the table's scale (RowStats), and the NMSE beside them.
const (
	ByteIdentical Verdict = "byte-identical"        // same encoding and bytes
	Identical     Verdict = "identical"             // max |diff| < 1e-6
	QuantRounding Verdict = "quantization rounding" // < 1e-3
	Suspicious    Verdict = "suspicious"            // < 1e-1
	Defect        Verdict = "defect"                // ≥ 1e-1, or NaN
)

// Weights (CompareWeights), per tensor pair.
const (
	BitIdentical      Verdict = "bit-identical"             // same encoding, shape and bytes
	EqualAfterDequant Verdict = "equal after dequant"       // different bytes, equal f32 values
	WithinNoise       Verdict = "within quantization noise" // NMSE within both encodings' budgets
	RopePermutation   Verdict = "rope permutation"          // equal after undoing llama.cpp's q/k permute
	Transposed        Verdict = "transposed"                // equal to the other's transpose
	Reshaped          Verdict = "reshaped"                  // same flat values under another shape
	Different         Verdict = "different"                 // none of the above
	ShapeMismatch     Verdict = "shape mismatch"            // element counts differ
)

// Operations (CompareOp), by the relative L2 difference ‖b−a‖/‖a‖ of the
// two engines' outputs on the same input: the seed's
// diag_compare_rmsnorm_layer0 bands (1e-7, 1e-4, 1e-2), with the band
// between 1e-4 and 1e-2 split by operation: a matmul whose engine
// quantizes its activations (Q8_0/Q8_K, as ggml-cpu does) lands there by
// design; any other operation landing there is suspicious.
const (
	// BitIdentical (every value equal) is shared with the weight verdicts.
	Rounding          Verdict = "rounding"                // rel < 1e-7: one-ulp f32 noise
	AccumulationOrder Verdict = "accumulation order"      // rel < 1e-4: sums in another order or precision
	ActivationQuant   Verdict = "activation quantization" // matmul slots, rel < 1e-2
	// Suspicious (other slots, rel < 1e-2) and Defect (rel ≥ 1e-2, or NaN)
	// are shared with the embedding bands.
)

// OK reports whether the verdict means the two sides agree, to within
// what their encodings or arithmetic explain.
func (v Verdict) OK() bool {
	switch v {
	case ByteIdentical, Identical, QuantRounding, BitIdentical, EqualAfterDequant, WithinNoise,
		Rounding, AccumulationOrder, ActivationQuant:
		return true
	}
	return false
}

// maxAbsBand maps a largest absolute difference to an embedding band.
func maxAbsBand(d float64) Verdict {
	switch {
	case d < 1e-6:
		return Identical
	case d < 1e-3:
		return QuantRounding
	case d < 1e-1:
		return Suspicious
	}
	return Defect // NaN lands here too: every comparison above is false
}

// relBand maps a relative L2 difference to an operation band; matmul says
// whether activation quantization explains up to 1e-2.
func relBand(rel float64, zero, matmul bool) Verdict {
	switch {
	case zero:
		return BitIdentical
	case rel < 1e-7:
		return Rounding
	case rel < 1e-4:
		return AccumulationOrder
	case rel < 1e-2 && matmul:
		return ActivationQuant
	case rel < 1e-2:
		return Suspicious
	}
	return Defect
}

// worse returns the less favourable of two verdicts of the same family,
// ranked by rank; unknown verdicts rank worst.
func worse(a, b Verdict, rank []Verdict) Verdict {
	ia, ib := len(rank), len(rank)
	for i, v := range rank {
		if v == a {
			ia = i
		}
		if v == b {
			ib = i
		}
	}
	if ib > ia {
		return b
	}
	return a
}

var (
	embeddingRank = []Verdict{ByteIdentical, Identical, QuantRounding, Suspicious, Defect}
	weightRank    = []Verdict{BitIdentical, EqualAfterDequant, WithinNoise, RopePermutation, Transposed, Reshaped, Different, ShapeMismatch}
	opRank        = []Verdict{BitIdentical, Rounding, AccumulationOrder, ActivationQuant, Suspicious, Defect}
)
