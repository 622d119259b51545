package runtimes

import (
	"context"
	"fmt"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/stats"
)

// NoiseFloor measures, for every record of a run, the NMSE that
// activation quantization alone causes: the GGUF engine with quantized
// activations (what llama.cpp computes) against the same engine with f32
// activations, on the same weights and tokens. Both runs share every other
// line of code, so the difference is exactly the rounding of activations
// to the weights' vec_dot types, accumulated through the layers — the
// noise two correct engines, one quantizing and one not, are expected to
// show. f32 models have a floor of zero (nothing is quantized).
//
// The prompt is run as step 0 and every id of force as one decode step, so
// the floor lines up with traces of the same tokens. Keys map to the NMSE
// of that record's full tensors (quantized side against f32 side). When
// wantSHA is not empty the file must have that SHA-256 (the model a trace
// was taken from), else the floor would describe another model.
func NoiseFloor(ctx context.Context, path, wantSHA string, prompt, force []int32, threads int) (map[probes.Key]float64, error) {
	policy := probes.Policy{Mode: probes.ModeFull}
	req := Request{Prompt: prompt, Decode: len(force), Force: force}
	var traces [2]*probes.Trace
	for i, f32 := range []bool{false, true} {
		rt, err := Open(path, "gguf", Options{Threads: threads, F32Activations: f32})
		if err != nil {
			return nil, err
		}
		if got := rt.Model().SHA256; wantSHA != "" && got != wantSHA {
			rt.Close()
			return nil, fmt.Errorf("runtimes: noise floor: %s has sha256 %.12s…, the trace was taken from %.12s…", path, got, wantSHA)
		}
		tr, _, err := Trace(ctx, rt, req, policy, "")
		rt.Close()
		if err != nil {
			return nil, fmt.Errorf("runtimes: noise floor: %w", err)
		}
		traces[i] = tr
	}
	floor := make(map[probes.Key]float64, len(traces[0].Records))
	ref := traces[1].Index()
	for _, r := range traces[0].Records {
		o := ref[r.Key()]
		if o == nil {
			continue
		}
		c, err := stats.Compare(o.Full, r.Full)
		if err != nil {
			return nil, fmt.Errorf("runtimes: noise floor %v: %w", r.Key(), err)
		}
		floor[r.Key()] = c.NMSE
	}
	return floor, nil
}
