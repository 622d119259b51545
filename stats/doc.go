// Package stats holds the numbers parity computes about tensors: a
// streaming, mergeable Summary of float32 data (counts, NaN/Inf/zero counts,
// mean and M2 by Welford, min, max, Σx²), and the metrics that compare two
// tensors (Compare: NMSE both ways, cosine, SQNR, max abs diff, rel_diff),
// two logit vectors (CompareLogits: softmax KL, top-1 and top-k agreement)
// or, as weak evidence only, two summaries (StdRatio, MeanShift).
//
// Conventions, stated once here and in detail on each function:
//
//   - Everything is accumulated in float64 in a fixed order (index order;
//     for AddSlice, sixteen lanes of index order folded in a fixed tree,
//     lanes.go), so results are deterministic bit for bit, with or without
//     the AVX2 passes (summary_amd64.s, `-tags noasm` selects Go). Merging summaries is deterministic only for
//     a fixed merge order; MergeAll folds left in slice order, and the
//     engines aggregate per-position summaries that way.
//   - Summaries describe the finite elements; NaN and Inf are counted,
//     never averaged. Full-tensor metrics let NaN propagate instead, because
//     a comparison that skipped a NaN would call a broken tensor fine.
//   - Mismatched lengths (ErrLength), empty inputs (ErrEmpty) and summaries
//     over different element counts (ErrCount) are errors, never a number:
//     a ratio over different samples is how the seed's 18.23× std ratio
//     came about.
//   - Degenerate denominators follow one rule: 0/0 = 0 and e/0 = +Inf.
//
// Package stats must not know about layers, slots, traces or runtimes; it
// sees flat []float32 slices and Summaries only. Its only dependencies beyond
// the standard library are golang.org/x/sys/cpu (to pick the assembly) and
// gonum (in tests, as an independent reference).
package stats
