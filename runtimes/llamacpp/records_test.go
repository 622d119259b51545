package llamacpp

import (
	"bytes"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/layerwise/parity/probes"
)

// captureDump reads a shared dump into a full-tensor trace.
func captureDump(t *testing.T, dir string) (*Dump, *probes.Trace, Report) {
	t.Helper()
	d, err := ReadDump(dir)
	if err != nil {
		t.Fatal(err)
	}
	arch, dims := modelDims(t, dumpModel(t, dir))
	rec, _ := probes.NewRecorder(probes.Policy{Mode: probes.ModeFull})
	rep, err := d.Capture(rec, arch, dims)
	if err != nil {
		t.Fatal(err)
	}
	h := probes.Header{Engine: "llamacpp", Model: probes.Model{Arch: arch, Dims: dims}}
	h.SetTokens(append(slices.Clone(d.Prompt), d.Gen...), len(d.Prompt))
	tr, err := rec.Trace(h)
	if err != nil {
		t.Fatal(err)
	}
	return d, tr, rep
}

// postAttention are the slots llama.cpp computes after selecting the
// output rows in the last layer.
var postAttention = []probes.Slot{probes.AttnResid, probes.FFNNorm, probes.FFNGate, probes.FFNUp,
	probes.FFNSwiGLU, probes.FFNOut, probes.Out}

// Every recorded dump gives, at every step and layer, one record per slot
// llama.cpp holds for the arch, each over the positions llama.cpp
// computed: all rows of the step, except (default mode) the last layer
// after attention and the final norm and logits, which hold the last
// prompt position only.
func TestDumpsGiveWellFormedRecords(t *testing.T) {
	for _, dir := range dumpDirs(t) {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			d, tr, rep := captureDump(t, dir)
			arch, dims := tr.Header.Model.Arch, tr.Header.Model.Dims
			if len(rep.Unmapped) != 0 {
				t.Errorf("unmapped nodes %v", rep.Unmapped)
			}
			if !slices.ContainsFunc(rep.Unavailable, func(m Missing) bool { return m.Slot == probes.FFNAct }) {
				t.Errorf("ffn_act not reported unavailable: %v", rep.Unavailable)
			}
			defaultMode := strings.HasSuffix(name, "-default")
			p := len(d.Prompt)
			var want []probes.Key
			for step := range d.Steps() {
				for _, s := range probes.Slots() {
					g, ok := probes.LlamaCppNode(s, arch)
					if !ok && !derivable(s, g) || s == probes.RouterLogits || s == probes.ExpertIDs || s == probes.MoEOut {
						continue
					}
					for layer := range dims.Layers {
						if s.Global() {
							layer = -1
						}
						want = append(want, probes.Key{Step: step, Layer: layer, Slot: s})
						if s.Global() {
							break
						}
					}
				}
			}
			idx := tr.Index()
			if len(tr.Records) != len(want) {
				t.Errorf("%d records, want %d", len(tr.Records), len(want))
			}
			for _, k := range want {
				r := idx[k]
				if r == nil {
					t.Errorf("%v: no record", k)
					continue
				}
				pos := []int{p + k.Step - 1}
				if k.Step == 0 {
					lastOnly := defaultMode && (k.Slot.Global() && k.Slot != probes.Embed ||
						k.Layer == dims.Layers-1 && (slices.Contains(postAttention, k.Slot) || r.Derived))
					pos = seq(0, p)
					if lastOnly {
						pos = []int{p - 1}
					}
				}
				if !slices.Equal(r.Positions, pos) {
					t.Errorf("%v: positions %v, want %v", k, r.Positions, pos)
				}
				if r.Count != int64(len(pos)*k.Slot.PerToken(dims)) || int64(len(r.Full)) != r.Count {
					t.Errorf("%v: count %d, %d values", k, r.Count, len(r.Full))
				}
				if unnamed := k.Slot == probes.AttnOut && arch != "llama"; r.Derived != unnamed || unnamed && r.Note == "" {
					t.Errorf("%v: derived %v (%q)", k, r.Derived, r.Note)
				}
			}
		})
	}
}

func seq(a, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = a + i
	}
	return out
}

// The sample-size trap, stated plainly: in default mode the last layer's
// FFN ran on the last prompt position only, while layer 0 ran on all.
func TestDefaultModeLastLayerIsLastPositionOnly(t *testing.T) {
	for _, name := range []string{"stories260K-default", "tiny-qwen3-random-f32-default"} {
		d, tr, _ := captureDump(t, filepath.Join(sharedDir(t), "llamacpp", name))
		last, p := tr.Header.Model.Dims.Layers-1, len(d.Prompt)
		for _, k := range []probes.Key{{Layer: last, Slot: probes.FFNSwiGLU}, {Layer: last, Slot: probes.Out},
			{Layer: -1, Slot: probes.FinalNorm}, {Layer: -1, Slot: probes.Logits}} {
			if r := tr.Find(k); r == nil || !slices.Equal(r.Positions, []int{p - 1}) {
				t.Errorf("%s %v: %v, want last position %d only", name, k, r, p-1)
			}
		}
		if r := tr.Find(probes.Key{Step: 0, Layer: 0, Slot: probes.FFNSwiGLU}); r == nil || len(r.Positions) != p {
			t.Errorf("%s: layer 0 ffn_swiglu %v, want %d positions", name, r, p)
		}
	}
}

// attn_out derived as ffn_inp − layer input differs from llama.cpp's own
// o_proj node by at most half an ulp of ffn_inp (the rounding of the
// residual add) plus half an ulp of the result (its rounding to float32):
// checked on the llama dumps, where the node is named.
func TestDerivedAttnOutMatchesNamedNode(t *testing.T) {
	checked := 0
	for _, name := range []string{"stories260K-exact", "stories260K-default", "llama-2-tiny-random-exact"} {
		dir := filepath.Join(sharedDir(t), "llamacpp", name)
		d, err := ReadDump(dir)
		if err != nil {
			t.Fatal(err)
		}
		_, dims := modelDims(t, dumpModel(t, dir))
		find := func(step int, node string, op string) int {
			for i, e := range d.Entries {
				if e.Step == step && e.Name == node && e.Op == op {
					return i
				}
			}
			t.Fatalf("%s: no %s %s at step %d", name, node, op, step)
			return -1
		}
		for step := range d.Steps() {
			for l := range dims.Layers {
				in := "embd"
				inOp := "GET_ROWS"
				if l > 0 {
					in, inOp = "l_out-"+strconv.Itoa(l-1), "ADD"
				}
				k := probes.Key{Step: step, Layer: l, Slot: probes.AttnOut}
				got, err := d.derive(Derivation{Key: k, Minuend: find(step, "ffn_inp-"+strconv.Itoa(l), "ADD"), Subtrahend: find(step, in, inOp)}, dims)
				if err != nil {
					t.Fatal(err)
				}
				named, err := d.Load(&d.Entries[find(step, "attn_out-"+strconv.Itoa(l), "MUL_MAT")])
				if err != nil {
					t.Fatal(err)
				}
				named = named[len(named)-len(got.Full):] // the last layer's output rows
				sum, _ := d.Load(&d.Entries[find(step, "ffn_inp-"+strconv.Itoa(l), "ADD")])
				for i, v := range got.Full {
					if diff := math.Abs(float64(v - named[i])); diff > (ulp(sum[i])+ulp(v))/2 {
						t.Fatalf("%s %v element %d: derived %v, named %v, ffn_inp %v", name, k, i, v, named[i], sum[i])
					}
					checked++
				}
			}
		}
	}
	t.Logf("%d derived elements within the two roundings", checked)
}

func ulp(x float32) float64 {
	a := math.Abs(float64(x))
	return float64(math.Nextafter32(float32(a), float32(math.Inf(1)))) - a
}

// The stock text of a default-mode run and the exact-mode dump of the same
// model and prompt agree before attention (the modes differ only from the
// attention on): every printed layer-0 element within print precision,
// and the float32 running sum within its rounding.
func TestStockTextMatchesDump(t *testing.T) {
	for _, model := range []string{"tiny-qwen2-bpe-f32", "tiny-qwen2-bpe-Q4_K_M"} {
		txt, err := ParseText(bytes.NewReader(readShared(t, model+".txt")))
		if err != nil {
			t.Fatal(err)
		}
		d, full, _ := captureDump(t, filepath.Join(sharedDir(t), "llamacpp", model+"-exact"))
		arch, dims := full.Header.Model.Arch, full.Header.Model.Dims
		rec, _ := probes.NewRecorder(probes.Policy{})
		if _, err := txt.Capture(rec, arch, dims, len(d.Prompt)); err != nil {
			t.Fatal(err)
		}
		compared := 0
		worstAfter := 0.0
		for _, r := range rec.Records() {
			if !r.Partial || r.Sum == nil || len(r.Known) == 0 {
				t.Fatalf("%s %v: not a partial record with sum and values: %+v", model, r.Key(), r)
			}
			ref := full.Find(r.Key())
			if ref == nil {
				t.Fatalf("%s %v: not in the dump", model, r.Key())
			}
			rows, err := ref.FullRows(r.Positions)
			if err != nil {
				t.Fatalf("%s %v: %v", model, r.Key(), err)
			}
			before := r.Step == 0 && (r.Slot == probes.Embed || r.Layer == 0 && r.Slot < probes.AttnCtx)
			for _, kv := range r.Known {
				diff := math.Abs(float64(kv.Value - rows[kv.Index]))
				if !before {
					worstAfter = max(worstAfter, diff)
					continue
				}
				if diff > 1e-4 {
					t.Errorf("%s %v element %d: printed %v, dump %v", model, r.Key(), kv.Index, kv.Value, rows[kv.Index])
				}
				compared++
			}
			if before {
				var sum, abs float64
				for _, v := range rows {
					sum += float64(v)
					abs += math.Abs(float64(v))
				}
				if math.Abs(*r.Sum-sum) > 1e-5*abs+1e-6 {
					t.Errorf("%s %v: printed sum %v, dump %v", model, r.Key(), *r.Sum, sum)
				}
			}
		}
		if compared == 0 {
			t.Fatalf("%s: nothing compared", model)
		}
		t.Logf("%s: %d printed pre-attention elements within 1e-4; after attention (flash attention, f16 KV vs exact) worst |diff| %.3g",
			model, compared, worstAfter)
	}
}
