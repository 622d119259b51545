package diff_test

import (
	"math"
	"strconv"
	"testing"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/stats"
)

// spec describes a synthetic record: its key, positions and one row of
// values per position, and what the trace kept of it.
type spec struct {
	step, layer int
	slot        probes.Slot
	pos         []int
	rows        [][]float32

	full     bool    // keep the full tensor
	noPerPos bool    // drop the per-position summaries (aggregate only)
	partial  bool    // printed values only: Known at known, Sum if sum
	known    []int64 // flat indices printed by a partial record
	sum      bool
}

// build turns a spec into a record the way the Recorder (or, for a partial
// record, the llama.cpp text parser) would: per-position summaries by
// AddSlice, the aggregate as their ordered merge, printed values rounded
// to 4 decimals, the sum accumulated in float32.
func (s spec) build() probes.Record {
	r := probes.Record{Step: s.step, Layer: s.layer, Slot: s.slot, Positions: s.pos, PerToken: len(s.rows[0])}
	if s.slot.Global() {
		r.Layer = -1
	}
	r.Count = int64(len(s.pos) * r.PerToken)
	var flat []float32
	for _, row := range s.rows {
		flat = append(flat, row...)
	}
	if s.partial {
		r.Partial = true
		for _, i := range s.known {
			v, _ := strconv.ParseFloat(strconv.FormatFloat(float64(flat[i]), 'f', 4, 32), 32)
			r.Known = append(r.Known, probes.Known{Index: i, Value: float32(v)})
		}
		if s.sum {
			var acc float32
			for _, v := range flat {
				acc += v
			}
			sum := float64(acc)
			r.Sum = &sum
		}
		return r
	}
	r.PerPos = make([]stats.Summary, len(s.rows))
	for i, row := range s.rows {
		r.PerPos[i].AddSlice(row)
	}
	r.Stats = stats.MergeAll(r.PerPos)
	if s.noPerPos {
		r.PerPos = nil
	}
	if s.full {
		r.Full = flat
	}
	return r
}

// trace returns a valid trace over tokens with the records.
func trace(t testing.TB, tokens []int32, promptLen int, recs ...probes.Record) *probes.Trace {
	t.Helper()
	tr := &probes.Trace{Header: probes.Header{Runtime: "parity", Engine: "test", Model: probes.Model{Path: "m.gguf", Arch: "llama"}}, Records: recs}
	tr.Header.SetTokens(tokens, promptLen)
	if err := tr.Validate(); err != nil {
		t.Fatalf("test trace invalid: %v", err)
	}
	return tr
}

// tokens returns n distinct ids.
func tokens(n int) []int32 {
	out := make([]int32, n)
	for i := range out {
		out[i] = int32(10 + i)
	}
	return out
}

// rows returns deterministic rows for positions, per elements each: row p
// is scale(p)·(sin-like pattern) so every position has its own moments.
func rows(pos []int, per int, scale func(p int) float64) [][]float32 {
	out := make([][]float32, len(pos))
	for i, p := range pos {
		out[i] = make([]float32, per)
		for j := range out[i] {
			out[i][j] = float32(scale(p) * (math.Sin(float64(3*p+7*j+1)) + 0.1*float64(j%3)))
		}
	}
	return out
}

func one(int) float64 { return 1 }

func span(a, b int) []int {
	var out []int
	for p := a; p <= b; p++ {
		out = append(out, p)
	}
	return out
}

// perturb returns a copy of rs with every element scaled by (1+eps·sign).
func perturb(rs [][]float32, eps float64) [][]float32 {
	out := make([][]float32, len(rs))
	for i, r := range rs {
		out[i] = make([]float32, len(r))
		for j, v := range r {
			s := 1.0
			if (i+j)%2 == 1 {
				s = -1
			}
			out[i][j] = float32(float64(v) * (1 + eps*s))
		}
	}
	return out
}
