package ggufengine

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/llamacpp"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/stats"
)

// defaultDumps are the recordings taken with llama.cpp's defaults: flash
// attention on, f16 KV cache, a 512-cell context (run.log: n_ctx = 512).
func defaultDumps(t *testing.T) []string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(dumpDir, "*-default"))
	if len(dirs) == 0 {
		t.Fatalf("no default-mode dumps under %s", dumpDir)
	}
	return dirs
}

// TestFlashAttnMatchesDefaultDumpsBitForBit feeds flashAttend the Q, K
// and V that llama.cpp recorded in the default-mode dumps (post-RoPE Qcur
// and Kcur, Vcur, K and V cached as f16 across the steps) and requires
// llama.cpp's kqv_out, the FLASH_ATTN_EXT output, bit for bit at every
// layer and step: the one-chunk kernel on the prompts and the decode steps.
func TestFlashAttnMatchesDefaultDumpsBitForBit(t *testing.T) {
	for _, dir := range defaultDumps(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			d, err := llamacpp.ReadDump(dir)
			if err != nil {
				t.Fatal(err)
			}
			w, err := model.OpenGGUF(dumpModel(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			c := w.Config
			oc := &opsCase{t, d}
			scale := 1 / float32(math.Sqrt(float64(float32(c.HeadDim))))
			cache := make([]kvLayer, c.NLayer)
			checked := 0
			for step := 0; step < d.Steps(); step++ {
				first, T := d.Positions(step)
				for l := range cache {
					name := func(base string) string { return fmt.Sprintf("%s-%d", base, l) }
					q := oc.load(step, name("Qcur"), "ROPE")
					kv := &cache[l]
					start := len(kv.k)
					kv.k = append(kv.k, oc.load(step, name("Kcur"), "ROPE")...)
					kv.v = append(kv.v, oc.load(step, name("Vcur"), "RESHAPE")...)
					roundF16(kv.k[start:])
					roundF16(kv.v[start:])
					got := make([]float32, len(q))
					flashAttend(got, q, kv.k, kv.v, T, first, c.NHead, c.NHeadKV, c.HeadDim, flashNKV(first+T), scale, false, nil)
					oc.same(fmt.Sprintf("step %d layer %d kqv_out", step, l), oc.load(step, name("kqv_out"), "RESHAPE"), got)
					checked++
				}
			}
			t.Logf("%d kqv_out tensors bit for bit over %d steps", checked, d.Steps())
		})
	}
}

// TestMatchesLlamaCppDefaultDumps runs the dumps' tokens through the engine
// in llama.cpp's default mode (f16 KV cache, flash attention) and compares
// every slot llama.cpp names, at every layer and step, with the recorded
// tensors; in the last layer llama.cpp keeps only the output row after
// attention, and only that row is paired. The budget is the exact mode's
// 1e-8 NMSE, and every tensor must be bitwise identical but the last
// layer's FFN and what follows at the prompt step, which
// llama.cpp runs on the output row alone, with the single-row matmul
// kernels, where the engine runs every prompt row with the batched ones
// (about 1e-14 NMSE).
func TestMatchesLlamaCppDefaultDumps(t *testing.T) {
	const budget = 1e-8
	worst := map[probes.Slot]float64{}
	var report []string
	for _, dir := range defaultDumps(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			d, err := llamacpp.ReadDump(dir)
			if err != nil {
				t.Fatal(err)
			}
			w, err := model.OpenGGUF(dumpModel(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			rec := runDefaultMode(t, w, d, ggml.F16)
			// Flash attention casts an f32 cache to f16 before reading it,
			// so the cache type must make no difference at all.
			for i, r := range runDefaultMode(t, w, d, ggml.F32).Records() {
				if o := rec.Records()[i]; o.Key() != r.Key() || !bitsEqual(o.Full, r.Full) {
					t.Fatalf("%v: the f32 cache gives other values than the f16 cache with flash attention", r.Key())
				}
			}
			pairs, err := d.Pairs(heldRows(t, d, rec.Records(), w.Config.Arch.Name), w.Config.Arch.Name)
			if err != nil {
				t.Error(err)
			}
			steps := map[int]bool{}
			exact := 0
			for _, p := range pairs {
				cmp, err := stats.Compare(p.Ref, p.Record.Full)
				if err != nil {
					t.Fatal(err)
				}
				steps[p.Record.Step] = true
				worst[p.Record.Slot] = max(worst[p.Record.Slot], cmp.NMSE)
				// Only what llama.cpp computes for the output row alone may
				// differ in the last bits: the last layer after attention and
				// the global slots after it, at the prompt step.
				r := p.Record
				outputRow := r.Step == 0 && (r.Layer == w.Config.NLayer-1 && r.Slot > probes.AttnOut || r.Layer == -1 && r.Slot != probes.Embed)
				if cmp.MaxAbsDiff == 0 {
					exact++
				} else if !outputRow {
					t.Errorf("%v: not bitwise identical to %s (max |diff| %.3g, NMSE %.3g)", r.Key(), p.Entry.File, cmp.MaxAbsDiff, cmp.NMSE)
				}
				if !(cmp.NMSE <= budget) {
					t.Errorf("%v: NMSE %.3g > %g (max |diff| %.3g at %d) vs %s", p.Record.Key(), cmp.NMSE, budget, cmp.MaxAbsDiff, cmp.MaxAbsIndex, p.Entry.File)
				}
			}
			if len(pairs) == 0 || len(steps) != d.Steps() {
				t.Fatalf("compared %d tensors over %d of the dump's %d steps", len(pairs), len(steps), d.Steps())
			}
			report = append(report, fmt.Sprintf("%-32s %4d tensors over %d steps, %d identical", filepath.Base(dir), len(pairs), len(steps), exact))
		})
	}
	keys := make([]probes.Slot, 0, len(worst))
	for k := range worst {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-12s %.2e\n", k, worst[k])
	}
	t.Logf("per model:\n%s\nper slot, worst NMSE over the default dumps:\n%s", strings.Join(report, "\n"), b.String())
}

// runDefaultMode runs the dump's prompt and decode steps through an engine
// with flash attention and the given cache type, recording full tensors.
func runDefaultMode(t *testing.T, w *model.Weights, d *llamacpp.Dump, kv ggml.Type) *probes.Recorder {
	t.Helper()
	e, err := New(w, Options{Threads: 2, KVType: kv, FlashAttn: true, MaxContext: 512})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := probes.NewRecorder(probes.Policy{Mode: probes.ModeFull})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := e.Forward(ctx, 0, d.Prompt, rec); err != nil {
		t.Fatal(err)
	}
	for step := 1; step < d.Steps(); step++ {
		if _, err := e.Forward(ctx, step, d.Gen[step-1:step], rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	return rec
}

func bitsEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// heldRows cuts every record down to the positions its llama.cpp node
// holds: the step's last rows when the node has fewer rows than the step
// has positions (the last layer after attention, result_norm and
// result_output in default mode, where llama.cpp computes only the output
// row). Records without a node are left as they are.
func heldRows(t *testing.T, d *llamacpp.Dump, records []probes.Record, arch string) []probes.Record {
	t.Helper()
	out := make([]probes.Record, 0, len(records))
	for _, r := range records {
		g, ok := probes.LlamaCppNode(r.Slot, arch)
		e, found := d.Find(r.Step, g.Name(r.Layer), g.Ops)
		if ok && found && int(e.Rows()) < len(r.Positions) {
			keep := r.Positions[len(r.Positions)-int(e.Rows()):]
			full, err := r.FullRows(keep)
			if err != nil {
				t.Fatal(err)
			}
			r.Positions, r.Full, r.Count = keep, full, int64(len(full))
		}
		out = append(out, r)
	}
	return out
}
