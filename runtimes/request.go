package runtimes

import (
	"errors"
	"fmt"
)

// Errors of a request no engine can run, found before any engine starts
// (the engines check the same conditions again, as a backstop).
var (
	// ErrEmptyPrompt: a request without prompt ids.
	ErrEmptyPrompt = errors.New("runtimes: empty prompt: nothing to run")
	// ErrTokenID: a prompt or forced id outside [0, n_vocab).
	ErrTokenID = errors.New("runtimes: token id outside the vocabulary")
	// ErrContext: prompt and decode steps together longer than the
	// model's context.
	ErrContext = errors.New("runtimes: longer than the model's context")
)

// CheckRequest checks req against a model of vocab ids and a context of
// nCtx positions (0: unknown, not checked): a prompt, every prompt and
// forced id inside the vocabulary, enough forced ids for the decode
// steps, the prompt within the context, and the prompt plus the decode
// steps too unless the run may stop early at a StopAt id.
func CheckRequest(req Request, vocab, nCtx int) error {
	if len(req.Prompt) == 0 {
		return ErrEmptyPrompt
	}
	if req.Decode < 0 {
		return fmt.Errorf("runtimes: %d decode steps", req.Decode)
	}
	if req.Force != nil && len(req.Force) < req.Decode {
		return fmt.Errorf("runtimes: %d forced tokens for %d decode steps", len(req.Force), req.Decode)
	}
	for i, id := range req.Prompt {
		if id < 0 || int(id) >= vocab {
			return fmt.Errorf("%w: id %d at prompt position %d; the model's ids are 0..%d", ErrTokenID, id, i, vocab-1)
		}
	}
	for i, id := range req.Force[:min(len(req.Force), req.Decode)] {
		if id < 0 || int(id) >= vocab {
			return fmt.Errorf("%w: forced id %d at decode step %d; the model's ids are 0..%d", ErrTokenID, id, i+1, vocab-1)
		}
	}
	if nCtx <= 0 {
		return nil
	}
	if len(req.Prompt) > nCtx {
		return fmt.Errorf("%w: the prompt has %d tokens, the model's context is %d", ErrContext, len(req.Prompt), nCtx)
	}
	// A run that may stop at an end-of-generation token may also end
	// before the context does; the engine stops it there otherwise.
	mayStop := req.Force == nil && len(req.StopAt) > 0
	if n := len(req.Prompt) + req.Decode; n > nCtx && !mayStop {
		return fmt.Errorf("%w: %d prompt tokens and %d decode steps need %d positions, the model's context is %d",
			ErrContext, len(req.Prompt), req.Decode, n, nCtx)
	}
	return nil
}
