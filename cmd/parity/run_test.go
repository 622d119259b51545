package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/layerwise/parity/probes"
)

func TestRunPrintsGoldenText(t *testing.T) {
	var g struct {
		Text   string  `json:"greedy_text"`
		Tokens []int32 `json:"greedy_tokens"`
	}
	b, err := os.ReadFile(shared(t, "models/golden/stories260K.json"))
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(b, &g)
	out, errOut, code := parity(t, "run", "--model", shared(t, "models/stories260K.gguf"), "--prompt", "Once upon a time", "-n", "32")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if first := strings.SplitN(out, "\n", 2)[0]; first != g.Text {
		t.Errorf("run printed %q, golden %q", first, g.Text)
	}
	out, _, _ = parity(t, "run", "--json", "--model", shared(t, "models/stories260K.gguf"), "--tokens", "1,403,407,261,378", "-n", "32")
	var res runResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Tokens, g.Tokens) || res.Text != g.Text {
		t.Errorf("--tokens run: %v %q", res.Tokens, res.Text)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	m := shared(t, "models/stories260K.gguf")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"run", "--model", m}, "--prompt TEXT or --tokens"},
		{[]string{"run", "--model", m, "--prompt", "a", "--tokens", "1"}, "not both"},
		{[]string{"run", "--model", m, "--tokens", "1,x"}, "bad token id"},
		{[]string{"run", "--model", m, "--tokens", "1,99999"}, "outside the vocabulary"},
		{[]string{"run", "--model", m, "--prompt", "a", "--kv-type", "q8_0"}, "--kv-type"},
		{[]string{"run", "--model", m, "--prompt", "a", "--engine", "onnx"}, "unknown engine"},
	} {
		_, errOut, code := parity(t, tc.args...)
		if code != 3 || !strings.Contains(errOut, tc.msg) {
			t.Errorf("%v: exit %d, %q; want 3 and %q", tc.args, code, errOut, tc.msg)
		}
	}
}

// TestTraceIsReproducible: the same run twice, and with 1 vs 2 threads,
// writes byte-identical trace and sidecar files, and the file reads back.
func TestTraceIsReproducible(t *testing.T) {
	dir := t.TempDir()
	m := shared(t, "models/derived/tiny-qwen2-random-Q4_K_M.gguf")
	var files [3][2][]byte
	for i, threads := range []string{"1", "2", "2"} {
		sub := filepath.Join(dir, threads+string(rune('a'+i)))
		os.Mkdir(sub, 0o755)
		out := filepath.Join(sub, "run.trace.jsonl.zst")
		if _, errOut, code := parity(t, "trace", "-m", m, "-p", "Once upon a time", "-n", "2", "--full", "--threads", threads, "-o", out); code != 0 {
			t.Fatalf("trace: exit %d: %s", code, errOut)
		}
		var err error
		if files[i][0], err = os.ReadFile(out); err != nil {
			t.Fatal(err)
		}
		if files[i][1], err = os.ReadFile(probes.SidecarPath(out)); err != nil {
			t.Fatal(err)
		}
		tr, err := probes.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		// Prompt + 2 decode steps; per step: embed, 2 layers × 16 slots
		// (qwen2 has no QK-norm), final_norm, logits.
		if want := 3 * (3 + 2*16); len(tr.Records) != want {
			t.Errorf("%d records, want %d", len(tr.Records), want)
		}
		if tr.Header.Engine != "gguf" || tr.Header.PromptLen != 5 || len(tr.Header.Tokens) != 7 {
			t.Errorf("header: %+v", tr.Header)
		}
		for _, r := range tr.Records {
			if int64(len(r.Full)) != r.Count || len(r.PerPos) != len(r.Positions) {
				t.Fatalf("%v: %d full values for count %d, %d per-pos summaries for %d positions", r.Key(), len(r.Full), r.Count, len(r.PerPos), len(r.Positions))
			}
		}
	}
	for i := 1; i < 3; i++ {
		if !bytes.Equal(files[0][0], files[i][0]) || !bytes.Equal(files[0][1], files[i][1]) {
			t.Errorf("run %d differs from run 0", i)
		}
	}
}

func TestSelftestCommand(t *testing.T) {
	out, errOut, code := parity(t, "--color", "never", "selftest", "--arch", "llama", "--type", "f32", "--fault", "gelu,sample-size,stale-kv")
	if code != 0 || !strings.Contains(out, "5 of 5 planted faults localized exactly") || !strings.Contains(out, "gelu@1") {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := parity(t, "selftest", "--fault", "no-such"); code != 3 || !strings.Contains(errOut, "unknown fault") {
		t.Errorf("bad --fault: exit %d %s", code, errOut)
	}
}

// TestBisectLocalizesAPlantedFault runs the demo's pair: a generated qwen2
// Q4_K model against its APR conversion, clean (exit 0) and with a planted
// fault in B (exit 1, the fault's layer and op named).
func TestBisectLocalizesAPlantedFault(t *testing.T) {
	dir := t.TempDir()
	g, ap := filepath.Join(dir, "m.gguf"), filepath.Join(dir, "m.apr")
	for _, args := range [][]string{{"fixtures", "--arch", "qwen2", "--type", "q4_k", "--layers", "3", "-o", g}, {"convert", g, "-o", ap}} {
		if _, errOut, code := parity(t, args...); code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, errOut)
		}
	}
	out, errOut, code := parity(t, "--color", "never", "bisect", "--a", ap, "--b", g, "--prompt", "What is 2+2?")
	if code != 0 || !strings.HasPrefix(out, "PASS") {
		t.Fatalf("clean pair: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code = parity(t, "--color", "never", "bisect", "--a", ap, "--b", g, "--prompt", "What is 2+2?", "--b-fault", "gelu@1")
	if code != 1 || !strings.Contains(out, "first divergence: step 0 layer 1 ffn_act") || !strings.Contains(out, "culprit: step 0 layer 1 ffn_act") {
		t.Fatalf("faulted pair: exit %d\n%s%s", code, out, errOut)
	}
}
