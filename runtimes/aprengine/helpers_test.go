package aprengine_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/aprengine"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/model"
)

// sharedDir is ../shared relative to the repository root (the directory
// holding go.mod), found by walking up from the package directory.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = up
	}
}

// modelPath resolves a model file name under ../shared/models or its
// derived/ directory.
func modelPath(t testing.TB, name string) string {
	t.Helper()
	for _, p := range []string{filepath.Join(sharedDir(t), "models", name), filepath.Join(sharedDir(t), "models", "derived", name)} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("model %s not found under %s/models", name, sharedDir(t))
	return ""
}

// dumpModel resolves the model named in a dump's ABOUT.txt.
func dumpModel(t testing.TB, dir string) string {
	t.Helper()
	about, err := os.ReadFile(filepath.Join(dir, "ABOUT.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`model=(\S+)`).FindSubmatch(about)
	if m == nil {
		t.Fatalf("%s: no model= in ABOUT.txt", dir)
	}
	return modelPath(t, string(m[1]))
}

func openWeights(t testing.TB, path string) *model.Weights {
	t.Helper()
	w, err := model.OpenGGUF(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// fixture writes a synthetic model to a temporary directory and opens it.
func fixture(t testing.TB, s fixtures.Spec) *model.Weights {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fixture.gguf")
	if err := fixtures.WriteGGUF(path, s); err != nil {
		t.Fatal(err)
	}
	return openWeights(t, path)
}

func fullRecorder(t testing.TB) *probes.Recorder {
	t.Helper()
	rec, err := probes.NewRecorder(probes.Policy{Mode: probes.ModeFull})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// forwarder is what both engines provide.
type forwarder interface {
	Forward(ctx context.Context, step int, tokens []int32, rec *probes.Recorder) ([]float32, error)
}

// run feeds prompt as step 0 and then each of gen as a single-token
// decode step, returning every step's logits (all positions of the step).
func run(t testing.TB, e forwarder, prompt, gen []int32, rec *probes.Recorder) [][]float32 {
	t.Helper()
	ctx := context.Background()
	out := make([][]float32, 0, 1+len(gen))
	logits, err := e.Forward(ctx, 0, prompt, rec)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, logits)
	for i := range gen {
		if logits, err = e.Forward(ctx, i+1, gen[i:i+1], rec); err != nil {
			t.Fatal(err)
		}
		out = append(out, logits)
	}
	if err := rec.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func newEngine(t testing.TB, w *model.Weights, threads int) *aprengine.Engine {
	t.Helper()
	e, err := aprengine.New(w, aprengine.Options{Threads: threads})
	if err != nil {
		t.Fatal(err)
	}
	return e
}
