package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes"
)

func TestParseBytes(t *testing.T) {
	for s, want := range map[string]int64{
		"0": 0, "512": 512, "2GiB": 2 << 30, "2 gib": 2 << 30, "1.5MiB": 3 << 19, "8GB": 8e9, "10kb": 10000,
		"3K": 3 << 10, "2m": 2 << 20, "1T": 1 << 40, "100B": 100,
	} {
		if got, err := parseBytes(s); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", s, got, err, want)
		}
	}
	for _, s := range []string{"", "GiB", "-1GiB", "2 GiBs", "1e30TiB", "NaN", "Inf", "2x"} {
		if got, err := parseBytes(s); err == nil {
			t.Errorf("parseBytes(%q) = %d, want an error", s, got)
		}
	}
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.00 KiB", 1536 << 20: "1.50 GiB", 100 << 20: "100 MiB", 10<<30 + 1<<29: "10.5 GiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestMaxMemory: a full capture whose estimate exceeds --max-memory is
// refused before anything runs (exit 3, the numbers in the message, no
// file written); a stats-only trace is not limited; a bad value is a
// usage error; the default (the physical memory) lets a small model run.
func TestMaxMemory(t *testing.T) {
	m := shared(t, "models/stories260K.gguf")
	rt, err := runtimes.Open(m, "gguf", runtimes.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dims := rt.Model().Dims
	rt.Close()
	full := probes.Policy{Mode: probes.ModeFull}
	trace := formatBytes(full.FullBytes(dims, 5, 3)) // "Once upon a time" is 5 ids with BOS
	run := formatBytes(full.FullBytes(dims, 5, 0))
	dir := t.TempDir()
	out := filepath.Join(dir, "x.trace.jsonl.zst")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"trace", "-m", m, "-p", "Once upon a time", "-n", "3", "--full", "--max-memory", "100KiB", "-o", out}, 3,
			"full-tensor capture would hold about " + trace + " (5 layers, 8 positions), more than --max-memory 100 KiB"},
		{[]string{"trace", "-m", m, "-p", "Once upon a time", "--full", "--layers", "0", "--slots", "q", "--max-memory", "100KiB", "-o", out}, 0, "wrote"},
		{[]string{"trace", "-m", m, "-p", "Once upon a time", "--max-memory", "1KiB", "-o", out}, 0, "wrote"},
		{[]string{"trace", "-m", m, "-p", "Once upon a time", "--max-memory", "lots", "-o", out}, 3, `--max-memory: "lots" is not a size`},
		{[]string{"bisect", "--a", m, "--b", m, "-p", "Once upon a time", "--max-memory", "200KiB"}, 3,
			"(4 runs × " + run + ": 5 layers, 5 positions), more than --max-memory 200 KiB"},
		{[]string{"bisect", "--a", m, "--b", m, "-p", "Once upon a time", "--profile", "exact", "--max-memory", "200KiB"}, 3,
			"(2 runs × " + run + ": 5 layers"},
		{[]string{"--color", "never", "bisect", "--a", m, "--b", m, "-p", "Once upon a time", "--profile", "exact"}, 0, ""},
	} {
		os.Remove(out)
		stdout, stderr, code := parity(t, tc.args...)
		if code != tc.code || !strings.Contains(stdout+stderr, tc.msg) {
			t.Errorf("%v: exit %d\n%s%s\nwant exit %d and %q", tc.args, code, stdout, stderr, tc.code, tc.msg)
		}
		if _, err := os.Stat(out); tc.code != 0 && err == nil {
			t.Errorf("%v: refused, yet wrote %s", tc.args, out)
		}
	}
}
