package bench

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/convert"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
)

// llamaBenchJSON is the shape of `llama-bench -o json` output (fields cut
// down to those read plus a few neighbours).
const llamaBenchJSON = `[
  {"build_commit": "3f545bec", "build_number": 1, "backends": "CPU", "model_type": "qwen2 1.5B Q4_K - Medium",
   "n_threads": 2, "n_prompt": 64, "n_gen": 0, "n_depth": 0, "avg_ns": 780000000, "avg_ts": 82.05, "stddev_ts": 0.4},
  {"build_commit": "3f545bec", "build_number": 1, "backends": "CPU", "model_type": "qwen2 1.5B Q4_K - Medium",
   "n_threads": 2, "n_prompt": 0, "n_gen": 32, "n_depth": 0, "avg_ns": 1100000000, "avg_ts": 29.1, "stddev_ts": 0.2}
]`

func TestParseLlamaBenchJSON(t *testing.T) {
	r, err := ParseLlamaBenchJSON([]byte(llamaBenchJSON), 64, 32)
	if err != nil {
		t.Fatal(err)
	}
	if r.PrefillTokS != 82.05 || r.DecodeTokS != 29.1 || r.Build != "3f545bec" || r.Backend != "CPU" {
		t.Fatalf("parsed %+v", r)
	}
	if _, err := ParseLlamaBenchJSON([]byte(llamaBenchJSON), 128, 32); err == nil {
		t.Error("a missing pp128 test was not reported")
	}
	if _, err := ParseLlamaBenchJSON([]byte("| model | size |"), 64, 32); err == nil {
		t.Error("markdown output was accepted as JSON")
	}
}

// TestRun measures both engines on a small fixture, traced and untraced,
// and checks that every number the report prints was filled in.
func TestRun(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	if err := fixtures.WriteGGUF(path, fixtures.Default("qwen2", ggml.Q4_K)); err != nil {
		t.Fatal(err)
	}
	for _, eng := range []string{"gguf", "apr"} {
		r, err := Run(context.Background(), Config{Model: path, Engine: eng, PromptLen: 5, Gen: 3, Threads: 2, Reps: 1, Trace: true, AllLogits: true})
		if err != nil {
			t.Fatal(err)
		}
		if !(r.Untraced.PrefillTokS > 0 && r.Untraced.DecodeTokS > 0 && r.Traced.PrefillTokS > 0 && r.Traced.DecodeTokS > 0) {
			t.Errorf("%s: speeds not measured: %+v %+v", eng, r.Untraced, *r.Traced)
		}
		if r.PeakRSS <= 0 || r.FileSize <= 0 || !(r.LMHeadShare > 0 && r.LMHeadShare < 1) {
			t.Errorf("%s: RSS %d, file %d, LM head share %g", eng, r.PeakRSS, r.FileSize, r.LMHeadShare)
		}
		var b bytes.Buffer
		if err := r.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), "traced / untraced time") {
			t.Errorf("%s: report lacks the traced ratio:\n%s", eng, b.String())
		}
	}
	if _, err := Run(context.Background(), Config{Model: path, Engine: "vllm"}); err == nil {
		t.Error("unknown engine accepted")
	}
	if _, err := Run(context.Background(), Config{Model: path, LlamaBench: filepath.Join(t.TempDir(), "nope"), PromptLen: 2, Gen: 1, Reps: 1}); err == nil {
		t.Error("missing llama-bench not reported")
	}
	// llama-bench cannot read APR: say which GGUF to give it, before
	// spending time on the engine.
	aprPath := filepath.Join(t.TempDir(), "m.apr")
	if err := convert.ConvertFile(path, aprPath, convert.Options{}); err != nil {
		t.Fatal(err)
	}
	_, err := Run(context.Background(), Config{Model: aprPath, Engine: "apr", LlamaBench: "/bin/true", PromptLen: 2, Gen: 1, Reps: 1})
	if err == nil || !strings.Contains(err.Error(), "--llama-model") {
		t.Errorf("APR model with llama-bench and no --llama-model: %v", err)
	}
	_, err = Run(context.Background(), Config{Model: aprPath, Engine: "apr", LlamaBench: filepath.Join(t.TempDir(), "nope"), LlamaModel: path, PromptLen: 2, Gen: 1, Reps: 1})
	if !errors.Is(err, ErrNoLlamaBench) {
		t.Errorf("APR model with --llama-model: got %v, want the engine run and then ErrNoLlamaBench", err)
	}
}
