package ggufengine_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/ggufengine"
	"github.com/layerwise/parity/runtimes/model"
)

func fixture(t *testing.T, arch string, typ ggml.Type) *model.Weights {
	t.Helper()
	path := filepath.Join(t.TempDir(), arch+".gguf")
	if err := fixtures.WriteGGUF(path, fixtures.Default(arch, typ)); err != nil {
		t.Fatal(err)
	}
	w, err := model.OpenGGUF(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func prefill(t *testing.T, e *ggufengine.Engine, tokens []int32) *probes.Trace {
	t.Helper()
	rec, _ := probes.NewRecorder(probes.Policy{Mode: probes.ModeFull})
	e.Reset()
	if _, err := e.Forward(context.Background(), 0, tokens, rec); err != nil {
		t.Fatal(err)
	}
	return &probes.Trace{Records: rec.Records()}
}

// layerInput is the recorded input of layer l: embed, or the previous out.
func layerInput(tr *probes.Trace, l int) []float32 {
	if l == 0 {
		return tr.Find(probes.Key{Step: 0, Layer: -1, Slot: probes.Embed}).Full
	}
	return tr.Find(probes.Key{Step: 0, Layer: l - 1, Slot: probes.Out}).Full
}

// TestReplayReproducesForward: replaying a layer, or any single operation,
// on the engine's own recorded inputs gives its recorded outputs bit for bit.
func TestReplayReproducesForward(t *testing.T) {
	tokens := []int32{1, 300, 301, 302, 303, 304, 305}
	for _, arch := range []string{"llama", "qwen2", "qwen3"} {
		w := fixture(t, arch, ggml.Q4_K)
		e, err := ggufengine.New(w, ggufengine.Options{Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		tr := prefill(t, e, tokens)
		ctx := context.Background()
		for l := 0; l < w.Config.NLayer; l++ {
			rec, _ := probes.NewRecorder(probes.Policy{Mode: probes.ModeFull})
			if err := e.ReplayLayer(ctx, l, layerInput(tr, l), rec); err != nil {
				t.Fatal(err)
			}
			for _, r := range rec.Records() {
				if want := tr.Find(r.Key()); want == nil || !slices.Equal(want.Full, r.Full) {
					t.Errorf("%s: ReplayLayer %v differs from the forward pass", arch, r.Key())
				}
			}
			for _, r := range tr.Records {
				if r.Layer != l {
					continue
				}
				need, _, _ := r.Slot.Inputs(w.Config.Arch.QKNorm)
				in := map[probes.Slot][]float32{}
				for _, s := range need {
					in[s] = tr.Find(probes.Key{Step: 0, Layer: l, Slot: s}).Full
				}
				got, err := e.ReplayOp(ctx, l, r.Slot, layerInput(tr, l), in)
				if err != nil {
					t.Fatalf("%s: ReplayOp %v: %v", arch, r.Key(), err)
				}
				if !slices.Equal(got, r.Full) {
					t.Errorf("%s: ReplayOp %v differs from the forward pass", arch, r.Key())
				}
			}
		}
	}
}

// TestFaultsShowWhereExpected: an engine with one planted fault, replaying
// a clean run's inputs op by op, first disagrees at the fault's slot and
// layer, and nowhere before it.
func TestFaultsShowWhereExpected(t *testing.T) {
	tokens := []int32{1, 300, 301, 302, 303, 304, 305}
	for _, arch := range []string{"llama", "qwen2", "qwen3"} {
		w := fixture(t, arch, ggml.F32)
		c := w.Config
		clean, _ := ggufengine.New(w, ggufengine.Options{Threads: 1})
		tr := prefill(t, clean, tokens)
		for _, k := range faults.Kinds() {
			if k.Decode() || k == faults.SampleSize || k == faults.CorruptRows || k == faults.Transpose ||
				!k.Applies(c.Arch.QKVBias, c.Arch.QKNorm, c.NHead, c.NHeadKV) {
				continue
			}
			const layer = 1
			bad, _ := ggufengine.New(w, ggufengine.Options{Threads: 1, Faults: faults.Set{{Kind: k, Layer: layer}}})
			var first *probes.Key
			for _, r := range tr.Records {
				if r.Layer < 0 {
					continue
				}
				need, _, _ := r.Slot.Inputs(c.Arch.QKNorm)
				in := map[probes.Slot][]float32{}
				for _, s := range need {
					in[s] = tr.Find(probes.Key{Step: 0, Layer: r.Layer, Slot: s}).Full
				}
				got, err := bad.ReplayOp(context.Background(), r.Layer, r.Slot, layerInput(tr, r.Layer), in)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, r.Full) {
					key := r.Key()
					first = &key
					break
				}
			}
			want := probes.Key{Step: 0, Layer: layer, Slot: k.Expect()}
			if first == nil || *first != want {
				t.Errorf("%s %s: first differing op %v, want %v", arch, k, first, want)
			}
		}
	}
}

// TestDecodeFaultsShowAtStepOne: a decode fault leaves the prompt step
// exactly as the clean engine computes it and first changes the expected
// slot of its layer at the first decode step.
func TestDecodeFaultsShowAtStepOne(t *testing.T) {
	prompt := []int32{1, 300, 301, 302, 303}
	for _, arch := range []string{"llama", "qwen2", "qwen3"} {
		w := fixture(t, arch, ggml.F32)
		run := func(fs faults.Set) []probes.Record {
			e, _ := ggufengine.New(w, ggufengine.Options{Threads: 1, Faults: fs})
			rec, _ := probes.NewRecorder(probes.Policy{Mode: probes.ModeFull})
			ctx := context.Background()
			if _, err := e.Forward(ctx, 0, prompt, rec); err != nil {
				t.Fatal(err)
			}
			for step, id := range []int32{310, 311} {
				if _, err := e.Forward(ctx, step+1, []int32{id}, rec); err != nil {
					t.Fatal(err)
				}
			}
			return rec.Records()
		}
		clean := run(nil)
		for _, k := range faults.Kinds() {
			if !k.Decode() {
				continue
			}
			got := run(faults.Set{{Kind: k, Layer: 1}})
			var first *probes.Key
			for i := range clean {
				if !slices.Equal(clean[i].Full, got[i].Full) {
					key := clean[i].Key()
					first = &key
					break
				}
			}
			want := probes.Key{Step: 1, Layer: 1, Slot: k.Expect()}
			if first == nil || *first != want {
				t.Errorf("%s %s: first differing record %v, want %v", arch, k, first, want)
			}
		}
	}
}

// TestF32ActivationsIsTheQuantizationFloor: without activation
// quantization the GGUF engine agrees with itself on f32 weights exactly
// (nothing is quantized there), and on Q4_K weights it differs from its
// quantizing self by the expected ~1e-5..1e-3 NMSE per slot.
func TestF32ActivationsIsTheQuantizationFloor(t *testing.T) {
	tokens := []int32{1, 300, 301, 302, 303, 304}
	for _, typ := range []ggml.Type{ggml.F32, ggml.Q4_K} {
		w := fixture(t, "qwen2", typ)
		q, _ := ggufengine.New(w, ggufengine.Options{Threads: 2})
		f, _ := ggufengine.New(w, ggufengine.Options{Threads: 1, F32Activations: true})
		tq, tf := prefill(t, q, tokens), prefill(t, f, tokens)
		worst := 0.0
		for _, r := range tq.Records {
			o := tf.Find(r.Key())
			var num, den float64
			for i, v := range r.Full {
				d := float64(v) - float64(o.Full[i])
				num += d * d
				den += float64(o.Full[i]) * float64(o.Full[i])
			}
			if den > 0 && num/den > worst {
				worst = num / den
			}
		}
		switch {
		case typ == ggml.F32 && worst > 1e-10:
			t.Errorf("f32 weights: F32Activations changed the result (worst NMSE %.2e)", worst)
		case typ == ggml.Q4_K && (worst < 1e-7 || worst > 1e-2):
			t.Errorf("q4_K: activation quantization floor %.2e, expected ~1e-5..1e-3", worst)
		}
		t.Logf("%s: worst NMSE between quantized and f32 activations %.2e", typ, worst)
	}
}
