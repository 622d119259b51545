package probes

import (
	"math"
	"math/rand/v2"
	"testing"
)

// testDims is a tiny model in which every slot has a size.
var testDims = Dims{Embd: 8, Layers: 2, Heads: 2, KVHeads: 1, HeadDim: 4, FF: 12, Vocab: 20, Experts: 4, ExpertsUsed: 2}

// fakeEngine imitates an engine's capture calls: a prefill over the prompt
// (optionally in chunks, as ubatches), then one-token decode steps,
// calling the recorder unconditionally at every slot in execution order.
// The values are a deterministic function of (step, layer, slot, position)
// so that a chunked and an unchunked run capture the same rows.
type fakeEngine struct {
	prompt, steps, chunk int
	special              bool // put NaN and ±Inf in some values
}

func (e fakeEngine) rows(k Key, pos0, n, perToken int) []float32 {
	out := make([]float32, 0, n*perToken)
	for p := pos0; p < pos0+n; p++ {
		r := rand.New(rand.NewPCG(uint64(k.Step)<<32|uint64(k.Layer+1)<<16|uint64(k.Slot), uint64(p)))
		for range perToken {
			v := float32(r.NormFloat64() * float64(1+k.Layer))
			if e.special {
				switch r.IntN(40) {
				case 0:
					v = float32(math.NaN())
				case 1:
					v = float32(math.Inf(1))
				case 2:
					v = 0
				}
			}
			out = append(out, v)
		}
	}
	return out
}

func (e fakeEngine) run(rec *Recorder) {
	capture := func(step, layer int, s Slot, pos0, n int) {
		per := s.PerToken(testDims)
		chunk := e.chunk
		if chunk <= 0 {
			chunk = n
		}
		for c := 0; c < n; c += chunk {
			m := min(chunk, n-c)
			data := e.rows(Key{step, layer, s}, pos0+c, m, per)
			rec.Capture(step, layer, s, pos0+c, per, data)
			clear(data) // the engine reuses its buffer
		}
	}
	for step := 0; step <= e.steps; step++ {
		pos0, n := 0, e.prompt
		if step > 0 {
			pos0, n = e.prompt+step-1, 1
		}
		capture(step, -1, Embed, pos0, n)
		for layer := range testDims.Layers {
			for _, s := range Slots() {
				if !s.Global() {
					capture(step, layer, s, pos0, n)
				}
			}
		}
		capture(step, -1, FinalNorm, pos0, n)
		capture(step, -1, Logits, pos0, n)
	}
}

// testHeader returns a header for a fakeEngine run.
func testHeader(e fakeEngine) Header {
	h := Header{
		Runtime: "parity", Engine: "fake",
		EngineOptions: map[string]string{"threads": "2", "kv": "f32"},
		Model:         Model{Path: "models/tiny.gguf", Size: 1234, Arch: "qwen2", Dims: testDims},
		Tool:          "probes test",
	}
	ids := make([]int32, e.prompt+e.steps)
	for i := range ids {
		ids[i] = int32(100 + 7*i)
	}
	h.SetTokens(ids, e.prompt)
	return h
}

// record runs the engine under the policy and returns the trace.
func record(t testing.TB, e fakeEngine, p Policy) *Trace {
	t.Helper()
	rec, err := NewRecorder(p)
	if err != nil {
		t.Fatal(err)
	}
	e.run(rec)
	tr, err := rec.Trace(testHeader(e))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}
