package aprengine_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/aprengine"
	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/model"
)

// prefill runs tokens as step 0 from an empty cache and returns the trace.
func prefill(t *testing.T, e *aprengine.Engine, tokens []int32) *probes.Trace {
	t.Helper()
	rec := fullRecorder(t)
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

// opInputs collects from tr the step-0 inputs of record r's operation.
func opInputs(tr *probes.Trace, r probes.Record, qkNorm bool) map[probes.Slot][]float32 {
	need, _, _ := r.Slot.Inputs(qkNorm)
	in := map[probes.Slot][]float32{}
	for _, s := range need {
		in[s] = tr.Find(probes.Key{Step: 0, Layer: r.Layer, Slot: s}).Full
	}
	return in
}

func faultyEngine(t *testing.T, w *model.Weights, fs faults.Set) *aprengine.Engine {
	t.Helper()
	e, err := aprengine.New(w, aprengine.Options{Threads: 2, Faults: fs})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestReplayReproducesForward: replaying a layer, or any single operation,
// on the engine's own recorded inputs gives its recorded outputs bit for
// bit, and leaves the engine's cache alone.
func TestReplayReproducesForward(t *testing.T) {
	tokens := []int32{1, 300, 301, 302, 303, 304, 305}
	for _, arch := range []string{"llama", "qwen2", "qwen3"} {
		w := fixture(t, fixtures.Default(arch, ggml.Q4_K))
		e := newEngine(t, w, 2)
		tr := prefill(t, e, tokens)
		ctx := context.Background()
		for l := 0; l < w.Config.NLayer; l++ {
			rec := fullRecorder(t)
			if err := e.ReplayLayer(ctx, l, layerInput(tr, l), rec); err != nil {
				t.Fatal(err)
			}
			recs := rec.Records()
			if len(recs) == 0 {
				t.Fatalf("%s: ReplayLayer %d recorded nothing", arch, l)
			}
			for _, r := range recs {
				if want := tr.Find(r.Key()); want == nil || !sameBits(want.Full, r.Full) {
					t.Errorf("%s: ReplayLayer %v differs from the forward pass", arch, r.Key())
				}
			}
			for _, r := range tr.Records {
				if r.Layer != l {
					continue
				}
				got, err := e.ReplayOp(ctx, l, r.Slot, layerInput(tr, l), opInputs(tr, r, w.Config.Arch.QKNorm))
				if err != nil {
					t.Fatalf("%s: ReplayOp %v: %v", arch, r.Key(), err)
				}
				if !sameBits(got, r.Full) {
					t.Errorf("%s: ReplayOp %v differs from the forward pass", arch, r.Key())
				}
			}
		}
		if e.Pos() != len(tokens) {
			t.Errorf("%s: Pos %d after replays, want %d", arch, e.Pos(), len(tokens))
		}
	}
}

// TestReplayErrors: a replay with a missing layer, slot or input, or with
// inputs of different lengths, is an error naming the engine.
func TestReplayErrors(t *testing.T) {
	w := fixture(t, fixtures.Default("llama", ggml.F32))
	e := newEngine(t, w, 1)
	tr := prefill(t, e, []int32{1, 300, 301})
	ctx := context.Background()
	x := layerInput(tr, 0)
	swiglu := tr.Find(probes.Key{Step: 0, Layer: 0, Slot: probes.FFNAct}).Full
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for name, err := range map[string]error{
		"layer":        e.ReplayLayer(ctx, w.Config.NLayer, x, nil),
		"layer input":  e.ReplayLayer(ctx, 0, x[:len(x)-1], nil),
		"canceled":     e.ReplayLayer(canceled, 0, x, nil),
		"op layer":     second(e.ReplayOp(ctx, -1, probes.AttnNorm, x, nil)),
		"global slot":  second(e.ReplayOp(ctx, 0, probes.Logits, x, nil)),
		"missing":      second(e.ReplayOp(ctx, 0, probes.Q, x, nil)),
		"mixed T":      second(e.ReplayOp(ctx, 0, probes.FFNSwiGLU, x, map[probes.Slot][]float32{probes.FFNAct: swiglu, probes.FFNUp: swiglu[:len(swiglu)/2]})),
		"op canceled":  second(e.ReplayOp(canceled, 0, probes.AttnNorm, x, nil)),
		"short x":      second(e.ReplayOp(ctx, 0, probes.AttnNorm, x[:3], nil)),
		"qk-norm slot": second(e.ReplayOp(ctx, 0, probes.QNorm, x, map[probes.Slot][]float32{probes.Q: swiglu})),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		} else if name != "canceled" && name != "op canceled" && !strings.HasPrefix(err.Error(), "aprengine: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

// TestFaultsShowWhereExpected: an engine with one planted fault, replaying
// a clean run's inputs op by op, first disagrees at the fault's slot and
// layer, and nowhere before it.
func TestFaultsShowWhereExpected(t *testing.T) {
	tokens := []int32{1, 300, 301, 302, 303, 304, 305}
	for _, arch := range []string{"llama", "qwen2", "qwen3"} {
		w := fixture(t, fixtures.Default(arch, ggml.F32))
		c := w.Config
		tr := prefill(t, newEngine(t, w, 2), tokens)
		for _, k := range faults.Kinds() {
			if k.Decode() || k == faults.SampleSize || k == faults.CorruptRows || k == faults.Transpose ||
				!k.Applies(c.Arch.QKVBias, c.Arch.QKNorm, c.NHead, c.NHeadKV) {
				continue
			}
			const layer = 1
			bad := faultyEngine(t, w, faults.Set{{Kind: k, Layer: layer}})
			var first *probes.Key
			for _, r := range tr.Records {
				if r.Layer < 0 {
					continue
				}
				got, err := bad.ReplayOp(context.Background(), r.Layer, r.Slot, layerInput(tr, r.Layer), opInputs(tr, r, c.Arch.QKNorm))
				if err != nil {
					t.Fatal(err)
				}
				if !sameBits(got, r.Full) {
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
	prompt, gen := []int32{1, 300, 301, 302, 303}, []int32{310, 311}
	for _, arch := range []string{"llama", "qwen2", "qwen3"} {
		w := fixture(t, fixtures.Default(arch, ggml.F32))
		clean := fullRecorder(t)
		run(t, newEngine(t, w, 2), prompt, gen, clean)
		tested := 0
		for _, k := range faults.Kinds() {
			if !k.Decode() {
				continue
			}
			tested++
			rec := fullRecorder(t)
			run(t, faultyEngine(t, w, faults.Set{{Kind: k, Layer: 1}}), prompt, gen, rec)
			a, b := clean.Records(), rec.Records()
			if len(a) != len(b) {
				t.Fatalf("%s %s: %d records, clean %d", arch, k, len(b), len(a))
			}
			var first *probes.Key
			for i := range a {
				if a[i].Key() != b[i].Key() {
					t.Fatalf("%s %s: record %d is %v, clean %v", arch, k, i, b[i].Key(), a[i].Key())
				}
				if !slices.Equal(a[i].Full, b[i].Full) {
					key := a[i].Key()
					first = &key
					break
				}
			}
			want := probes.Key{Step: 1, Layer: 1, Slot: k.Expect()}
			if first == nil || *first != want {
				t.Errorf("%s %s: first differing record %v, want %v", arch, k, first, want)
			}
		}
		if tested == 0 {
			t.Fatal("no decode fault kinds")
		}
	}
}
