//go:build !amd64 || noasm

package stats

// Without the assembly, sliceSummary runs the Go passes only.
const hasPasses = false

func passOne(*laneState, []float32) (int64, bool) { panic("stats: no assembly passes") }

func passTwo(*[16]float64, []float32, float64) { panic("stats: no assembly passes") }
