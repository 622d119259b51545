package aprengine_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/aprengine"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/model"
)

var (
	testPrompt = []int32{1, 403, 407, 261, 378, 300, 17, 42}
	testGen    = []int32{432, 383, 286, 261}
)

// threadModels are the models the determinism tests run: a real f32
// model and a K-quant fixture whose matrices span several tiles.
func threadModels(t *testing.T) map[string]*model.Weights {
	s := fixtures.Default("qwen3", ggml.Q4_K)
	s.NVocab = 512
	return map[string]*model.Weights{
		"stories260K":   openWeights(t, modelPath(t, "stories260K.gguf")),
		"qwen3-Q4_K-fx": fixture(t, s),
	}
}

// TestThreadsBitIdentical: every recorded tensor and every logit is the
// same bit pattern with 1, 2 and 3 threads.
func TestThreadsBitIdentical(t *testing.T) {
	for name, w := range threadModels(t) {
		t.Run(name, func(t *testing.T) {
			var refRecs []probes.Record
			var refLogits [][]float32
			for _, threads := range []int{1, 2, 3} {
				rec := fullRecorder(t)
				logits := run(t, newEngine(t, w, threads), testPrompt, testGen, rec)
				recs := rec.Records()
				if refRecs == nil {
					refRecs, refLogits = recs, logits
					continue
				}
				if len(recs) != len(refRecs) {
					t.Fatalf("%d threads: %d records, 1 thread %d", threads, len(recs), len(refRecs))
				}
				for i := range recs {
					if !sameBits(recs[i].Full, refRecs[i].Full) {
						t.Errorf("%d threads: %v differs from 1 thread", threads, recs[i].Key())
					}
				}
				for s := range logits {
					if !sameBits(logits[s], refLogits[s]) {
						t.Errorf("%d threads: step %d logits differ from 1 thread", threads, s)
					}
				}
			}
		})
	}
}

func sameBits(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

// TestDecodeEqualsPrefill: decoding through the KV cache gives the logits
// and layer outputs a single prefill of the whole sequence gives at the
// same positions. Every value of a position depends only on that
// position's row and the cached rows before it, each summed in a fixed
// order, so the two are not merely close but bit-identical; the test
// reports the max |diff| and requires 0.
func TestDecodeEqualsPrefill(t *testing.T) {
	for name, w := range threadModels(t) {
		t.Run(name, func(t *testing.T) {
			vocab, d := w.Config.NVocab, w.Config.NEmbd
			step := fullRecorder(t)
			stepped := run(t, newEngine(t, w, 2), testPrompt, testGen, step)
			whole := fullRecorder(t)
			all := run(t, newEngine(t, w, 2), append(slices.Clone(testPrompt), testGen...), nil, whole)[0]
			var maxDiff float64
			diff := func(a, b []float32) {
				for i := range a {
					maxDiff = max(maxDiff, math.Abs(float64(a[i])-float64(b[i])))
				}
			}
			diff(stepped[0], all[:len(testPrompt)*vocab])
			for s := 1; s < len(stepped); s++ {
				p := len(testPrompt) + s - 1
				diff(stepped[s], all[p*vocab:(p+1)*vocab])
			}
			// The residual stream of every layer at every decoded position.
			wholeOut := map[int][]float32{}
			for _, r := range whole.Records() {
				if r.Slot == probes.Out {
					wholeOut[r.Layer] = r.Full
				}
			}
			for _, r := range step.Records() {
				if r.Slot == probes.Out && r.Step > 0 {
					p := r.Positions[0]
					diff(r.Full, wholeOut[r.Layer][p*d:(p+1)*d])
				}
			}
			t.Logf("decode vs prefill: max |diff| %g over logits and layer outputs", maxDiff)
			if maxDiff != 0 {
				t.Errorf("decode through the cache differs from prefill by %g", maxDiff)
			}
		})
	}
}

// TestForwardErrors: bad input is an error that leaves the cache as it
// was, so the next call continues as if the failed one never happened.
func TestForwardErrors(t *testing.T) {
	w := fixture(t, fixtures.Default("llama", ggml.F32))
	ctx := context.Background()
	e, err := aprengine.New(w, aprengine.Options{Threads: 2, MaxContext: 8})
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.Forward(ctx, 0, []int32{1, 2, 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.Reset()
	if _, err := e.Forward(ctx, 0, []int32{1, 2}, nil); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for name, call := range map[string]func() error{
		"empty":     func() error { _, err := e.Forward(ctx, 1, nil, nil); return err },
		"negative":  func() error { _, err := e.Forward(ctx, 1, []int32{-1}, nil); return err },
		"too large": func() error { _, err := e.Forward(ctx, 1, []int32{int32(w.Config.NVocab)}, nil); return err },
		"overflow":  func() error { _, err := e.Forward(ctx, 1, make([]int32, 7), nil); return err },
		"canceled": func() error {
			_, err := e.Forward(canceled, 1, []int32{3}, nil)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("canceled: %v, want context.Canceled", err)
			}
			return err
		},
		// Layer 0 runs and appends to the cache; layer 1 sees the
		// cancellation, and the appended rows must be dropped again.
		"canceled mid-pass": func() error {
			_, err := e.Forward(&countdown{Context: ctx, left: 1}, 1, []int32{5}, nil)
			return err
		},
	} {
		if call() == nil {
			t.Errorf("%s: no error", name)
		}
		if e.Pos() != 2 {
			t.Fatalf("%s: Pos %d after a failed call, want 2", name, e.Pos())
		}
	}
	got, err := e.Forward(ctx, 1, []int32{3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !sameBits(got, want[2*w.Config.NVocab:]) {
		t.Error("a decode after failed calls differs from the uninterrupted run")
	}
}

// countdown is a context that reports cancellation after left calls of Err.
type countdown struct {
	context.Context
	left int
}

func (c *countdown) Err() error {
	if c.left--; c.left < 0 {
		return context.Canceled
	}
	return nil
}
