package diag

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/aprengine"
	"github.com/layerwise/parity/runtimes/convert"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
)

// TestRMSNormLayer0APRvsGGUF is the seed's diag_compare_rmsnorm_layer0 on
// stories260K: the APR engine (divide by rms in float64) and the GGUF
// engine (ggml's f32 sum, multiply by 1/rms) on the same embedding rows
// differ by about one f32 ulp, ~1e-7 relative, at every position.
func TestRMSNormLayer0APRvsGGUF(t *testing.T) {
	src := shared(t, "models/stories260K.gguf")
	b := open(t, src)
	tok, err := b.Tokenizer()
	if err != nil {
		t.Fatal(err)
	}
	prompt, err := tok.Encode("Once upon a time, there was a little girl", true, false)
	if err != nil {
		t.Fatal(err)
	}
	r, err := CompareOp(context.Background(), toAPR(t, src, convert.F32), b,
		OpOptions{Op: "rmsnorm", Layer: 0, EngineA: "apr", EngineB: "gguf", Tokens: prompt})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Slots) != 1 {
		t.Fatalf("%d slots", len(r.Slots))
	}
	s := r.Slots[0]
	rel := float64(s.Diff.Rel)
	t.Logf("rmsnorm layer 0, apr vs gguf: rel %.3g, max |diff| %.3g, verdict %s", rel, s.Diff.MaxAbs, s.Verdict)
	if s.Slot != probes.AttnNorm || rel <= 1e-8 || rel >= 1e-6 || !s.Verdict.OK() || s.TraceCheck == nil || !s.TraceCheck.Zero() ||
		len(s.Positions) != len(prompt) || s.Inputs[0] != "layer input: embed" {
		t.Errorf("%+v", s)
	}
	for _, p := range s.Positions {
		if p.Rel <= 0 || p.Rel >= 1e-6 || p.StdA <= 0 || p.Token != prompt[p.Pos] {
			t.Errorf("position %+v", p)
		}
	}
}

// TestEveryOpAgreesAcrossEngines replays every op name at a later layer
// (so the layer input is the previous layer's output) in both engines:
// one engine against itself is bit-identical, the APR engine against the
// GGUF engine agrees within its bands, and on Q4_K weights the matmul
// lands in the activation quantization band.
func TestEveryOpAgreesAcrossEngines(t *testing.T) {
	for _, arch := range []string{"llama", "qwen3"} {
		s := fixtures.Default(arch, ggml.Q4_K)
		w := open(t, fixture(t, s))
		tok := []int32{1, 300, 301, 302, 303}
		for _, op := range Ops() {
			self, err := CompareOp(context.Background(), w, w, OpOptions{Op: op, Layer: 1, EngineA: "gguf", EngineB: "gguf", Tokens: tok, Threads: 2})
			if err != nil {
				t.Fatal(err)
			}
			cross, err := CompareOp(context.Background(), w, w, OpOptions{Op: op, Layer: 1, EngineA: "apr", EngineB: "gguf", Tokens: tok})
			if err != nil {
				t.Fatal(err)
			}
			if self.Verdict != BitIdentical || !cross.Verdict.OK() || cross.Verdict == BitIdentical && op != "swiglu" {
				t.Errorf("%s %s: self %s, apr vs gguf %s (rel %g)", arch, op, self.Verdict, cross.Verdict, cross.Slots[0].Diff.Rel)
			}
			t.Logf("%s %-9s apr vs gguf: %s, rel %.3g", arch, op, cross.Verdict, cross.Slots[0].Diff.Rel)
			if op == "matmul" && cross.Verdict != ActivationQuant {
				t.Errorf("%s matmul on q4_K: %s, want %s", arch, cross.Verdict, ActivationQuant)
			}
			if op == "rope" && (len(cross.Slots) != 2 || cross.Slots[1].Slot != probes.KRope) {
				t.Errorf("rope replays %d slots", len(cross.Slots))
			}
		}
	}
}

// TestOpFindsADifferentWeight: B's attn_norm weights differ (another
// seed), so B's rmsnorm on A's input is a defect, while its embedding
// input was A's all along.
func TestOpFindsADifferentWeight(t *testing.T) {
	s := fixtures.Default("llama", ggml.F32)
	a := open(t, fixture(t, s))
	s.Seed = 2
	b := open(t, fixture(t, s))
	r, err := CompareOp(context.Background(), a, b, OpOptions{Op: "rmsnorm", Layer: 1, Tokens: []int32{1, 300, 301}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != Defect || r.EngineA != "gguf" || r.EngineB != "gguf" || r.Slots[0].Inputs[0] != "layer input: out of layer 0" {
		t.Errorf("verdict %s, engines %s/%s, inputs %v", r.Verdict, r.EngineA, r.EngineB, r.Slots[0].Inputs)
	}
}

// TestOpFromATraceFile: inputs read back from a full trace file give the
// same comparison as a fresh run; a statistics-only trace, another prompt
// or a missing record is refused with the reason.
func TestOpFromATraceFile(t *testing.T) {
	w := open(t, fixture(t, fixtures.Default("qwen2", ggml.Q8_0)))
	tok := []int32{1, 300, 301, 302}
	e, err := aprengine.New(w, aprengine.Options{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	write := func(mode probes.Mode) *probes.Trace {
		pol := probes.Policy{Mode: mode}
		rec, _ := probes.NewRecorder(pol)
		e.Reset()
		if _, err := e.Forward(context.Background(), 0, tok, rec); err != nil {
			t.Fatal(err)
		}
		h := probes.Header{Runtime: "parity", Engine: "apr", Policy: pol,
			Model: probes.Model{Path: w.Path, Arch: "qwen2", Dims: probes.Dims{Embd: w.Config.NEmbd, Layers: w.Config.NLayer,
				Heads: w.Config.NHead, KVHeads: w.Config.NHeadKV, HeadDim: w.Config.HeadDim, FF: w.Config.NFF, Vocab: w.Config.NVocab}}}
		h.SetTokens(tok, len(tok))
		tr, err := rec.Trace(h)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "a.trace.jsonl.zst")
		if err := probes.WriteFile(path, tr); err != nil {
			t.Fatal(err)
		}
		back, err := probes.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return back
	}
	full := write(probes.ModeFull)
	o := OpOptions{Op: "attention", Layer: 1, EngineA: "apr", EngineB: "gguf"}
	run, err := CompareOp(context.Background(), w, w, OpOptions{Op: o.Op, Layer: 1, EngineA: "apr", EngineB: "gguf", Tokens: tok})
	if err != nil {
		t.Fatal(err)
	}
	o.Trace, o.TraceName = full, "a.trace"
	fromFile, err := CompareOp(context.Background(), w, w, o)
	if err != nil {
		t.Fatal(err)
	}
	if fromFile.Slots[0].Diff != run.Slots[0].Diff || !fromFile.Slots[0].TraceCheck.Zero() || !strings.HasPrefix(fromFile.Input, "trace a.trace (engine apr)") {
		t.Errorf("from the file %+v (%s), from a run %+v", fromFile.Slots[0].Diff, fromFile.Input, run.Slots[0].Diff)
	}
	for _, c := range []struct {
		name string
		o    OpOptions
		want string
	}{
		{"stats only", OpOptions{Op: "attention", Layer: 1, Trace: write(probes.ModeStats)}, "--full"},
		{"other prompt", OpOptions{Op: "attention", Layer: 1, Trace: full, Tokens: []int32{1, 2}}, "not the one given"},
		{"no such layer", OpOptions{Op: "attention", Layer: 9, Tokens: tok}, "no layer 9"},
		{"unknown op", OpOptions{Op: "conv", Layer: 0, Tokens: tok}, "unknown op"},
		{"global slot", OpOptions{Slot: probes.Logits, Layer: 0, Tokens: tok}, "no operation"},
		{"qk-norm on qwen2", OpOptions{Slot: probes.QNorm, Layer: 0, Tokens: tok}, "no operation"},
		{"unknown engine", OpOptions{Op: "rmsnorm", Layer: 0, Tokens: tok, EngineB: "llamacpp"}, "unknown engine"},
		{"no prompt", OpOptions{Op: "rmsnorm", Layer: 0}, "no prompt"},
	} {
		if _, err := CompareOp(context.Background(), w, w, c.o); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}

// TestOpSlotOverride: --slot replays any per-layer slot, here the down
// projection, which on Q8_0 weights quantizes its activations to Q8_0.
func TestOpSlotOverride(t *testing.T) {
	w := open(t, fixture(t, fixtures.Default("qwen2", ggml.Q8_0)))
	r, err := CompareOp(context.Background(), w, w, OpOptions{Slot: probes.FFNOut, Layer: 0, EngineA: "apr", EngineB: "gguf", Tokens: []int32{1, 300}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Op != "ffn_out" || r.Slots[0].Slot != probes.FFNOut || r.Verdict != ActivationQuant || r.Slots[0].Inputs[0] != "ffn_swiglu" {
		t.Errorf("op %s, slot %s, verdict %s, inputs %v", r.Op, r.Slots[0].Slot, r.Verdict, r.Slots[0].Inputs)
	}
}
