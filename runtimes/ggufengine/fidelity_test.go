package ggufengine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/ggufengine"
	"github.com/layerwise/parity/runtimes/llamacpp"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/stats"
)

var sharedDir = filepath.Join("..", "..", "..", "shared")

// modelForDump resolves the model named in a dump's ABOUT.txt.
func modelForDump(t *testing.T, dir string) string {
	t.Helper()
	about, err := os.ReadFile(filepath.Join(dir, "ABOUT.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`model=(\S+)`).FindSubmatch(about)
	if m == nil {
		t.Fatalf("%s: no model= in ABOUT.txt", dir)
	}
	for _, p := range []string{filepath.Join(sharedDir, "models", string(m[1])), filepath.Join(sharedDir, "models", "derived", string(m[1]))} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s: model %s not found under %s/models", dir, m[1], sharedDir)
	return ""
}

// runDumpTokens runs the prompt and every decode step of the dump through
// the engine, recording full tensors.
func runDumpTokens(t *testing.T, w *model.Weights, d *llamacpp.Dump, threads int) *probes.Recorder {
	t.Helper()
	e, err := ggufengine.New(w, ggufengine.Options{Threads: threads})
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

// TestMatchesLlamaCppExactDumps compares every slot that llama.cpp names,
// at every layer and step, with the recorded exact-mode tensors.
func TestMatchesLlamaCppExactDumps(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join(sharedDir, "llamacpp", "*-exact"))
	if len(dirs) == 0 {
		t.Fatalf("no exact dumps under %s/llamacpp", sharedDir)
	}
	const budget = 1e-8
	worst := map[string]float64{} // slot → worst NMSE over all models
	var report []string
	for _, dir := range dirs {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			d, err := llamacpp.ReadDump(dir)
			if err != nil {
				t.Fatal(err)
			}
			w, err := model.OpenGGUF(modelForDump(t, dir))
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			rec := runDumpTokens(t, w, d, 2)
			arch := w.Config.Arch.Name
			compared := 0
			modelWorst := map[string]float64{}
			for _, r := range rec.Records() {
				g, ok := probes.LlamaCppNode(r.Slot, arch)
				if !ok {
					continue
				}
				e, ok := d.Find(r.Step, g.Name(r.Layer), g.Ops)
				if !ok {
					t.Errorf("%v: llama.cpp node %s %v not in the dump", r.Key(), g.Name(r.Layer), g.Ops)
					continue
				}
				ref, err := d.Load(e)
				if err != nil {
					t.Fatal(err)
				}
				if len(ref) != len(r.Full) {
					t.Errorf("%v: %d values, llama.cpp %s has %d", r.Key(), len(r.Full), e.File, len(ref))
					continue
				}
				c, err := stats.Compare(ref, r.Full)
				if err != nil {
					t.Fatal(err)
				}
				compared++
				slot := r.Slot.String()
				if w, seen := modelWorst[slot]; !seen || c.NMSE > w {
					modelWorst[slot] = c.NMSE
				}
				if w, seen := worst[slot]; !seen || c.NMSE > w {
					worst[slot] = c.NMSE
				}
				if !(c.NMSE <= budget) {
					t.Errorf("%v: NMSE %.3g > %g (max |diff| %.3g at %d) vs %s", r.Key(), c.NMSE, budget, c.MaxAbsDiff, c.MaxAbsIndex, e.File)
				}
			}
			if compared == 0 {
				t.Fatal("nothing compared")
			}
			report = append(report, fmt.Sprintf("%-32s %4d tensors, worst NMSE %s", name, compared, fmtWorst(modelWorst)))
		})
	}
	t.Logf("per model:\n%s", strings.Join(report, "\n"))
	t.Logf("per slot, worst NMSE over all exact dumps:\n%s", fmtTable(worst))
}

func fmtWorst(m map[string]float64) string {
	k, v := "", -1.0
	for s, x := range m {
		if x > v || (x == v && s < k) {
			k, v = s, x
		}
	}
	if v == 0 {
		return "0 (every tensor bit-identical)"
	}
	return fmt.Sprintf("%.2e (%s)", v, k)
}

func fmtTable(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, _ := probes.SlotByName(keys[i])
		b, _ := probes.SlotByName(keys[j])
		return a < b
	})
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-12s %.2e\n", k, m[k])
	}
	return b.String()
}
