package aprengine_test

import (
	"context"
	"math"
	"testing"

	"github.com/layerwise/parity/runtimes/aprengine"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
)

// TestLastLogits: with Options.LastLogits a Forward returns exactly the
// last row of what it returns without, prefill and decode alike.
func TestLastLogits(t *testing.T) {
	w := fixture(t, fixtures.Default("qwen2", ggml.Q4_K))
	vocab := w.Config.NVocab
	run := func(last bool) [][]float32 {
		e, err := aprengine.New(w, aprengine.Options{LastLogits: last})
		if err != nil {
			t.Fatal(err)
		}
		var out [][]float32
		for step, toks := range [][]int32{{5, 9, 300, 17, 60}, {42}} {
			l, err := e.Forward(context.Background(), step, toks, nil)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, l)
		}
		return out
	}
	all, last := run(false), run(true)
	for i := range all {
		want := all[i][len(all[i])-vocab:]
		if len(last[i]) != vocab {
			t.Fatalf("step %d: %d logits, want one row of %d", i, len(last[i]), vocab)
		}
		for j := range want {
			if math.Float32bits(last[i][j]) != math.Float32bits(want[j]) {
				t.Fatalf("step %d logit %d: %g, want %g", i, j, last[i][j], want[j])
			}
		}
	}
}
