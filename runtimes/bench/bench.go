package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/aprengine"
	"github.com/layerwise/parity/runtimes/ggufengine"
	"github.com/layerwise/parity/runtimes/model"
)

// Config says what to measure.
type Config struct {
	Model     string // .gguf or .apr file
	Engine    string // "gguf" (default) or "apr"
	PromptLen int    // prompt tokens of the prefill; 0 means 64
	Gen       int    // decode steps; 0 means 32
	Threads   int    // engine threads (and llama-bench -t); 0 means GOMAXPROCS
	Reps      int    // measured repetitions after the warm-up; 0 means 2
	Trace     bool   // also run with a stats Recorder and report the ratio
	// AllLogits makes the engine compute the logits of every prompt
	// position, as parity's traces need; by default it computes the last
	// position's only (Options.LastLogits), as llama-bench's prompt test
	// does, so both do the same work.
	AllLogits bool
	// LlamaBench is the path of llama.cpp's llama-bench; empty skips it.
	LlamaBench string
	// LlamaModel is the file llama-bench runs; empty means Model. An APR
	// model needs it (llama.cpp reads GGUF only): the GGUF it was
	// converted from, so both sides run the same weights.
	LlamaModel string
}

func (c *Config) defaults() error {
	if c.Engine == "" {
		c.Engine = "gguf"
	}
	if c.Engine != "gguf" && c.Engine != "apr" {
		return fmt.Errorf("bench: unknown engine %q (gguf or apr)", c.Engine)
	}
	if c.PromptLen == 0 {
		c.PromptLen = 64
	}
	if c.Gen == 0 {
		c.Gen = 32
	}
	if c.Threads <= 0 {
		c.Threads = runtime.GOMAXPROCS(0)
	}
	if c.Reps <= 0 {
		c.Reps = 2
	}
	if c.PromptLen < 1 || c.Gen < 1 {
		return fmt.Errorf("bench: prompt length %d and generated tokens %d must be positive", c.PromptLen, c.Gen)
	}
	return nil
}

// Speed is one measurement: tokens per second of a prefill and of decoding.
type Speed struct {
	PrefillTokS float64
	DecodeTokS  float64
}

// Result is what Run measured.
type Result struct {
	Config   Config
	FileSize int64
	Arch     string
	Untraced Speed
	Traced   *Speed // nil unless Config.Trace
	// PeakRSS is the process's maximum resident set size in bytes after
	// the engine runs (getrusage RUSAGE_SELF; 0 where unsupported).
	PeakRSS int64
	// LMHeadShare is, with Config.AllLogits, the fraction of the engine's
	// prefill multiply-adds that go to the logits of positions other than
	// the last, which llama-bench does not compute; 0 otherwise.
	LMHeadShare float64
	Llama       *LlamaResult // nil unless Config.LlamaBench
}

// forwarder is what both engines offer.
type forwarder interface {
	Forward(ctx context.Context, step int, tokens []int32, rec *probes.Recorder) ([]float32, error)
	Reset()
}

// Run opens the model, measures the engine, and runs llama-bench when asked.
func Run(ctx context.Context, c Config) (*Result, error) {
	if err := c.defaults(); err != nil {
		return nil, err
	}
	st, err := os.Stat(c.Model)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	w, err := model.Open(c.Model)
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	defer w.Close()
	var e forwarder
	switch c.Engine {
	case "gguf":
		e, err = ggufengine.New(w, ggufengine.Options{Threads: c.Threads, LastLogits: !c.AllLogits})
	case "apr":
		e, err = aprengine.New(w, aprengine.Options{Threads: c.Threads, LastLogits: !c.AllLogits})
	}
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	llamaModel := c.LlamaModel
	if llamaModel == "" {
		llamaModel = c.Model
	}
	if c.LlamaBench != "" && c.LlamaModel == "" && w.Format != "gguf" {
		return nil, fmt.Errorf("bench: llama-bench reads GGUF only and %s is %s: give the GGUF it was converted from with --llama-model", c.Model, w.Format)
	}
	cfg := w.Config
	res := &Result{Config: c, FileSize: st.Size(), Arch: cfg.Arch.Name}
	if c.AllLogits {
		res.LMHeadShare = lmHeadShare(cfg, c.PromptLen)
	}
	prompt := tokens(c.PromptLen, cfg.NVocab, 1)
	gen := tokens(c.Gen, cfg.NVocab, 2)

	// Warm-up: faults the weights in and grows the engine's buffers.
	if _, err := measure(ctx, e, prompt, gen[:1], false); err != nil {
		return nil, err
	}
	if res.Untraced, res.Traced, err = measureReps(ctx, e, prompt, gen, c.Trace, c.Reps); err != nil {
		return nil, err
	}
	res.PeakRSS = peakRSS()
	if c.LlamaBench != "" {
		if res.Llama, err = RunLlamaBench(ctx, c.LlamaBench, llamaModel, c.PromptLen, c.Gen, c.Threads, c.Reps); err != nil {
			return res, err
		}
	}
	return res, nil
}

// measureReps averages the time of reps runs, as llama-bench averages its
// repetitions, and converts to tokens per second. With traced, each
// untraced run is followed by a traced one, so that a machine whose speed
// drifts during the measurement (other load, clock changes) slows both
// alike and the traced/untraced ratio stays fair.
func measureReps(ctx context.Context, e forwarder, prompt, gen []int32, traced bool, reps int) (Speed, *Speed, error) {
	var sum [2][2]time.Duration // [untraced, traced][prefill, decode]
	kinds := 1
	if traced {
		kinds = 2
	}
	for i := 0; i < reps; i++ {
		for k := 0; k < kinds; k++ {
			t, err := measure(ctx, e, prompt, gen, k == 1)
			if err != nil {
				return Speed{}, nil, err
			}
			sum[k][0] += t[0]
			sum[k][1] += t[1]
		}
	}
	speed := func(d [2]time.Duration) Speed {
		return Speed{
			PrefillTokS: float64(len(prompt)*reps) / d[0].Seconds(),
			DecodeTokS:  float64(len(gen)*reps) / d[1].Seconds(),
		}
	}
	if !traced {
		return speed(sum[0]), nil, nil
	}
	tr := speed(sum[1])
	return speed(sum[0]), &tr, nil
}

// measure times one prefill of prompt on an empty cache and the decode of
// gen one token per step after it.
func measure(ctx context.Context, e forwarder, prompt, gen []int32, traced bool) ([2]time.Duration, error) {
	var rec *probes.Recorder
	if traced {
		var err error
		if rec, err = probes.NewRecorder(probes.Policy{}); err != nil {
			return [2]time.Duration{}, err
		}
	}
	e.Reset()
	t0 := time.Now()
	if _, err := e.Forward(ctx, 0, prompt, rec); err != nil {
		return [2]time.Duration{}, fmt.Errorf("bench: prefill: %w", err)
	}
	t1 := time.Now()
	for i, tok := range gen {
		if _, err := e.Forward(ctx, i+1, []int32{tok}, rec); err != nil {
			return [2]time.Duration{}, fmt.Errorf("bench: decode step %d: %w", i+1, err)
		}
	}
	t2 := time.Now()
	if err := rec.Err(); err != nil {
		return [2]time.Duration{}, fmt.Errorf("bench: %w", err)
	}
	return [2]time.Duration{t1.Sub(t0), t2.Sub(t1)}, nil
}

// tokens returns n deterministic token ids spread over the vocabulary
// (llama-bench draws random ones; the cost does not depend on which).
func tokens(n, vocab int, stream uint64) []int32 {
	t := make([]int32, n)
	x := stream*0x9e3779b97f4a7c15 + 1
	for i := range t {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		t[i] = int32(x % uint64(vocab))
	}
	return t
}

// lmHeadShare is the fraction of a prefill's multiply-adds spent on the
// logits of the first n−1 positions.
func lmHeadShare(c *model.Config, n int) float64 {
	d, q, kv := float64(c.NEmbd), float64(c.QDim()), float64(c.KVDim())
	perLayer := d*(q+2*kv) + q*d + 3*d*float64(c.NFF)
	head := d * float64(c.NVocab)
	perToken := float64(c.NLayer)*perLayer + head
	return head * float64(n-1) / (perToken * float64(n))
}

// ErrNoLlamaBench is returned when the llama-bench path does not exist.
var ErrNoLlamaBench = errors.New("bench: llama-bench not found")
