package probes

import (
	"math"
	"slices"
)

// FullBytes estimates, before anything runs, the memory full-tensor
// capture under p holds for one run of a model with dims d over promptLen
// prompt tokens and decode steps: 4 bytes (a float32) per element of every
// record the policy keeps, whatever p.Mode says. Step 0 covers the prompt's
// positions, each decode step one position; p.Steps, p.Layers (within
// d.Layers), p.Slots and p.Positions filter as the Recorder does. A slot
// whose size d does not give (the MoE slots of a dense model) counts
// nothing; the QK-norm slots count as if the architecture had them, so the
// estimate is an upper bound. It saturates at math.MaxInt64.
func (p Policy) FullBytes(d Dims, promptLen, decode int) int64 {
	slots := p.Slots
	if len(slots) == 0 {
		slots = Slots()
	}
	var perPos float64 // elements per captured position, over slots and layers
	layers := float64(countBelow(p.Layers, d.Layers))
	for _, s := range slots {
		n := float64(s.PerToken(d))
		if !s.Global() {
			n *= layers
		}
		perPos += n
	}
	var positions float64
	for step := 0; step <= decode; step++ {
		if len(p.Steps) > 0 && !slices.Contains(p.Steps, step) {
			continue
		}
		first, n := 0, promptLen
		if step > 0 {
			first, n = promptLen+step-1, 1
		}
		switch {
		case p.Positions.Last:
			n = min(n, 1)
		case len(p.Positions.List) > 0:
			n = countIn(p.Positions.List, first, first+n)
		}
		positions += float64(n)
	}
	if b := 4 * perPos * positions; b < math.MaxInt64 {
		return int64(b)
	}
	return math.MaxInt64
}

// countBelow is the number of layers a policy's list selects out of n
// (all n when the list is empty).
func countBelow(list []int, n int) int {
	if len(list) == 0 {
		return n
	}
	return countIn(list, 0, n)
}

// countIn is the number of elements of an ascending list in [lo, hi).
func countIn(list []int, lo, hi int) int {
	i, _ := slices.BinarySearch(list, lo)
	j, _ := slices.BinarySearch(list, hi)
	return j - i
}
