package probes

import (
	"math"
	"testing"
)

// TestFullBytesMatchesCapture: the estimate made before a run equals the
// bytes of full tensors the Recorder then holds, for policies that filter
// by slot, layer, step and position (the test dims give every slot a
// size, so the upper bound is exact here).
func TestFullBytesMatchesCapture(t *testing.T) {
	e := fakeEngine{prompt: 5, steps: 3, chunk: 2}
	for name, p := range map[string]Policy{
		"everything":     {},
		"some slots":     {Slots: []Slot{Embed, Q, FFNUp, Logits}},
		"one layer":      {Layers: []int{1}},
		"layers past n":  {Layers: []int{1, 7, 9}},
		"prompt only":    {Steps: []int{0}},
		"decode only":    {Steps: []int{2, 3}},
		"last position":  {Positions: Positions{Last: true}},
		"some positions": {Positions: Positions{List: []int{0, 4, 6, 11}}},
		"combined":       {Slots: []Slot{K, Out}, Layers: []int{0}, Steps: []int{0, 1}, Positions: Positions{List: []int{1, 5}}},
	} {
		p.Mode = ModeFull
		tr := record(t, e, p)
		var held int64
		for _, r := range tr.Records {
			held += 4 * int64(len(r.Full))
		}
		if got := p.FullBytes(testDims, e.prompt, e.steps); got != held || held == 0 {
			t.Errorf("%s: estimate %d bytes, the recorder holds %d", name, got, held)
		}
	}
	huge := Dims{Embd: 1 << 20, Layers: 1 << 20, Heads: 1 << 10, KVHeads: 1 << 10, HeadDim: 1 << 10, FF: 1 << 24, Vocab: 1 << 24}
	if got := (Policy{}).FullBytes(huge, 1<<24, 1<<20); got != math.MaxInt64 {
		t.Errorf("a capture beyond int64 estimates %d bytes", got)
	}
}
