package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
)

// storiesAPR converts stories260K into t.TempDir() with parity convert.
func storiesAPR(t *testing.T) (gguf, apr string) {
	t.Helper()
	gguf = shared(t, "models/stories260K.gguf")
	apr = filepath.Join(t.TempDir(), "stories.apr")
	if _, errOut, code := parity(t, "convert", gguf, "-o", apr); code != 0 {
		t.Fatalf("convert: exit %d: %s", code, errOut)
	}
	return gguf, apr
}

func TestDiagAgreeingConversion(t *testing.T) {
	gguf, apr := storiesAPR(t)
	out, errOut, code := parity(t, "--color", "never", "diag", "compare-embedding", "--a", gguf, "--b", apr, "--prompt", "Once upon a time")
	if code != 0 || !strings.Contains(out, "BYTE-IDENTICAL  compare-embedding: the prompt's rows") || !strings.Contains(out, "▁upon") {
		t.Errorf("compare-embedding: exit %d: %s%s", code, out, errOut)
	}
	out, errOut, code = parity(t, "diag", "compare-weights", "--a", gguf, "--b", apr, "--json")
	var w struct {
		Verdict string         `json:"verdict"`
		Counts  map[string]int `json:"counts"`
	}
	if err := json.Unmarshal([]byte(out), &w); err != nil || code != 0 || w.Verdict != "bit-identical" || w.Counts["bit-identical"] != 48 {
		t.Errorf("compare-weights --json: exit %d, %v, %+v: %s", code, err, w, errOut)
	}
	out, errOut, code = parity(t, "diag", "compare-op", "--a", apr, "--b", gguf, "--op", "rmsnorm", "--layer", "0", "--tokens", "1,403,407", "--markdown")
	if code != 0 || !strings.HasPrefix(out, "### compare-op rmsnorm, layer 0 — rounding") || !strings.Contains(out, "| pos | token |") {
		t.Errorf("compare-op --markdown: exit %d: %s%s", code, out, errOut)
	}
}

// TestDiagDisagreementExitsOne: a corrupted embedding row in the prompt
// is a divergence (exit 1), and names the row.
func TestDiagDisagreementExitsOne(t *testing.T) {
	dir := t.TempDir()
	clean, bad := filepath.Join(dir, "clean.gguf"), filepath.Join(dir, "bad.gguf")
	s := fixtures.Default("llama", ggml.F32)
	if err := fixtures.WriteGGUF(clean, s); err != nil {
		t.Fatal(err)
	}
	s.FileFaults = []faults.Fault{{Kind: faults.CorruptEmbedRow, Layer: 0}}
	if err := fixtures.WriteGGUF(bad, s); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := parity(t, "diag", "compare-embedding", "--a", clean, "--b", bad, "--prompt", "What is the answer", "--json")
	var r struct {
		Verdict string `json:"verdict"`
		Rows    []struct {
			Token int `json:"token"`
		} `json:"rows"`
		Worst int `json:"worst"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 1 || r.Verdict != "defect" || r.Rows[r.Worst].Token != fixtures.CorruptEmbedToken() ||
		!strings.Contains(errOut, "compare-embedding: defect") {
		t.Errorf("exit %d, %v, %+v: %s", code, err, r, errOut)
	}
	if _, _, code := parity(t, "diag", "compare-embedding", "--a", clean, "--b", bad, "--prompt", "What is it"); code != 0 {
		t.Errorf("a prompt without the corrupted token: exit %d", code)
	}
}

// TestDiagOpFromTraceFile: compare-op takes its inputs from a full trace
// written by parity trace.
func TestDiagOpFromTraceFile(t *testing.T) {
	gguf, apr := storiesAPR(t)
	tr := filepath.Join(t.TempDir(), "a.trace.jsonl.zst")
	if _, errOut, code := parity(t, "trace", "--model", gguf, "--tokens", "1,403,407,261", "--full", "-o", tr); code != 0 {
		t.Fatalf("trace: exit %d: %s", code, errOut)
	}
	out, errOut, code := parity(t, "--color", "never", "diag", "compare-op", "--a", gguf, "--b", apr, "--a-trace", tr,
		"--op", "attention", "--layer", "3", "--b-engine", "apr")
	if code != 0 || !strings.Contains(out, "input: trace "+tr+" (engine gguf), 4 tokens") ||
		!strings.Contains(out, "A's replay reproduces its recorded output bit for bit") {
		t.Errorf("exit %d: %s%s", code, out, errOut)
	}
}

func TestDiagUsage(t *testing.T) {
	gguf := shared(t, "models/stories260K.gguf")
	for _, args := range [][]string{
		{"diag", "compare-weights", "--a", gguf, "--b", gguf, "--json", "--markdown"},
		{"diag", "compare-op", "--a", gguf, "--b", gguf, "--layer", "0", "--tokens", "1"},
		{"diag", "compare-op", "--a", gguf, "--b", gguf, "--op", "conv", "--layer", "0", "--tokens", "1"},
		{"diag", "compare-op", "--a", gguf, "--b", gguf, "--slot", "nope", "--layer", "0", "--tokens", "1"},
		{"diag", "compare-embedding", "--a", gguf},
	} {
		if _, errOut, code := parity(t, args...); code != 3 {
			t.Errorf("%v: exit %d, want 3: %s", args, code, errOut)
		}
	}
}
