//go:build !noasm

package stats

import "golang.org/x/sys/cpu"

//go:noescape
func passOneAVX2(xs *float32, n16 int, st *laneState, zero *int64)

//go:noescape
func passTwoAVX2(xs *float32, n16 int, mean float64, m2 *[16]float64)

// hasPasses says whether this CPU runs the assembly passes.
var hasPasses = cpu.X86.HasAVX2

// passOne runs passOneGo over xs (a multiple of sixteen long) in
// assembly and returns the zero count, or clean = false when xs holds a
// NaN or ±Inf (st is then spoilt and the caller redoes the slice in Go).
// It is a plain function, not a variable, so that st stays on the
// caller's stack.
func passOne(st *laneState, xs []float32) (zero int64, clean bool) {
	if len(xs) < 16 {
		return 0, true
	}
	passOneAVX2(&xs[0], len(xs)/16, st, &zero)
	for _, q := range st.sumSq {
		if q-q != 0 { // NaN or ±Inf
			return 0, false
		}
	}
	return zero, true
}

// passTwo runs passTwoGo over xs (a multiple of sixteen long, all finite)
// in assembly.
func passTwo(m2 *[16]float64, xs []float32, mean float64) {
	if len(xs) >= 16 {
		passTwoAVX2(&xs[0], len(xs)/16, mean, m2)
	}
}
