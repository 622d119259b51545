package selftest

// Acceptance tests of the decode path: per-step comparison of two runtimes
// (bisect --decode), the KV-cache self-consistency check (compare-decode)
// against every decode fault and on every shared model, and llama.cpp's
// recorded decode steps against the GGUF engine.

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes"
	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
)

// decodeRunner adapts a Runtime to diff.DecodeRunner.
type decodeRunner struct{ rt runtimes.Runtime }

func (r decodeRunner) PrefillDecode(ctx context.Context, prompt []int32, steps int, p probes.Policy) (*probes.Trace, *probes.Trace, error) {
	return runtimes.PrefillDecode(ctx, r.rt, prompt, steps, p, "")
}

// floors memoizes noise floors by model file and tokens: the clean file's
// floor serves every fault planted in an engine running it.
var floors = map[string]map[probes.Key]float64{}

// compareDecode runs the self-consistency check on rt, the noise floor
// measured on path (the GGUF engine, as parity diag compare-decode does).
func compareDecode(t *testing.T, rt runtimes.Runtime, path string, prompt []int32, n int, p diff.Profile) *diff.Result {
	t.Helper()
	res, err := diff.CompareDecode(context.Background(), decodeRunner{rt}, diff.CompareDecodeOptions{
		Options: diff.Options{Profile: p}, Prompt: prompt, Decode: n,
		Calibrate: func(ctx context.Context, prompt, force []int32) (map[probes.Key]float64, error) {
			key := fmt.Sprint(path, prompt, force)
			if f, ok := floors[key]; ok {
				return f, nil
			}
			f, err := runtimes.NoiseFloor(ctx, path, "", prompt, force, 2)
			if err == nil {
				floors[key] = f
			}
			return f, err
		}})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// worstNMSE is the largest full-tensor NMSE of a result and where, and
// the largest NMSE relative to its pair's budget (the margin left).
func worstNMSE(r *diff.Result) (worst float64, at probes.Key, ofBudget float64) {
	for _, p := range r.Pairs {
		if p.Metrics == nil || p.Metrics.Tensor == nil {
			continue
		}
		n := float64(p.Metrics.Tensor.NMSE)
		if n > worst {
			worst, at = n, p.Key()
		}
		if b := float64(p.Metrics.Threshold.NMSE); b > 0 {
			ofBudget = max(ofBudget, n/b)
		}
	}
	return worst, at, ofBudget
}

// TestCompareDecodeFindsDecodeFaults: each KV-cache fault, planted at
// layer 1 or 2 of a 3-layer llama, qwen2 or qwen3 fixture (f32 and Q4_K),
// in either engine, makes prefill and decode of that one engine part at
// exactly (step 1, layer, slot) — no second runtime involved — while the
// clean engine passes. KVF16 is not among them: it rounds the cache the
// same way in both runs, so it is consistent by itself and only shows
// against another runtime (TestFaultZoo).
func TestCompareDecodeFindsDecodeFaults(t *testing.T) {
	dir := t.TempDir()
	kinds := []faults.Kind{faults.DecodeRopePos, faults.StaleKV, faults.SwapKV}
	found, total, margin := 0, 0, math.Inf(1)
	for _, arch := range []string{"llama", "qwen2", "qwen3"} {
		for _, typ := range []ggml.Type{ggml.F32, ggml.Q4_K} {
			spec := fixtures.Default(arch, typ)
			spec.NLayer = 3
			path := filepath.Join(dir, fmt.Sprintf("%s-%s.gguf", arch, typ))
			if err := fixtures.WriteGGUF(path, spec); err != nil {
				t.Fatal(err)
			}
			for _, engine := range []string{"gguf", "apr"} {
				name := fmt.Sprintf("%s/%s %s engine", arch, typ, engine)
				clean := compareDecode(t, openWith(t, path, engine, nil), path, DefaultPrompt, decodeSteps, diff.ProfileCalibrated)
				if clean.Verdict != diff.Pass || clean.Counts.Warn > 0 {
					t.Errorf("%s, no fault: %s %+v, first %+v", name, clean.Verdict, clean.Counts, clean.First)
				}
				for _, k := range kinds {
					for _, l := range []int{1, 2} {
						f := faults.Fault{Kind: k, Layer: l}
						res := compareDecode(t, openWith(t, path, engine, faults.Set{f}), path, DefaultPrompt, decodeSteps, diff.ProfileCalibrated)
						want := probes.Key{Step: 1, Layer: l, Slot: k.Expect()}
						total++
						switch {
						case res.First == nil:
							t.Errorf("%s %s: no divergence (%s)", name, f, res.Verdict)
						case res.First.Step != want.Step || res.First.Layer != want.Layer || res.First.Slot != want.Slot:
							t.Errorf("%s %s: first divergence at step %d layer %d %s, want %v", name, f, res.First.Step, res.First.Layer, res.First.Slot, want)
						case res.Decode.Steps[0].Verdict != diff.Pass:
							t.Errorf("%s %s: the prompt step (no cache read yet) is %s", name, f, res.Decode.Steps[0].Verdict)
						default:
							found++
							if m := res.Pairs[res.First.Index].Metrics; m != nil && m.Tensor != nil {
								margin = min(margin, float64(m.Tensor.NMSE)/float64(m.Threshold.NMSE))
							}
						}
					}
				}
			}
		}
	}
	t.Logf("compare-decode localized %d of %d planted KV-cache faults at (step 1, layer, slot); the smallest first-divergence NMSE is %.3g× its budget", found, total, margin)
}

func openWith(t *testing.T, path, engine string, fs faults.Set) runtimes.Runtime {
	t.Helper()
	rt, err := runtimes.Open(path, engine, runtimes.Options{Threads: 2, Faults: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// sharedModels lists ../shared/models/*.gguf and derived/*.gguf.
func sharedModels(t *testing.T) []string {
	a, _ := filepath.Glob(filepath.Join(shared, "models", "*.gguf"))
	b, _ := filepath.Glob(filepath.Join(shared, "models", "derived", "*.gguf"))
	if len(a)+len(b) < 10 {
		t.Fatalf("only %d shared models under %s/models", len(a)+len(b), shared)
	}
	return append(a, b...)
}

// TestCompareDecodeSharedModels: on every shared model, prefill and
// 16-step decode agree within the budgets diff.CompareDecode documents —
// the GGUF engine (f32 cache) under the calibrated profile, the APR engine
// under the exact one (it is bit-identical both ways), the GGUF engine
// with an f16 cache under the quant profile — and the greedy tokens of
// both paths are the same at every step.
func TestCompareDecodeSharedModels(t *testing.T) {
	var report []string
	for _, path := range sharedModels(t) {
		for _, c := range []struct {
			engine  string
			kv      ggml.Type
			profile diff.Profile
		}{{"gguf", ggml.F32, diff.ProfileCalibrated}, {"apr", ggml.F32, diff.ProfileExact}, {"gguf", ggml.F16, diff.ProfileQuant}} {
			rt, err := runtimes.Open(path, c.engine, runtimes.Options{Threads: 2, KVType: c.kv})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := rt.Tokenizer()
			if err != nil {
				t.Fatal(err)
			}
			prompt, err := tok.Encode("Once upon a time", true, false)
			if err != nil {
				t.Fatal(err)
			}
			res := compareDecode(t, rt, path, prompt, 16, c.profile)
			rt.Close()
			name := fmt.Sprintf("%-30s %s kv=%s %-10s", filepath.Base(path), c.engine, c.kv, c.profile)
			if res.Verdict != diff.Pass || res.Counts.Warn > 0 {
				t.Errorf("%s: %s %+v, first %+v", name, res.Verdict, res.Counts, res.First)
			}
			if a := res.Decode.Agreement; a == nil || a.N != 17 || a.K != 0 {
				t.Errorf("%s: top-1 agreement %+v, want 17 steps, no flip", name, a)
			}
			worst, at, ofBudget := worstNMSE(res)
			report = append(report, fmt.Sprintf("%s %s, %4d pairs, worst NMSE %.2e at %v, worst NMSE/budget %.2g, max KL %.1e", name, res.Verdict, len(res.Pairs), worst, at, ofBudget, float64(res.Decode.MaxKL)))
		}
	}
	t.Logf("compare-decode, prompt \"Once upon a time\" + 16 steps:\n%s", strings.Join(report, "\n"))
}

// TestStoriesDecodeAgainstAPR: stories260K.gguf (GGUF engine) against its
// APR conversion (APR engine), A greedy for 31 steps and B teacher-forced:
// 32 predictions (steps 0-31), every one the same token, every step PASS.
func TestStoriesDecodeAgainstAPR(t *testing.T) {
	g := sharedModel(t, "stories260K.gguf")
	a := toAPR(t, g)
	ra, rb := open(t, a, "apr"), open(t, g, "gguf")
	replay, _ := runtimes.ReplayerOf(rb)
	bs, err := diff.Bisect(context.Background(), runner{ra}, runner{rb}, replay, nil, diff.BisectOptions{
		Options: diff.Options{Profile: diff.ProfileCalibrated}, Prompt: storiesPrompt, Decode: 31,
		Calibrate: func(ctx context.Context, prompt, force []int32) (map[probes.Key]float64, error) {
			return runtimes.NoiseFloor(ctx, g, "", prompt, force, 2)
		}})
	if err != nil {
		t.Fatal(err)
	}
	r := bs.Result
	d := r.Decode
	if r.Verdict != diff.Pass || d == nil || len(d.Steps) != 32 {
		t.Fatalf("%s %+v, first %+v, decode %+v", r.Verdict, r.Counts, r.First, d)
	}
	if a := d.Agreement; a == nil || a.N != 32 || a.K != 0 || d.FirstFlip != nil {
		t.Errorf("top-1 agreement %+v, first flip %+v: want 32 of 32", a, d.FirstFlip)
	}
	var kl []string
	for _, st := range d.Steps {
		if st.Logits == nil || st.Verdict != diff.Pass {
			t.Errorf("step %d: %s, logits %+v", st.Step, st.Verdict, st.Logits)
			continue
		}
		kl = append(kl, fmt.Sprintf("%d:%.1e", st.Step, float64(st.Logits.KL)))
	}
	t.Logf("stories260K .apr (apr) vs .gguf (gguf), 32 steps, top-1 agreement %d/%d (divergence rate %.2f, 95%% CI [%.3f, %.3f]), max KL %.2e at step %d\nKL per step: %s",
		d.Agreement.N-d.Agreement.K, d.Agreement.N, float64(d.Agreement.Rate), float64(d.Agreement.Low), float64(d.Agreement.High),
		float64(d.MaxKL), d.MaxKLStep, strings.Join(kl, " "))
}

// TestLlamaCppDecodeSteps: llama.cpp's exact-mode dumps against the GGUF
// engine over the same tokens, step by step: every step, prompt and decode
// alike, has pairs, PASSes the exact profile and predicts the same token.
func TestLlamaCppDecodeSteps(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(shared, "llamacpp", "*-exact"))
	if len(dirs) < 9 {
		t.Fatalf("only %d exact dumps under %s/llamacpp", len(dirs), shared)
	}
	for _, dir := range dirs {
		ref, model := dumpTrace(t, dir)
		fed := ref.Header.Tokens[ref.Header.PromptLen:]
		ours := trace(t, open(t, model, "gguf"), ref.Header.Tokens[:ref.Header.PromptLen], len(fed), fed)
		r, err := diff.Diff(ref, ours, diff.Options{Profile: diff.ProfileExact})
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(dir)
		d := r.Decode
		if d == nil || len(d.Steps) != len(fed)+1 || len(fed) < 2 {
			t.Errorf("%s: %d decode steps fed, summary %+v", name, len(fed), d)
			continue
		}
		var line []string
		for _, st := range d.Steps {
			if st.Pairs == 0 || st.Verdict != diff.Pass || !st.Agree() {
				t.Errorf("%s step %d: %d pairs, %s, logits %+v", name, st.Step, st.Pairs, st.Verdict, st.Logits)
				continue
			}
			line = append(line, fmt.Sprintf("%d: %d pairs KL %.0e", st.Step, st.Pairs, float64(st.Logits.KL)))
		}
		worst, at, _ := worstNMSE(r)
		t.Logf("%-30s %s; worst NMSE %.1e at %v; %s", name, r.Verdict, worst, at, strings.Join(line, ", "))
	}
}
