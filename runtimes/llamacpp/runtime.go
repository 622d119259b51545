package llamacpp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/runtimes/tokenizer"
)

// Options configure the adapter.
type Options struct {
	// Bin is the llama.cpp program to run: the project's dumper (built by
	// `make llama-dump LLAMA_CPP_DIR=…`), or a stock llama-eval-callback or
	// llama-debug, told apart by file name. Empty: $PARITY_LLAMA_BIN, then
	// llama-dump beside the running executable, then llama-dump and
	// llama-eval-callback on $PATH.
	Bin string
	// Mode is "exact" (the default: -fa off -ctk f32 -ctv f32, every
	// prompt position's logits) or "default" (llama.cpp's defaults: flash
	// attention, f16 KV cache, last-position logits only).
	Mode string
	// Timeout bounds one run; 0 means no limit.
	Timeout time.Duration
	// Threads is llama.cpp's -t; 0 leaves llama.cpp's default.
	Threads int
}

// Modes lists the values Options.Mode accepts.
var Modes = []string{"exact", "default"}

// EnvBin is the environment variable naming the llama.cpp program.
const EnvBin = "PARITY_LLAMA_BIN"

// tool is the kind of program Bin is.
type tool uint8

const (
	toolDump         tool = iota // the project's dumper: full tensors, decode steps
	toolEvalCallback             // stock llama-eval-callback: printed elements, prompt only
	toolDebug                    // stock llama-debug --no-warmup: likewise
)

func toolOf(bin string) tool {
	name := strings.TrimSuffix(filepath.Base(bin), ".exe")
	switch {
	case strings.Contains(name, "eval-callback"):
		return toolEvalCallback
	case strings.Contains(name, "llama-debug"):
		return toolDebug
	}
	return toolDump
}

func (t tool) String() string {
	return [...]string{"llama-dump (full tensors)", "llama-eval-callback (stock: printed elements and sums)",
		"llama-debug (stock: printed elements and sums)"}[t]
}

// howToBuild is the advice of every "no binary" error.
const howToBuild = "build the project's dumper with `make llama-dump LLAMA_CPP_DIR=/path/to/llama.cpp` " +
	"(against an existing llama.cpp build), or point --llama-bin or " + EnvBin + " at llama-eval-callback " +
	"(stock: printed elements only, prompt only)"

// findBin resolves Options.Bin.
func findBin(bin string) (string, error) {
	if bin == "" {
		bin = os.Getenv(EnvBin)
	}
	if bin != "" {
		p, err := exec.LookPath(bin)
		if err != nil {
			return "", fmt.Errorf("%w: %s: %w; %s", ErrNoBinary, bin, err, howToBuild)
		}
		return p, nil
	}
	var tried []string
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), "llama-dump")
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
		tried = append(tried, p)
	}
	for _, name := range []string{"llama-dump", "llama-eval-callback"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
		tried = append(tried, name+" on $PATH")
	}
	return "", fmt.Errorf("%w (tried %s, and %s is unset): %s", ErrNoBinary, strings.Join(tried, ", "), EnvBin, howToBuild)
}

// Runtime runs a GGUF model through the user's llama.cpp as a subprocess
// and feeds what it computed to a probes.Recorder. It reads the model file
// itself only for its configuration and tokenizer.
type Runtime struct {
	path string
	w    *model.Weights
	bin  string
	tool tool
	opts Options
	info *probes.Model
	last Report
}

// Open prepares a run of the GGUF model at path. It fails with ErrNoBinary
// when no llama.cpp program can be found, saying how to build one.
func Open(path string, o Options) (*Runtime, error) {
	if o.Mode == "" {
		o.Mode = "exact"
	}
	if !slices.Contains(Modes, o.Mode) {
		return nil, fmt.Errorf("llamacpp: unknown mode %q (want %s)", o.Mode, strings.Join(Modes, " or "))
	}
	if o.Timeout < 0 || o.Threads < 0 {
		return nil, errors.New("llamacpp: negative timeout or thread count")
	}
	bin, err := findBin(o.Bin)
	if err != nil {
		return nil, err
	}
	w, err := model.OpenGGUF(path)
	if err != nil {
		return nil, fmt.Errorf("llamacpp: llama.cpp reads GGUF files only: %w", err)
	}
	return &Runtime{path: path, w: w, bin: bin, tool: toolOf(bin), opts: o}, nil
}

// Engine returns "llamacpp".
func (r *Runtime) Engine() string { return "llamacpp" }

// Close releases the model file.
func (r *Runtime) Close() error { return r.w.Close() }

// Tokenizer returns the model's own tokenizer (runtimes/model), which
// parity uses to turn --prompt into ids; stock runs check that llama.cpp
// tokenized to the same ids.
func (r *Runtime) Tokenizer() (*tokenizer.Tokenizer, error) { return r.w.Tokenizer() }

// Model identifies the model file for trace headers.
func (r *Runtime) Model() probes.Model {
	if r.info == nil {
		c := r.w.Config
		m := probes.Model{Path: r.path, Arch: c.Arch.Name, Dims: r.dims()}
		if f, err := os.Open(r.path); err == nil {
			h := sha256.New()
			if n, err := io.Copy(h, f); err == nil {
				m.Size, m.SHA256 = n, hex.EncodeToString(h.Sum(nil))
			}
			f.Close()
		}
		r.info = &m
	}
	return *r.info
}

func (r *Runtime) dims() probes.Dims {
	c := r.w.Config
	return probes.Dims{Embd: c.NEmbd, Layers: c.NLayer, Heads: c.NHead, KVHeads: c.NHeadKV, HeadDim: c.HeadDim,
		FF: c.NFF, Vocab: c.NVocab, Experts: c.NExpert, ExpertsUsed: c.NExpertUsed}
}

// Options lists the settings a trace header records, and what the last
// run found besides its records: slots llama.cpp does not hold
// ("unavailable"), slots derived from other nodes ("derived") and node
// names the adapter does not know ("unmapped").
func (r *Runtime) Options() map[string]string {
	m := map[string]string{"tool": r.tool.String(), "bin": r.bin, "mode": r.opts.Mode,
		"flags": strings.Join(r.modeFlags(), " ")}
	if r.opts.Threads > 0 {
		m["threads"] = strconv.Itoa(r.opts.Threads)
	}
	rep := r.last
	if len(rep.Unavailable) > 0 {
		var s []string
		for _, u := range rep.Unavailable {
			s = append(s, u.Slot.String()+": "+u.Reason)
		}
		m["unavailable"] = strings.Join(s, "; ")
	}
	if len(rep.Derived) > 0 {
		m["derived"] = fmt.Sprintf("%d records (attn_out = ffn_inp − layer input)", len(rep.Derived))
	}
	if len(rep.Unmapped) > 0 {
		m["unmapped"] = strings.Join(rep.Unmapped, ", ")
	}
	return m
}

// LastReport returns what the last successful Run found besides its
// records.
func (r *Runtime) LastReport() Report { return r.last }

// modeFlags are the llama.cpp options of the mode, as its CLI spells them.
func (r *Runtime) modeFlags() []string {
	if r.opts.Mode != "exact" {
		return nil
	}
	f := []string{"-fa", "off", "-ctk", "f32", "-ctv", "f32"}
	if r.tool == toolDump {
		f = append(f, "--all-logits")
	}
	return f
}

// Request is one run: the prompt as step 0, then Decode greedy steps (or
// the Force ids), stopping early at any StopAt id unless forced. It has
// the meaning of runtimes.Request.
type Request struct {
	Prompt   []int32
	Decode   int
	Force    []int32
	StopAt   []int32
	Progress func(step int)
}

// Result is what a run produced, as runtimes.Result: Next[s] is the argmax
// of step s's last-position logits, Logits[s] those logits, Fed every id
// fed. Stock runs return no logits (the tools print 6 of them) and no Next.
type Result struct {
	Next   []int32
	Logits [][]float32
	Fed    []int32
}

// Run runs the request through llama.cpp and feeds rec (which may be nil).
func (r *Runtime) Run(ctx context.Context, req Request, rec *probes.Recorder) (*Result, error) {
	if len(req.Prompt) == 0 {
		return nil, errors.New("llamacpp: empty prompt: nothing to run")
	}
	if req.Decode < 0 || req.Force != nil && len(req.Force) < req.Decode {
		return nil, fmt.Errorf("llamacpp: %d forced tokens for %d decode steps", len(req.Force), req.Decode)
	}
	if r.tool == toolDump {
		return r.runDump(ctx, req, rec)
	}
	return r.runStock(ctx, req, rec)
}

// joinIDs writes ids as "1,2,3".
func joinIDs(ids []int32) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.Itoa(int(id))
	}
	return strings.Join(s, ",")
}

// argmax returns the index of the largest value, ties to the lowest index
// (llama.cpp's greedy sampler, std::max_element).
func argmax(x []float32) int32 {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return int32(best)
}
