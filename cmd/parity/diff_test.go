package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
)

// traceTo runs parity trace and returns the trace path.
func traceTo(t *testing.T, dir, name string, args ...string) string {
	t.Helper()
	out := filepath.Join(dir, name+".trace.jsonl.zst")
	args = append([]string{"trace", "-o", out}, args...)
	if _, errOut, code := parity(t, args...); code != 0 {
		t.Fatalf("parity %v: exit %d: %s", args, code, errOut)
	}
	return out
}

func TestDiffSameEngineTwice(t *testing.T) {
	dir, m := t.TempDir(), shared(t, "models/stories260K.gguf")
	a := traceTo(t, dir, "a", "--model", m, "--prompt", "Once upon a time", "-n", "3", "--full")
	b := traceTo(t, dir, "b", "--model", m, "--prompt", "Once upon a time", "-n", "3", "--full")
	out, errOut, code := parity(t, "--color", "never", "diff", "--profile", "exact", a, b)
	if code != 0 || !strings.HasPrefix(out, "PASS") || !strings.Contains(out, "steps 0-3 compared") || strings.Contains(out, "weak") {
		t.Fatalf("same engine, same prompt: exit %d\n%s%s", code, out, errOut)
	}
	js, _, code := parity(t, "diff", "--json", a, b)
	var res diff.Result
	if err := json.Unmarshal([]byte(js), &res); err != nil || code != 0 {
		t.Fatalf("--json: exit %d, %v\n%s", code, err, js)
	}
	if res.Verdict != diff.Pass || res.Counts.Pass != len(res.Pairs) || len(res.Pairs) != 4*(1+5*16+2) || res.A.File != a {
		t.Errorf("JSON result: %v, %+v, %d pairs", res.Verdict, res.Counts, len(res.Pairs))
	}
	for _, p := range res.Pairs {
		if p.Metrics.Tensor == nil || float64(p.Metrics.Tensor.NMSE) != 0 {
			t.Fatalf("%v: the same engine twice should agree bit for bit: %+v", p.Key(), p.Metrics.Tensor)
		}
	}
}

func TestDiffLastVersusAllPositions(t *testing.T) {
	dir, m := t.TempDir(), shared(t, "models/stories260K.gguf")
	all := traceTo(t, dir, "all", "--model", m, "--tokens", "1,403,407,261,378")
	last := traceTo(t, dir, "last", "--model", m, "--tokens", "1,403,407,261,378", "--positions", "last")
	out, errOut, code := parity(t, "--color", "never", "diff", all, last)
	if code != 0 || !strings.HasPrefix(out, "PASS") || !strings.Contains(out, "alignment: A covered 0-4, B covered 4; compared position 4 (83 pairs)") {
		t.Errorf("auto: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = parity(t, "--color", "never", "diff", "--align", "strict", all, last)
	if code != 2 || !strings.HasPrefix(out, "REFUSED") || !strings.Contains(out, "--align strict compares identical positions only") ||
		!strings.Contains(errOut, "comparison refused") {
		t.Errorf("strict: exit %d\n%s%s", code, out, errOut)
	}
	if _, _, code := parity(t, "diff", "--align", "all", all, last); code != 2 {
		t.Errorf("--align all: exit %d, want 2", code)
	}
	if out, _, code := parity(t, "--color", "never", "diff", "--align", "last", all, last); code != 0 || !strings.HasPrefix(out, "PASS") {
		t.Errorf("--align last: exit %d\n%s", code, out)
	}
}

func TestDiffExitCodes(t *testing.T) {
	dir, m := t.TempDir(), shared(t, "models/stories260K.gguf")
	a := traceTo(t, dir, "a", "--model", m, "--tokens", "1,403,407")
	other := traceTo(t, dir, "other", "--model", m, "--tokens", "1,403,408")
	q8 := traceTo(t, dir, "q8", "--model", shared(t, "models/derived/stories260K-Q8_0.gguf"), "--tokens", "1,403,407")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"diff", a, other}, 2, "comparison refused"},
		{[]string{"diff", "--profile", "exact", a, q8}, 1, "runs diverge"},
		{[]string{"diff", "--profile", "quant", a, q8}, 0, ""},
		// Calibrated budgets come from activation quantization alone; Q8_0
		// weights against f32 weights differ by more than that.
		{[]string{"diff", a, q8}, 1, "runs diverge"},
		{[]string{"diff", a}, 3, "accepts 2 arg"},
		{[]string{"diff", "--align", "first", a, a}, 3, "--align must be"},
		{[]string{"diff", "--profile", "loose", a, a}, 3, "--profile must be"},
		{[]string{"diff", "--threshold", "qkv=1e-3", a, a}, 3, "matches no slot"},
		{[]string{"diff", "--threshold", "q=-1", a, a}, 3, "not a finite NMSE"},
		{[]string{"diff", a, filepath.Join(dir, "missing.trace.jsonl.zst")}, 3, "no such file"},
		{[]string{"diff", "--threshold", "ffn_*=1e-3", "--threshold", "logits=0.1", a, a}, 0, ""},
	} {
		_, errOut, code := parity(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.msg) {
			t.Errorf("parity %v: exit %d, %q; want %d and %q", tc.args[1:], code, errOut, tc.code, tc.msg)
		}
	}
}

// TestDiffEnginesNoFalseAlarm runs the APR engine (f32 activations) and
// the GGUF engine on the same shared models: on quantized models (where
// the GGUF engine quantizes activations) nothing may FAIL or be REFUSED
// under the default quant profile, and on f32 models not even under the
// exact one. It logs the worst NMSE per slot, the floor the quant budgets
// rest on.
func TestDiffEnginesNoFalseAlarm(t *testing.T) {
	dir := t.TempDir()
	worst := map[string]float64{}
	for _, tc := range []struct{ model, profile string }{
		{"derived/stories260K-Q8_0.gguf", "quant"},
		{"derived/tiny-qwen2-random-Q4_K_M.gguf", "quant"},
		{"derived/tiny-qwen3-random-Q4_K_M.gguf", "quant"},
		{"derived/tiny-qwen2-random-Q8_0.gguf", "quant"},
		{"derived/tiny-qwen3-random-Q8_0.gguf", "quant"},
		{"derived/tiny-qwen2-bpe-Q4_K_M.gguf", "quant"},
		{"stories260K.gguf", "exact"},
		{"derived/tiny-qwen3-random-f32.gguf", "exact"},
		{"derived/tiny-qwen2-bpe-f32.gguf", "exact"},
	} {
		m := shared(t, "models/"+tc.model)
		base := strings.TrimSuffix(filepath.Base(tc.model), ".gguf")
		prompt := []string{"--model", m, "--prompt", "Once upon a time there was a little girl named Lily", "--full"}
		a := traceTo(t, dir, base+".apr", append(prompt, "--engine", "apr")...)
		b := traceTo(t, dir, base+".gguf", append(prompt, "--engine", "gguf")...)
		js, errOut, code := parity(t, "diff", "--json", "--profile", tc.profile, a, b)
		var res diff.Result
		if err := json.Unmarshal([]byte(js), &res); err != nil {
			t.Fatalf("%s: exit %d, %v: %s", tc.model, code, err, errOut)
		}
		if code != 0 || res.Counts.Fail+res.Counts.Refused > 0 || len(res.Pairs) == 0 {
			t.Errorf("%s, profile %s: exit %d, %+v, reason %q", tc.model, tc.profile, code, res.Counts, res.Reason)
		}
		if tc.profile != "quant" {
			continue
		}
		for _, p := range res.Pairs {
			if p.Metrics != nil && p.Metrics.Tensor != nil {
				worst[p.Slot.String()] = max(worst[p.Slot.String()], float64(p.Metrics.Tensor.NMSE))
			}
		}
	}
	t.Logf("worst NMSE per slot, APR vs GGUF engine on the quantized models: %v", worst)
}
