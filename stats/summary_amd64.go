//go:build !noasm

package stats

import "golang.org/x/sys/cpu"

//go:noescape
func passOneAVX2(xs *float32, n16 int, st *laneState, zero *int64)

//go:noescape
func passTwoAVX2(xs *float32, n16 int, mean float64, m2 *[16]float64)

func init() {
	if !cpu.X86.HasAVX2 {
		return
	}
	passOne = func(st *laneState, xs []float32) (int64, bool) {
		if len(xs) < 16 {
			return 0, true
		}
		var zero int64
		passOneAVX2(&xs[0], len(xs)/16, st, &zero)
		for _, q := range st.sumSq {
			if q-q != 0 { // NaN or ±Inf
				return 0, false
			}
		}
		return zero, true
	}
	passTwo = func(m2 *[16]float64, xs []float32, mean float64) {
		if len(xs) >= 16 {
			passTwoAVX2(&xs[0], len(xs)/16, mean, m2)
		}
	}
}
