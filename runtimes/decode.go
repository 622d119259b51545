package runtimes

import (
	"context"
	"fmt"

	"github.com/layerwise/parity/probes"
)

// PrefillDecode is the KV-cache self-consistency check's data: one runtime
// computes the same sequence twice, and the two traces are shaped so that
// diff.Diff pairs them position by position.
//
// Decode is the ordinary run: the prompt in one batch (step 0), then n
// single-token steps through the KV cache, each feeding the runtime's own
// greedy choice. Prefill is one batch over every id the decode run fed
// (prompt + n tokens), recorded with full tensors and then re-split by
// position into the decode run's steps: row p goes to step 0 when p is a
// prompt position and to step p − len(prompt) + 1 otherwise, the step that
// fed p in the decode run.
// Both traces carry the same header tokens, so record (step, layer, slot)
// of one covers exactly the positions of the other's.
//
// A correct engine computes position p from p's own row and the cached
// keys and values of positions < p, whichever way they were batched, so
// the two traces agree up to summation order. An error in the cache (a row
// written to the wrong place, K and V swapped, a decode-only RoPE offset)
// exists only on the decode side and shows at the first step it touches,
// without a second runtime to compare with. Prefill is the reference (A).
//
// The policy p applies to both traces; the prefill run always keeps full
// tensors internally, since re-splitting needs the rows. It fails if the
// runtime returns a record without full tensors (a partial record of a
// stock llama.cpp tool), which cannot be split by position.
func PrefillDecode(ctx context.Context, rt Runtime, prompt []int32, n int, p probes.Policy, tool string) (prefill, decode *probes.Trace, err error) {
	decode, res, err := Trace(ctx, rt, Request{Prompt: prompt, Decode: n}, p, tool)
	if err != nil {
		return nil, nil, fmt.Errorf("runtimes: decode run: %w", err)
	}
	whole := p
	whole.Mode, whole.Steps, whole.Positions = probes.ModeFull, nil, probes.Positions{}
	full, err := probes.NewRecorder(whole)
	if err != nil {
		return nil, nil, err
	}
	if _, err := rt.Run(ctx, Request{Prompt: res.Fed}, full); err != nil {
		return nil, nil, fmt.Errorf("runtimes: prefill run: %w", err)
	}
	if err := full.Err(); err != nil {
		return nil, nil, err
	}
	split, err := probes.NewRecorder(p)
	if err != nil {
		return nil, nil, err
	}
	pl, recs := len(prompt), full.Records()
	for step := 0; step <= len(res.Fed)-pl; step++ {
		for i := range recs {
			r := &recs[i]
			if r.Full == nil {
				return nil, nil, fmt.Errorf("runtimes: prefill run: %v has no full tensor (a partial record cannot be split by position)", r.Key())
			}
			var pos []int
			var rows []float32
			for j, q := range r.Positions {
				if stepOf(q, pl) == step {
					pos = append(pos, q)
					rows = append(rows, r.Full[j*r.PerToken:(j+1)*r.PerToken]...)
				}
			}
			if len(pos) > 0 {
				split.CaptureAt(step, r.Layer, r.Slot, pos, r.PerToken, rows)
			}
		}
	}
	prefill, err = split.Trace(Header(rt, res.Fed, pl, p, tool))
	if err != nil {
		return nil, nil, fmt.Errorf("runtimes: prefill run: %w", err)
	}
	prefill.Header.EngineOptions = withOption(prefill.Header.EngineOptions, "run", fmt.Sprintf("one prefill of all %d positions, re-split by decode step", len(res.Fed)))
	decode.Header.EngineOptions = withOption(decode.Header.EngineOptions, "run", fmt.Sprintf("prefill of %d, then %d single-token steps through the KV cache", pl, len(res.Fed)-pl))
	return prefill, decode, nil
}

// stepOf is the decode step that feeds position q after a prompt of pl.
func stepOf(q, pl int) int {
	if q < pl {
		return 0
	}
	return q - pl + 1
}

// withOption returns a copy of m with k set to v, so that the two traces'
// headers say how each was run without sharing the runtime's map.
func withOption(m map[string]string, k, v string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for key, val := range m {
		out[key] = val
	}
	out[k] = v
	return out
}
