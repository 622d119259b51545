package runtimes

import (
	"context"

	"github.com/layerwise/parity/probes"
)

// Replayer is what an in-process engine offers teacher forcing: one layer,
// or one operation of a layer, run on inputs taken from another run (see
// ggufengine.Engine.ReplayLayer and ReplayOp for the exact semantics).
// diff.Replayer declares the same methods; engines satisfy both without
// either package importing the other.
type Replayer interface {
	ReplayLayer(ctx context.Context, layer int, x []float32, rec *probes.Recorder) error
	ReplayOp(ctx context.Context, layer int, out probes.Slot, x []float32, in map[probes.Slot][]float32) ([]float32, error)
}

// ReplayerOf returns rt's engine as a Replayer, if it is an in-process
// engine that can replay (the llama.cpp subprocess cannot).
func ReplayerOf(rt Runtime) (Replayer, bool) {
	ip, ok := rt.(*inProcess)
	if !ok {
		return nil, false
	}
	r, ok := ip.fwd.(Replayer)
	return r, ok
}

// QKNorm reports whether the runtime's model has the qwen3 per-head q/k
// norm, which changes the op graph teacher forcing walks.
func QKNorm(rt Runtime) bool {
	ip, ok := rt.(*inProcess)
	return ok && ip.w.Config.Arch.QKNorm
}

// Trace runs req on rt with a Recorder for policy p and returns the trace.
func Trace(ctx context.Context, rt Runtime, req Request, p probes.Policy, tool string) (*probes.Trace, *Result, error) {
	rec, err := probes.NewRecorder(p)
	if err != nil {
		return nil, nil, err
	}
	res, err := rt.Run(ctx, req, rec)
	if err != nil {
		return nil, nil, err
	}
	tr, err := rec.Trace(Header(rt, res.Fed, len(req.Prompt), p, tool))
	if err != nil {
		return nil, nil, err
	}
	return tr, res, nil
}
