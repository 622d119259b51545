// Package diff lines two traces up and judges them: alignment by
// (step, layer, slot) in execution order, the sample-parity gate that
// refuses to compare statistics taken over different tokens, the metric
// ledger, verdicts, the first-divergence scan, and the teacher-forcing
// driver that attributes each divergence to the operation that added it.
//
// It reads traces (probes) and computes metrics (stats). It talks to
// engines only through interfaces it defines itself; it must never import
// a concrete runtime or a renderer (reports).
package diff
