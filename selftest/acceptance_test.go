package selftest

// Acceptance tests that need engines, converter, llama.cpp recordings and
// the diff together, on the shared models (../shared beside the repository).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes"
	"github.com/layerwise/parity/runtimes/convert"
	"github.com/layerwise/parity/runtimes/llamacpp"
	"github.com/layerwise/parity/stats"
)

var shared = filepath.Join("..", "..", "shared")

func sharedModel(t *testing.T, name string) string {
	t.Helper()
	for _, p := range []string{filepath.Join(shared, "models", name), filepath.Join(shared, "models", "derived", name)} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("shared model %s not found under %s/models (is ../shared beside the repository?)", name, shared)
	return ""
}

func toAPR(t *testing.T, gguf string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(gguf), ".gguf")+".apr")
	if err := convert.ConvertFile(gguf, out, convert.Options{}); err != nil {
		t.Fatal(err)
	}
	return out
}

func open(t *testing.T, path, engine string) runtimes.Runtime {
	t.Helper()
	rt, err := runtimes.Open(path, engine, runtimes.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

func trace(t *testing.T, rt runtimes.Runtime, prompt []int32, decode int, force []int32) *probes.Trace {
	t.Helper()
	tr, _, err := runtimes.Trace(context.Background(), rt, runtimes.Request{Prompt: prompt, Decode: decode, Force: force},
		probes.Policy{Mode: probes.ModeFull}, "")
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

var storiesPrompt = []int32{1, 403, 407, 261, 378} // "Once upon a time" with BOS

// TestAPREngineOnConvertedStories: the APR engine on stories260K converted
// to APR reproduces llama.cpp's greedy tokens and its exact-mode tensors.
func TestAPREngineOnConvertedStories(t *testing.T) {
	apr := toAPR(t, sharedModel(t, "stories260K.gguf"))
	rt := open(t, apr, "apr")
	var g struct {
		Greedy []int32 `json:"greedy_tokens"`
	}
	b, _ := os.ReadFile(filepath.Join(shared, "models", "golden", "stories260K.json"))
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	res, err := rt.Run(context.Background(), runtimes.Request{Prompt: storiesPrompt, Decode: len(g.Greedy) - 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Next, g.Greedy) {
		t.Errorf("greedy on the .apr:\n got %v\nwant %v", res.Next, g.Greedy)
	}
	d, err := llamacpp.ReadDump(filepath.Join(shared, "llamacpp", "stories260K-exact"))
	if err != nil {
		t.Fatal(err)
	}
	tr := trace(t, rt, d.Prompt, d.Steps()-1, d.Gen[:d.Steps()-1])
	pairs, err := d.Pairs(tr.Records, "llama")
	if err != nil {
		t.Fatal(err)
	}
	worst := map[string]float64{}
	for _, p := range pairs {
		c, err := stats.Compare(p.Ref, p.Record.Full)
		if err != nil {
			t.Fatal(err)
		}
		if c.NMSE > 1e-9 {
			t.Errorf("%v: NMSE %.3g > 1e-9", p.Record.Key(), c.NMSE)
		}
		worst[p.Record.Slot.String()] = max(worst[p.Record.Slot.String()], c.NMSE)
	}
	t.Logf("APR engine on stories260K.apr vs llama.cpp exact, %d tensors, worst NMSE per slot: %v", len(pairs), worst)
}

// TestConvertedQuantizedModels: on the Q4_K_M models converted to APR (Q4_K
// and Q6_K copied byte for byte), the APR engine's logits stay within 2e-3
// NMSE of the GGUF engine's, and the GGUF engine gives the very same trace
// on the .apr as on the .gguf.
func TestConvertedQuantizedModels(t *testing.T) {
	for _, name := range []string{"tiny-qwen2-random-Q4_K_M.gguf", "tiny-qwen3-random-Q4_K_M.gguf"} {
		g := sharedModel(t, name)
		a := toAPR(t, g)
		onGGUF := trace(t, open(t, g, "gguf"), storiesPrompt, 2, []int32{300, 301})
		onAPR := trace(t, open(t, a, "gguf"), storiesPrompt, 2, []int32{300, 301})
		ref := trace(t, open(t, a, "apr"), storiesPrompt, 2, []int32{300, 301})
		if len(onGGUF.Records) != len(onAPR.Records) {
			t.Fatalf("%s: %d vs %d records", name, len(onGGUF.Records), len(onAPR.Records))
		}
		for i := range onGGUF.Records {
			if !slices.Equal(onGGUF.Records[i].Full, onAPR.Records[i].Full) {
				t.Errorf("%s: GGUF engine %v differs between the .gguf and the .apr", name, onGGUF.Records[i].Key())
			}
		}
		perSlot := map[probes.Slot]float64{}
		for _, r := range onGGUF.Records {
			c, _ := stats.Compare(ref.Find(r.Key()).Full, r.Full)
			perSlot[r.Slot] = max(perSlot[r.Slot], c.NMSE)
			if r.Slot == probes.Logits && c.NMSE > 2e-3 {
				t.Errorf("%s %v: APR vs GGUF logits NMSE %.3g > 2e-3", name, r.Key(), c.NMSE)
			}
		}
		var b strings.Builder
		for _, s := range probes.Slots() {
			if v, ok := perSlot[s]; ok {
				fmt.Fprintf(&b, " %s %.1e", s, v)
			}
		}
		t.Logf("%s: APR engine on .apr vs GGUF engine on .gguf, worst NMSE per slot:%s", name, b.String())
	}
}

// TestNoFalseAlarms: at default settings (auto alignment, calibrated
// budgets) a shared model against its APR conversion, and the two engines
// on the same file, PASS — and the same traces diffed offline, with the
// floor measured from the trace's own model file, give the same verdicts.
func TestNoFalseAlarms(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"stories260K.gguf", "tiny-qwen2-random-Q4_K_M.gguf", "tiny-qwen3-random-Q4_K_M.gguf", "tiny-qwen2-bpe-Q4_K_M.gguf"} {
		g := sharedModel(t, name)
		a := toAPR(t, g)
		prompt := storiesPrompt
		if strings.Contains(name, "bpe") { // "Hello world! The" in its 320-token byte-level vocabulary
			prompt = []int32{72, 101, 296, 267, 111, 114, 108, 100, 33, 300}
		}
		for _, pair := range [][2]string{{a, g}, {g, g}} {
			ra, rb := open(t, pair[0], "apr"), open(t, pair[1], "gguf")
			replay, _ := runtimes.ReplayerOf(rb)
			bs, err := diff.Bisect(ctx, runner{ra}, runner{rb}, replay, nil, diff.BisectOptions{
				Options: diff.Options{Profile: diff.ProfileCalibrated}, Prompt: prompt, Decode: 4, QKNorm: runtimes.QKNorm(rb),
				Calibrate: func(ctx context.Context, prompt, force []int32) (map[probes.Key]float64, error) {
					return runtimes.NoiseFloor(ctx, pair[1], "", prompt, force, 2)
				}})
			if err != nil {
				t.Fatal(err)
			}
			r := bs.Result
			worst, at := 0.0, ""
			for _, p := range r.Pairs {
				if p.Metrics != nil && p.Metrics.Tensor != nil && float64(p.Metrics.Tensor.NMSE) > worst {
					worst, at = float64(p.Metrics.Tensor.NMSE), p.Key().String()
				}
			}
			what := fmt.Sprintf("%s: apr on %s vs gguf on %s", name, filepath.Ext(pair[0]), filepath.Ext(pair[1]))
			if r.Verdict != diff.Pass || r.Counts.Warn > 0 {
				t.Errorf("%s: %s (%+v); first divergence %+v", what, r.Verdict, r.Counts, r.First)
			}
			t.Logf("%s: %s, %d pairs over 5 steps, worst NMSE %.2e at %s", what, r.Verdict, len(r.Pairs), worst, at)

			// Offline: the same two runs traced and diffed as files.
			ta := trace(t, ra, prompt, 4, nil)
			fed := ta.Header.Tokens[ta.Header.PromptLen:]
			tb := trace(t, rb, prompt, 4, fed)
			floor, err := runtimes.NoiseFloor(ctx, tb.Header.Model.Path, tb.Header.Model.SHA256, prompt, fed, 2)
			if err != nil {
				t.Fatal(err)
			}
			off, err := diff.Diff(ta, tb, diff.Options{Profile: diff.ProfileCalibrated, Floor: floor})
			if err != nil {
				t.Fatal(err)
			}
			if len(off.Pairs) != len(r.Pairs) {
				t.Fatalf("%s: offline %d pairs, bisect %d", what, len(off.Pairs), len(r.Pairs))
			}
			for i := range off.Pairs {
				if off.Pairs[i].Key() != r.Pairs[i].Key() || off.Pairs[i].Verdict != r.Pairs[i].Verdict {
					t.Errorf("%s: offline %v %s, bisect %v %s", what, off.Pairs[i].Key(), off.Pairs[i].Verdict, r.Pairs[i].Key(), r.Pairs[i].Verdict)
				}
			}
		}
	}
}

// dumpTrace turns a recorded llama.cpp dump into a trace, as the llamacpp
// engine does after its dumper ran.
func dumpTrace(t *testing.T, dir string) (*probes.Trace, string) {
	t.Helper()
	d, err := llamacpp.ReadDump(dir)
	if err != nil {
		t.Fatal(err)
	}
	about, _ := os.ReadFile(filepath.Join(dir, "ABOUT.txt"))
	m := regexp.MustCompile(`model=(\S+)`).FindSubmatch(about)
	if m == nil {
		t.Fatalf("%s: no model in ABOUT.txt", dir)
	}
	model := sharedModel(t, string(m[1]))
	rt := open(t, model, "gguf")
	info := rt.Model()
	rec, _ := probes.NewRecorder(probes.Policy{Mode: probes.ModeFull})
	if _, err := d.Capture(rec, info.Arch, info.Dims); err != nil {
		t.Fatal(err)
	}
	h := probes.Header{Runtime: "llama.cpp", Engine: "llamacpp-dump", Model: info}
	h.SetTokens(append(slices.Clone(d.Prompt), d.Gen[:d.Steps()-1]...), len(d.Prompt))
	tr, err := rec.Trace(h)
	if err != nil {
		t.Fatal(err)
	}
	return tr, model
}

// TestLlamaCppDumpsAgainstGGUFEngine reads every recorded dump and diffs it
// with the GGUF engine's trace of the same model and tokens: exact-mode
// dumps PASS the exact profile at every step; the default-mode dump's
// last-layer records hold only the last position, which auto alignment
// reconciles and strict alignment refuses.
func TestLlamaCppDumpsAgainstGGUFEngine(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(shared, "llamacpp", "*-*"))
	n := 0
	for _, dir := range dirs {
		if _, err := os.Stat(filepath.Join(dir, "index.tsv")); err != nil {
			continue
		}
		n++
		ref, model := dumpTrace(t, dir)
		fed := ref.Header.Tokens[ref.Header.PromptLen:]
		ours := trace(t, open(t, model, "gguf"), ref.Header.Tokens[:ref.Header.PromptLen], len(fed), fed)
		name := filepath.Base(dir)
		if strings.HasSuffix(name, "-exact") {
			r, err := diff.Diff(ref, ours, diff.Options{Profile: diff.ProfileExact})
			if err != nil {
				t.Fatal(err)
			}
			if r.Verdict != diff.Pass {
				t.Errorf("%s: %s %+v, first %+v", name, r.Verdict, r.Counts, r.First)
			}
			t.Logf("%s: %s, %d pairs over steps 0-%d", name, r.Verdict, len(r.Pairs), r.Tokens.Steps)
			continue
		}
		auto, _ := diff.Diff(ref, ours, diff.Options{Profile: diff.ProfileQuant})
		strict, _ := diff.Diff(ref, ours, diff.Options{Profile: diff.ProfileQuant, Align: diff.AlignStrict})
		lastOnly := 0
		for _, r := range ref.Records {
			if r.Step == 0 && len(r.Positions) == 1 && ref.Header.PromptLen > 1 {
				lastOnly++
			}
		}
		if lastOnly == 0 || auto.Verdict == diff.Refused || strict.Verdict != diff.Refused {
			t.Errorf("%s: %d last-position-only records; auto %s, strict %s", name, lastOnly, auto.Verdict, strict.Verdict)
		}
		t.Logf("%s: %d prompt records cover the last position only; auto %s (%+v), strict %s", name, lastOnly, auto.Verdict, auto.Counts, strict.Verdict)
	}
	if n < 10 {
		t.Fatalf("only %d dump directories under %s/llamacpp", n, shared)
	}
}
