package runtimes

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
)

func fixture(t *testing.T, arch string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), arch+".gguf")
	if err := fixtures.WriteGGUF(path, fixtures.Default(arch, ggml.F32)); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPrefillDecodeShapes: the re-split prefill trace has exactly the
// decode trace's keys and positions, the same header tokens, and on the
// APR engine (one goroutine per row, fixed order) exactly the same values;
// each header says how its run was made, without touching the runtime's
// own options.
func TestPrefillDecodeShapes(t *testing.T) {
	rt, err := Open(fixture(t, "qwen3"), "apr", Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	prompt := []int32{1, 300, 301, 302, 303}
	pf, dc, err := PrefillDecode(context.Background(), rt, prompt, 3, probes.Policy{Mode: probes.ModeFull}, "test")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(pf.Header.Tokens, dc.Header.Tokens) || pf.Header.PromptLen != 5 || len(dc.Header.Tokens) != 8 {
		t.Fatalf("headers: %v/%d vs %v/%d", pf.Header.Tokens, pf.Header.PromptLen, dc.Header.Tokens, dc.Header.PromptLen)
	}
	if len(pf.Records) != len(dc.Records) || len(dc.Records) == 0 {
		t.Fatalf("%d prefill records, %d decode records", len(pf.Records), len(dc.Records))
	}
	ix := pf.Index()
	for _, r := range dc.Records {
		p := ix[r.Key()]
		if p == nil {
			t.Fatalf("%v missing from the prefill trace", r.Key())
		}
		want := []int{r.Step + 4}
		if r.Step == 0 {
			want = []int{0, 1, 2, 3, 4}
		}
		if !slices.Equal(p.Positions, want) || !slices.Equal(r.Positions, want) {
			t.Errorf("%v: prefill positions %v, decode %v, want %v", r.Key(), p.Positions, r.Positions, want)
		}
		if !slices.Equal(p.Full, r.Full) {
			t.Errorf("%v: the APR engine's prefill and decode differ", r.Key())
		}
	}
	if pf.Header.EngineOptions["run"] == dc.Header.EngineOptions["run"] || dc.Header.EngineOptions["run"] == "" {
		t.Errorf("run options %q / %q", pf.Header.EngineOptions["run"], dc.Header.EngineOptions["run"])
	}
	if _, ok := rt.Options()["run"]; ok {
		t.Error("PrefillDecode wrote into the runtime's options")
	}
}

// TestPrefillDecodePolicy: the caller's policy applies to both traces
// (statistics only, last position, some layers), while the prefill run
// still splits by position; and a decode fault shows on the decode side
// only.
func TestPrefillDecodePolicy(t *testing.T) {
	path := fixture(t, "llama")
	rt, err := Open(path, "gguf", Options{Threads: 2, Faults: faults.Set{{Kind: faults.StaleKV, Layer: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	p := probes.Policy{Positions: probes.Positions{Last: true}, Layers: []int{1}, Slots: []probes.Slot{probes.AttnCtx, probes.Logits}}
	pf, dc, err := PrefillDecode(context.Background(), rt, []int32{1, 300, 301}, 2, p, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(pf.Records) != 6 || len(dc.Records) != 6 {
		t.Fatalf("%d and %d records, want 2 slots × 3 steps", len(pf.Records), len(dc.Records))
	}
	ix := pf.Index()
	for _, r := range dc.Records {
		q := ix[r.Key()]
		if q == nil || q.Full != nil || r.Full != nil || !slices.Equal(q.Positions, []int{2 + r.Step}) || !slices.Equal(r.Positions, q.Positions) {
			t.Fatalf("%v: prefill %+v", r.Key(), q)
		}
		same := q.Stats == r.Stats
		if r.Step == 0 && !same {
			t.Errorf("%v: the prompt step differs although the fault acts on decode steps only", r.Key())
		}
		if r.Step == 1 && r.Slot == probes.AttnCtx && same {
			t.Errorf("%v: stale-kv@1 left decode identical to prefill", r.Key())
		}
	}
}
