package runtimes

import (
	"context"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/llamacpp"
)

// subprocess adapts llamacpp.Runtime, which cannot import this package, to
// Runtime.
type subprocess struct{ *llamacpp.Runtime }

func openLlamaCpp(path string, o Options) (Runtime, error) {
	rt, err := llamacpp.Open(path, llamacpp.Options{Bin: o.LlamaBin, Mode: o.LlamaMode, Timeout: o.Timeout, Threads: o.Threads})
	if err != nil {
		return nil, err
	}
	return subprocess{rt}, nil
}

func (s subprocess) Run(ctx context.Context, req Request, rec *probes.Recorder) (*Result, error) {
	// llama.cpp sizes its context to the request, so only the ids are
	// checked: out-of-vocabulary ids abort llama.cpp with a less clear message.
	if err := CheckRequest(req, s.Model().Dims.Vocab, 0); err != nil {
		return nil, err
	}
	res, err := s.Runtime.Run(ctx, llamacpp.Request{Prompt: req.Prompt, Decode: req.Decode, Force: req.Force,
		StopAt: req.StopAt, Progress: req.Progress}, rec)
	if err != nil {
		return nil, err
	}
	return &Result{Next: res.Next, Logits: res.Logits, Fed: res.Fed}, nil
}
