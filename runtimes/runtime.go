package runtimes

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/aprengine"
	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/ggufengine"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/runtimes/tokenizer"
)

// Runtime is a model loaded into an engine: something that turns token ids
// into logits and records what every layer computed on the way.
type Runtime interface {
	// Engine names the engine: "gguf", "apr" or "llamacpp".
	Engine() string
	// Model identifies the model file for trace headers.
	Model() probes.Model
	// Options lists the engine settings a trace header records.
	Options() map[string]string
	// Tokenizer returns the model's tokenizer.
	Tokenizer() (*tokenizer.Tokenizer, error)
	// Run feeds the prompt as step 0, then Decode single-token steps, and
	// records into rec (which may be nil).
	Run(ctx context.Context, req Request, rec *probes.Recorder) (*Result, error)
	Close() error
}

// Request is one run: a prompt and how many greedy steps follow it.
type Request struct {
	Prompt []int32
	// Decode is the number of single-token steps after the prompt.
	Decode int
	// Force, when set, is fed at the decode steps instead of the runtime's
	// own argmax (teacher forcing: B follows A's tokens so that every step
	// sees the same positions and ids). len(Force) must be ≥ Decode.
	Force []int32
	// StopAt ends decoding early after producing any of these ids (EOS).
	StopAt []int32
	// Progress, if set, is called after each step with the step number.
	Progress func(step int)
}

// Result is what a run produced.
type Result struct {
	// Next is the argmax of each step's last position: Next[0] follows the
	// prompt, Next[n] follows decode step n.
	Next []int32
	// Logits holds each step's last-position logits.
	Logits [][]float32
	// Fed is every id fed, in position order: the prompt, then one id per
	// decode step. It is what a trace header records as its tokens.
	Fed []int32
}

// Options are the engine settings Open understands.
type Options struct {
	Threads int       // 0: all cores
	KVType  ggml.Type // f32 (default) or f16
	// FlashAttn runs the GGUF engine's attention as ggml-cpu's flash
	// attention (ggufengine.Options.FlashAttn); with KVType f16 that is
	// llama.cpp's default mode.
	FlashAttn bool

	// llamacpp engine (see llamacpp.Options): the llama.cpp program
	// ("": $PARITY_LLAMA_BIN, then a built llama-dump), the mode ("exact"
	// or "default") and a time limit per run (0: none).
	LlamaBin  string
	LlamaMode string
	Timeout   time.Duration

	// Faults plants bugs in an in-process engine (tests, parity selftest).
	Faults faults.Set
	// F32Activations runs the GGUF engine without activation quantization
	// (the noise-floor measurement; see NoiseFloor).
	F32Activations bool
}

// Engines lists the engine names Open accepts.
var Engines = []string{"gguf", "apr", "llamacpp"}

// Open loads path into the named engine.
func Open(path, engine string, o Options) (Runtime, error) {
	switch engine {
	case "gguf":
		w, err := model.Open(path)
		if err != nil {
			return nil, err
		}
		e, err := ggufengine.New(w, ggufengine.Options{Threads: o.Threads, KVType: o.KVType, FlashAttn: o.FlashAttn, Faults: o.Faults, F32Activations: o.F32Activations})
		if err != nil {
			w.Close()
			return nil, err
		}
		opts := map[string]string{"kv_type": kvName(o.KVType), "matmul": "quantized, activations in vec_dot_type", "attention": "f32, no flash attention"}
		if o.FlashAttn {
			opts["attention"] = "flash attention (ggml-cpu kernels, f16 K/V)"
		}
		if o.F32Activations {
			opts["matmul"] = "dequantized weights, f32 activations"
		}
		addFaults(opts, o.Faults)
		return &inProcess{engine: "gguf", w: w, fwd: e, opts: opts}, nil
	case "apr":
		if o.KVType != 0 && o.KVType != ggml.F32 {
			return nil, fmt.Errorf("runtimes: the apr engine keeps an f32 KV cache, not %s", o.KVType)
		}
		if o.FlashAttn {
			return nil, fmt.Errorf("runtimes: the apr engine has no flash attention")
		}
		w, err := model.Open(path)
		if err != nil {
			return nil, err
		}
		e, err := aprengine.New(w, aprengine.Options{Threads: o.Threads, Faults: o.Faults})
		if err != nil {
			w.Close()
			return nil, err
		}
		opts := map[string]string{"kv_type": "f32", "matmul": "f32 dequantized weights (tiled), f32 activations, 16-lane f32 FMA sums",
			"attention": "float64 scores and softmax", "norm": "divide by rms (float64)", "rope": "pow per index (float64)"}
		addFaults(opts, o.Faults)
		return &inProcess{engine: "apr", w: w, fwd: e, opts: opts}, nil
	case "llamacpp":
		return openLlamaCpp(path, o)
	}
	return nil, fmt.Errorf("runtimes: unknown engine %q (want %s)", engine, strings.Join(Engines, ", "))
}

// addFaults records planted faults in the engine options, so a trace taken
// from a faulted engine says so in its header.
func addFaults(opts map[string]string, fs faults.Set) {
	if len(fs) == 0 {
		return
	}
	names := make([]string, len(fs))
	for i, f := range fs {
		names[i] = f.String()
	}
	opts["faults"] = strings.Join(names, ",")
}

func kvName(t ggml.Type) string {
	if t == 0 {
		return "f32"
	}
	return t.String()
}

// forwarder is what an in-process engine provides.
type forwarder interface {
	Forward(ctx context.Context, step int, tokens []int32, rec *probes.Recorder) ([]float32, error)
	Reset()
}

// inProcess adapts an engine of this repository to Runtime.
type inProcess struct {
	engine string
	w      *model.Weights
	fwd    forwarder
	opts   map[string]string
	info   *probes.Model
}

func (r *inProcess) Engine() string             { return r.engine }
func (r *inProcess) Options() map[string]string { return r.opts }
func (r *inProcess) Close() error               { return r.w.Close() }

func (r *inProcess) Tokenizer() (*tokenizer.Tokenizer, error) { return r.w.Tokenizer() }

func (r *inProcess) Model() probes.Model {
	if r.info == nil {
		m := modelInfo(r.w)
		r.info = &m
	}
	return *r.info
}

// modelInfo fills the trace header's model block. The SHA-256 makes two
// traces of "the same file" verifiably so.
func modelInfo(w *model.Weights) probes.Model {
	c := w.Config
	m := probes.Model{Path: w.Path, Arch: c.Arch.Name, Dims: probes.Dims{
		Embd: c.NEmbd, Layers: c.NLayer, Heads: c.NHead, KVHeads: c.NHeadKV, HeadDim: c.HeadDim,
		FF: c.NFF, Vocab: c.NVocab, Experts: c.NExpert, ExpertsUsed: c.NExpertUsed}}
	if f, err := os.Open(w.Path); err == nil {
		h := sha256.New()
		if n, err := io.Copy(h, f); err == nil {
			m.Size, m.SHA256 = n, hex.EncodeToString(h.Sum(nil))
		}
		f.Close()
	}
	return m
}

func (r *inProcess) Run(ctx context.Context, req Request, rec *probes.Recorder) (*Result, error) {
	if err := CheckRequest(req, r.w.Config.NVocab, r.w.Config.NCtx); err != nil {
		return nil, err
	}
	r.fwd.Reset()
	vocab := r.w.Config.NVocab
	res := &Result{Fed: append([]int32(nil), req.Prompt...)}
	logits, err := r.fwd.Forward(ctx, 0, req.Prompt, rec)
	if err != nil {
		return nil, err
	}
	for step := 0; ; step++ {
		last := logits[len(logits)-vocab:]
		next := Argmax(last)
		res.Next = append(res.Next, next)
		res.Logits = append(res.Logits, append([]float32(nil), last...))
		if req.Progress != nil {
			req.Progress(step)
		}
		if step == req.Decode || (req.Force == nil && contains(req.StopAt, next)) {
			return res, nil
		}
		feed := next
		if req.Force != nil {
			feed = req.Force[step]
		}
		res.Fed = append(res.Fed, feed)
		if logits, err = r.fwd.Forward(ctx, step+1, []int32{feed}, rec); err != nil {
			return nil, err
		}
	}
}

// Argmax returns the index of the largest value; ties go to the lowest
// index, as llama.cpp's greedy sampler (std::max_element) decides them.
func Argmax(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int32(best)
}

func contains(ids []int32, id int32) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// Header builds a trace header for a run of rt over the fed tokens.
func Header(rt Runtime, fed []int32, promptLen int, p probes.Policy, tool string) probes.Header {
	h := probes.Header{Runtime: "parity", Engine: rt.Engine(), EngineOptions: rt.Options(), Model: rt.Model(), Policy: p, Tool: tool}
	h.SetTokens(fed, promptLen)
	return h
}

// ParseTokens parses "1,2,3" (spaces allowed) into token ids.
func ParseTokens(s string) ([]int32, error) {
	var out []int32
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		v, err := strconv.ParseInt(f, 10, 32)
		if err != nil || v < 0 {
			return nil, fmt.Errorf("runtimes: bad token id %q in --tokens (want comma-separated non-negative integers)", f)
		}
		out = append(out, int32(v))
	}
	if len(out) == 0 {
		return nil, errors.New("runtimes: --tokens is empty")
	}
	return out, nil
}

// SortedOptions renders engine options as "k=v, …" in key order.
func SortedOptions(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ", ")
}
