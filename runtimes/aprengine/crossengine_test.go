package aprengine_test

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/ggufengine"
	"github.com/layerwise/parity/runtimes/llamacpp"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/stats"
)

// compareEngines runs the same tokens through this engine and ggufengine,
// checks that both recorded the same records in the same order, and
// returns the worst NMSE per slot (ggufengine as the reference) over all
// layers and in layer 0 alone (global slots count as layer 0), and the
// worst logits NMSE of any step.
func compareEngines(t *testing.T, w *model.Weights, prompt, gen []int32) (worst, first map[probes.Slot]float64, logits float64) {
	t.Helper()
	ge, err := ggufengine.New(w, ggufengine.Options{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	grec, arec := fullRecorder(t), fullRecorder(t)
	glog := run(t, ge, prompt, gen, grec)
	alog := run(t, newEngine(t, w, 2), prompt, gen, arec)
	gr, ar := grec.Records(), arec.Records()
	key := func(r probes.Record) probes.Key { return r.Key() }
	if gk, ak := mapSlice(gr, key), mapSlice(ar, key); !slices.Equal(gk, ak) {
		t.Fatalf("record order differs:\n gguf %v\n apr  %v", gk, ak)
	}
	worst, first = map[probes.Slot]float64{}, map[probes.Slot]float64{}
	for i := range gr {
		if !slices.Equal(gr[i].Positions, ar[i].Positions) {
			t.Fatalf("%v: positions %v, gguf %v", ar[i].Key(), ar[i].Positions, gr[i].Positions)
		}
		c, err := stats.Compare(gr[i].Full, ar[i].Full)
		if err != nil {
			t.Fatal(err)
		}
		worst[gr[i].Slot] = max(worst[gr[i].Slot], c.NMSE)
		if gr[i].Layer <= 0 {
			first[gr[i].Slot] = max(first[gr[i].Slot], c.NMSE)
		}
	}
	for s := range glog {
		c, err := stats.Compare(glog[s], alog[s])
		if err != nil {
			t.Fatal(err)
		}
		logits = max(logits, c.NMSE)
	}
	return worst, first, logits
}

func mapSlice[T, U any](s []T, f func(T) U) []U {
	out := make([]U, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

// TestAgainstGGUFEngineQ4KM runs the Q4_K_M models through both engines.
// ggufengine quantizes every activation row to Q8_K before the Q4_K/Q6_K
// dots; this engine multiplies f32 activations by the dequantized
// weights. The difference is the cost of activation quantization, about
// 5e-5 NMSE per matmul and 1e-3 at the logits (llamacpp-reference §6.2).
func TestAgainstGGUFEngineQ4KM(t *testing.T) {
	for _, name := range []string{"tiny-qwen2-random-Q4_K_M", "tiny-qwen3-random-Q4_K_M"} {
		t.Run(name, func(t *testing.T) {
			d, err := llamacpp.ReadDump(filepath.Join(sharedDir(t), "llamacpp", name+"-exact"))
			if err != nil {
				t.Fatal(err)
			}
			w := openWeights(t, modelPath(t, name+".gguf"))
			worst, first, logits := compareEngines(t, w, d.Prompt, d.Gen)
			t.Logf("worst NMSE per slot vs ggufengine over %d steps, layer 0 (one matmul's cost):\n%s", 1+len(d.Gen), slotTable(first))
			t.Logf("all layers:\n%s", slotTable(worst))
			if !(logits <= 2e-3) {
				t.Errorf("logits NMSE %.3g > 2e-3", logits)
			}
			if worst[probes.Embed] != 0 {
				t.Errorf("embeddings differ (NMSE %.3g): both engines must dequantize token_embd the same way", worst[probes.Embed])
			}
		})
	}
}

// TestAgainstGGUFEngineF32Fixtures covers every architecture (mistral and
// tied embeddings included) on f32 synthetic weights, where no activation
// is quantized on either side and the engines must agree to f32 rounding.
func TestAgainstGGUFEngineF32Fixtures(t *testing.T) {
	for _, arch := range model.SupportedArchs() {
		for _, tied := range []bool{false, true} {
			s := fixtures.Default(arch, ggml.F32)
			s.Tied = tied
			name := arch
			if tied {
				name += "-tied"
			}
			t.Run(name, func(t *testing.T) {
				w := fixture(t, s)
				worst, _, _ := compareEngines(t, w, []int32{1, 300, 17, 42, 99, 5}, []int32{7, 260})
				var top float64
				for slot, v := range worst {
					top = max(top, v)
					if !(v <= 1e-10) {
						t.Errorf("%s: NMSE %.3g > 1e-10", slot, v)
					}
				}
				t.Logf("worst NMSE of any slot: %.2e", top)
			})
		}
	}
}
