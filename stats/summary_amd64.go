//go:build !noasm

package stats

import "golang.org/x/sys/cpu"

//go:noescape
func passOneAVX512(xs *float32, n16 int, st *laneState, zeros *[16]int32)

//go:noescape
func passTwoAVX512(xs *float32, n16 int, mean float64, m2 *[16]float64)

func init() {
	if !cpu.X86.HasAVX512F {
		return
	}
	passOne = func(st *laneState, xs []float32) (int64, bool) {
		if len(xs) < 16 {
			return 0, true
		}
		var zeros [16]int32
		passOneAVX512(&xs[0], len(xs)/16, st, &zeros)
		var zero int64
		for j, z := range zeros {
			zero += int64(z)
			if q := st.sumSq[j]; q-q != 0 { // NaN or ±Inf
				return 0, false
			}
		}
		return zero, true
	}
	passTwo = func(m2 *[16]float64, xs []float32, mean float64) {
		if len(xs) >= 16 {
			passTwoAVX512(&xs[0], len(xs)/16, mean, m2)
		}
	}
}
