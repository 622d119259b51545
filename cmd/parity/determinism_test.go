package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/layerwise/parity/probes"
)

// TestTracesAreReproducibleAcrossEngines extends TestTraceIsReproducible
// to the APR engine and to APR files: for each (engine, file) pair, the
// same run twice with two threads and once with one, over a prompt and
// three decode steps, writes byte-identical trace and sidecar files, and
// they read back with records for every step.
func TestTracesAreReproducibleAcrossEngines(t *testing.T) {
	dir := t.TempDir()
	g := shared(t, "models/derived/tiny-qwen2-random-Q4_K_M.gguf")
	ap := filepath.Join(dir, "m.apr")
	if _, stderr, code := parity(t, "convert", g, "-o", ap); code != 0 {
		t.Fatalf("convert: %s", stderr)
	}
	for _, c := range []struct{ engine, model string }{{"apr", g}, {"apr", ap}, {"gguf", ap}} {
		var first [2][]byte
		for i, threads := range []string{"2", "1", "2"} {
			sub := filepath.Join(dir, fmt.Sprintf("%s-%s-%d", c.engine, filepath.Ext(c.model)[1:], i))
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(sub, "run"+probes.TraceSuffix)
			if _, stderr, code := parity(t, "trace", "-m", c.model, "--engine", c.engine, "-p", "Once upon a time", "-n", "3",
				"--full", "--threads", threads, "-o", out); code != 0 {
				t.Fatalf("%s on %s: exit %d: %s", c.engine, c.model, code, stderr)
			}
			trace, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			sidecar, err := os.ReadFile(probes.SidecarPath(out))
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				first = [2][]byte{trace, sidecar}
				tr, err := probes.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				steps := map[int]bool{}
				for _, r := range tr.Records {
					steps[r.Step] = true
				}
				if len(steps) != 4 || tr.Header.Engine != c.engine {
					t.Errorf("%s on %s: engine %q, steps %v", c.engine, c.model, tr.Header.Engine, steps)
				}
				continue
			}
			if !bytes.Equal(trace, first[0]) || !bytes.Equal(sidecar, first[1]) {
				t.Errorf("%s on %s: run %d (%s threads) differs from run 0", c.engine, filepath.Base(c.model), i, threads)
			}
		}
	}
}
