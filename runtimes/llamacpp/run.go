package llamacpp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/layerwise/parity/probes"
)

// DumpFilter returns the tensor-name filter the dumper gets for arch: the
// exact names of every node the catalog maps to a slot, with or without
// a layer suffix, so that views and cache copies are not dumped.
func DumpFilter(arch string) string {
	var bases []string
	for _, s := range probes.Slots() {
		if g, ok := probes.LlamaCppNode(s, arch); ok && !slices.Contains(bases, g.Base) {
			bases = append(bases, regexp.QuoteMeta(g.Base))
		}
	}
	return `^(` + strings.Join(bases, "|") + `)(-[0-9]+)?$`
}

// runDump runs the project's dumper into a temporary directory and reads
// the dump back.
func (r *Runtime) runDump(ctx context.Context, req Request, rec *probes.Recorder) (*Result, error) {
	dir, err := os.MkdirTemp("", "parity-llama-dump-")
	if err != nil {
		return nil, fmt.Errorf("llamacpp: %w", err)
	}
	defer os.RemoveAll(dir)
	arch := r.w.Config.Arch.Name
	args := []string{"-m", r.path, "-o", dir, "--tokens", joinIDs(req.Prompt), "-n", strconv.Itoa(req.Decode),
		"--mode", r.opts.Mode, "--filter", DumpFilter(arch)}
	if r.opts.Threads > 0 {
		args = append(args, "-t", strconv.Itoa(r.opts.Threads))
	}
	if req.Force != nil && req.Decode > 0 {
		args = append(args, "--force", joinIDs(req.Force[:req.Decode]))
	}
	if req.Force == nil && len(req.StopAt) > 0 {
		args = append(args, "--stop", joinIDs(req.StopAt))
	}
	if err := run(ctx, r.opts.Timeout, r.bin, args, nil, nil); err != nil {
		return nil, err
	}
	d, err := ReadDump(dir)
	if err != nil {
		return nil, fmt.Errorf("llamacpp: reading the dumper's output: %w", err)
	}
	res, err := r.dumpResult(d, req)
	if err != nil {
		return nil, err
	}
	rep, err := d.Capture(rec, arch, r.dims())
	if err != nil {
		return nil, err
	}
	r.last = rep
	if req.Progress != nil {
		for s := range res.Next {
			req.Progress(s)
		}
	}
	return res, nil
}

// dumpResult checks the dump against the request and reads its logits.
func (r *Runtime) dumpResult(d *Dump, req Request) (*Result, error) {
	if !slices.Equal(d.Prompt, req.Prompt) {
		return nil, fmt.Errorf("%w: prompt\n    requested %v\n    llama.cpp %v", ErrTokens, req.Prompt, d.Prompt)
	}
	steps := len(d.Gen) + 1
	if len(d.Gen) > req.Decode || (len(d.Entries) > 0 && d.Steps() != steps) {
		return nil, fmt.Errorf("llamacpp: the dump has %d steps and %d generated tokens for %d decode steps", d.Steps(), len(d.Gen), req.Decode)
	}
	if req.Force != nil && !slices.Equal(d.Gen, req.Force[:len(d.Gen)]) {
		return nil, fmt.Errorf("%w: forced tokens\n    requested %v\n    llama.cpp %v", ErrTokens, req.Force[:req.Decode], d.Gen)
	}
	vocab := r.w.Config.NVocab
	res := &Result{Fed: append(slices.Clone(d.Prompt), d.Gen...)}
	for s := range steps {
		name := fmt.Sprintf("logits-step%03d.npy", s)
		data, shape, err := ReadNPY(filepath.Join(d.Dir, name))
		if err != nil {
			return nil, err
		}
		if len(shape) != 2 || shape[1] != int64(vocab) || shape[0] < 1 {
			return nil, fmt.Errorf("llamacpp: %s has shape %v, want [n_outputs, %d]", name, shape, vocab)
		}
		last := data[len(data)-vocab:]
		next := argmax(last)
		if req.Force == nil && s < len(d.Gen) && d.Gen[s] != next {
			return nil, fmt.Errorf("llamacpp: the dumper fed %d after step %d, but its logits' argmax is %d", d.Gen[s], s, next)
		}
		res.Next = append(res.Next, next)
		res.Logits = append(res.Logits, slices.Clone(last))
	}
	if n := len(d.Gen); n < req.Decode && (req.Force != nil || !slices.Contains(req.StopAt, res.Next[n])) {
		return nil, fmt.Errorf("llamacpp: the dumper stopped after %d of %d decode steps without a stop token", n, req.Decode)
	}
	return res, nil
}

// runStock runs llama-eval-callback or llama-debug on the prompt's text,
// checks that llama.cpp tokenized it to the requested ids, and parses the
// printed tensors as it streams.
func (r *Runtime) runStock(ctx context.Context, req Request, rec *probes.Recorder) (*Result, error) {
	if req.Decode > 0 {
		return nil, fmt.Errorf("llamacpp: %s runs the prompt only (one decode, no generation); "+
			"for %d decode steps build the dumper with `make llama-dump LLAMA_CPP_DIR=…`", filepath.Base(r.bin), req.Decode)
	}
	tok, err := r.Tokenizer()
	if err != nil {
		return nil, err
	}
	// eval-callback tokenizes with parse_special, so control tokens are
	// written as their text; llama-debug does not parse them.
	text, err := tok.Detokenize(req.Prompt, true, r.tool == toolEvalCallback)
	if err != nil {
		return nil, fmt.Errorf("llamacpp: the prompt ids cannot be written as text for %s: %w", filepath.Base(r.bin), err)
	}
	args := []string{"-m", r.path, "-p", text}
	if n := len(req.Prompt); n > 512 { // one ubatch, so that each node is printed once
		args = append(args, "-c", strconv.Itoa(max(n, 4096)), "-b", strconv.Itoa(n), "-ub", strconv.Itoa(n))
	}
	if r.opts.Threads > 0 {
		args = append(args, "-t", strconv.Itoa(r.opts.Threads))
	}
	if r.tool == toolDebug {
		args = append(args, "--no-warmup")
	}
	args = append(args, r.modeFlags()...)
	var out *Text
	for attempt := 1; ; attempt++ {
		out, err = r.stockOnce(ctx, args, text, req.Prompt)
		if !errors.Is(err, ErrTruncated) || attempt == stockAttempts {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	rep, err := out.Capture(rec, r.w.Config.Arch.Name, r.dims(), len(req.Prompt))
	if err != nil {
		return nil, err
	}
	r.last = rep
	if req.Progress != nil {
		req.Progress(0)
	}
	return &Result{Fed: slices.Clone(req.Prompt)}, nil
}

// stockAttempts is how often a stock run whose output was cut short is
// tried: llama.cpp 3f545bec loses the end of its output in about half of
// the runs (the logger bug), and the runs are otherwise deterministic.
const stockAttempts = 3

// stockOnce runs the stock tool once and checks its tokens and output.
func (r *Runtime) stockOnce(ctx context.Context, args []string, text string, prompt []int32) (*Text, error) {
	var out *Text
	var tl tokenLog
	err := run(ctx, r.opts.Timeout, r.bin, args, func(rd io.Reader) error {
		var err error
		out, err = ParseText(rd)
		return err
	}, tl.line)
	if err != nil {
		return nil, err
	}
	got := out.Tokens
	if r.tool == toolEvalCallback {
		got = nil
		if tl.done {
			got = tl.ids
		}
	}
	// Other tokens make the output worthless, truncated or not; a missing
	// list may just have been lost with the end of the output (llama-debug
	// prints it last).
	if got != nil && !slices.Equal(got, prompt) {
		return nil, fmt.Errorf("%w: llama.cpp tokenized %q differently\n    requested %v\n    llama.cpp %v",
			ErrTokens, text, prompt, got)
	}
	if out.Truncated != "" {
		return nil, fmt.Errorf("%w in %d runs, the last time: %s; llama.cpp at 3f545bec loses queued log lines at exit "+
			"(common/log.cpp), so rerun, or use the dumper, which writes files", ErrTruncated, stockAttempts, out.Truncated)
	}
	if got == nil {
		return nil, fmt.Errorf("%w: %s printed no token list, so the run cannot be shown to be over the requested ids %v",
			ErrTokens, filepath.Base(r.bin), prompt)
	}
	return out, oneUbatch(out, len(prompt))
}

// oneUbatch checks that the text holds one ubatch over the whole prompt:
// a single embd node with a row per prompt token.
func oneUbatch(t *Text, n int) error {
	count := 0
	for _, x := range t.Tensors {
		if x.Name != "embd" {
			continue
		}
		count++
		if x.Ne[1] != int64(n) || count > 1 {
			return fmt.Errorf("llamacpp: the output holds an embd of %d rows (occurrence %d) for a prompt of %d tokens: "+
				"llama.cpp split the prompt into ubatches", x.Ne[1], count, n)
		}
	}
	return nil
}
