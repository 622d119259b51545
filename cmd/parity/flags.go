package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/llamacpp"
)

// promptFlags are shared by every command that runs a model: the input is
// either text, tokenized by the model's own tokenizer, or token ids.
type promptFlags struct {
	prompt       string
	tokens       string
	noSpecial    bool
	parseSpecial bool
}

func (p *promptFlags) register(f *pflag.FlagSet) {
	f.StringVarP(&p.prompt, "prompt", "p", "", "prompt text, tokenized with the model's tokenizer")
	f.StringVar(&p.tokens, "tokens", "", "token ids instead of a prompt, e.g. 1,403,407")
	f.BoolVar(&p.noSpecial, "no-special", false, "do not add BOS/EOS when tokenizing the prompt")
	f.BoolVar(&p.parseSpecial, "parse-special", false, "recognise control tokens such as <|im_start|> in the prompt text")
}

// resolve returns the ids to run.
func (p *promptFlags) resolve(rt runtimes.Runtime) ([]int32, error) {
	switch {
	case p.prompt != "" && p.tokens != "":
		return nil, usageErr(errors.New("give --prompt or --tokens, not both"))
	case p.tokens != "":
		ids, err := runtimes.ParseTokens(p.tokens)
		if err != nil {
			return nil, usageErr(err)
		}
		return ids, nil
	case p.prompt == "":
		return nil, usageErr(errors.New("give --prompt TEXT or --tokens IDS"))
	}
	tok, err := rt.Tokenizer()
	if err != nil {
		return nil, err
	}
	ids, err := tok.Encode(p.prompt, !p.noSpecial, p.parseSpecial)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, usageErr(fmt.Errorf("the prompt %q tokenizes to nothing", p.prompt))
	}
	return ids, nil
}

// engineFlags choose and configure the engine.
type engineFlags struct {
	engine    string
	threads   int
	kvType    string
	flashAttn bool
	llamaBin  string
	llamaMode string
	timeout   time.Duration
}

func (e *engineFlags) register(f *pflag.FlagSet, name, def string) {
	f.StringVar(&e.engine, name, def, "engine: gguf (llama.cpp-faithful), apr (f32 reference) or llamacpp (your llama.cpp build, as a subprocess)")
	f.IntVar(&e.threads, "threads", 0, "matmul threads (0: all cores); results do not depend on it")
	f.StringVar(&e.kvType, "kv-type", "f32", "KV cache type: f32 (llama.cpp -ctk f32) or f16 (llama.cpp's default)")
	f.BoolVar(&e.flashAttn, "flash-attn", false, "gguf engine: ggml-cpu's flash attention (llama.cpp -fa on); --kv-type f16 --flash-attn is llama.cpp's default mode")
	f.StringVar(&e.llamaBin, "llama-bin", "", "llamacpp engine: llama-dump (make llama-dump LLAMA_CPP_DIR=…) or a stock llama-eval-callback; default $"+llamacpp.EnvBin)
	f.StringVar(&e.llamaMode, "llama-mode", "exact", "llamacpp engine: exact (-fa off -ctk f32 -ctv f32, all logits) or default (llama.cpp's defaults)")
	f.DurationVar(&e.timeout, "timeout", 0, "llamacpp engine: time limit per run, e.g. 10m (0: none); its process group is killed")
}

func (e *engineFlags) open(path string) (runtimes.Runtime, error) {
	o, err := e.options()
	if err != nil {
		return nil, err
	}
	return runtimes.Open(path, e.engine, o)
}

// options are the runtime settings the flags describe (all but the engine).
func (e *engineFlags) options() (runtimes.Options, error) {
	kv, err := ggml.ParseType(e.kvType)
	if err != nil || (kv != ggml.F32 && kv != ggml.F16) {
		return runtimes.Options{}, usageErr(fmt.Errorf("--kv-type must be f32 or f16, not %q", e.kvType))
	}
	return runtimes.Options{Threads: e.threads, KVType: kv, FlashAttn: e.flashAttn,
		LlamaBin: e.llamaBin, LlamaMode: e.llamaMode, Timeout: e.timeout}, nil
}

// policyFlags select what a trace captures.
type policyFlags struct {
	full      bool
	slots     string
	layers    string
	positions string
	head      int
}

func (p *policyFlags) register(f *pflag.FlagSet) {
	f.BoolVar(&p.full, "full", false, "keep full tensors (written to a sidecar file) as well as statistics")
	f.StringVar(&p.slots, "slots", "", "slots to capture, comma-separated, globs allowed (e.g. attn_norm,ffn_*); default all")
	f.StringVar(&p.layers, "layers", "", "layers to capture, e.g. 0-3,7; default all")
	f.StringVar(&p.positions, "positions", "all", "token positions to keep: all, last, or a list such as 0,4-6")
	f.IntVar(&p.head, "head", 8, "leading values kept per record")
}

func (p *policyFlags) policy() (probes.Policy, error) {
	pol := probes.Policy{Head: p.head}
	if p.full {
		pol.Mode = probes.ModeFull
	}
	var err error
	if p.slots != "" {
		if pol.Slots, err = probes.ParseSlots(p.slots); err != nil {
			return pol, usageErr(err)
		}
	}
	if p.layers != "" {
		if pol.Layers, err = probes.ParseInts(p.layers); err != nil {
			return pol, usageErr(err)
		}
	}
	if pol.Positions, err = probes.ParsePositions(p.positions); err != nil {
		return pol, usageErr(err)
	}
	if err := pol.Validate(); err != nil {
		return pol, usageErr(err)
	}
	return pol, nil
}
