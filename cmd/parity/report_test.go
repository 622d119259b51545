package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/reports"
	"github.com/layerwise/parity/reports/mdcheck"
)

// faultZooPair generates a Q4_K qwen2 model and its APR conversion, the
// pair the fault zoo and make demo bisect.
func faultZooPair(t *testing.T) (apr, gguf string) {
	t.Helper()
	dir := t.TempDir()
	gguf, apr = filepath.Join(dir, "m.gguf"), filepath.Join(dir, "m.apr")
	for _, args := range [][]string{
		{"fixtures", "--arch", "qwen2", "--type", "q4_k", "--layers", "3", "-o", gguf},
		{"convert", gguf, "-o", apr},
	} {
		if _, errOut, code := parity(t, args...); code != 0 {
			t.Fatalf("parity %v: exit %d: %s", args, code, errOut)
		}
	}
	return apr, gguf
}

func TestBisectReportDir(t *testing.T) {
	apr, gguf := faultZooPair(t)
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"--color", "never", "bisect", "--a", apr, "--b", gguf, "--prompt", "What is 2+2?", "--b-fault", "rope-style@1", "--report", out}
	stdout, errOut, code := parity(t, args...)
	if code != exitDivergence || !strings.HasPrefix(stdout, "FAIL") || !strings.Contains(stdout, "culprit op: step 0 layer 1 q_rope") {
		t.Fatalf("bisect --report: exit %d\n%s%s", code, stdout, errOut)
	}
	for _, name := range []string{reports.FileMarkdown, reports.FileHTML, reports.FileJSON, reports.FileTraceA, reports.FileTraceB} {
		if fi, err := os.Stat(filepath.Join(out, name)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
	}
	md, err := os.ReadFile(filepath.Join(out, reports.FileMarkdown))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mdcheck.Tables(md); err != nil {
		t.Errorf("report.md does not render as GitHub tables: %v", err)
	}
	js, err := os.ReadFile(filepath.Join(out, reports.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	var d reports.Document
	if err := json.Unmarshal(js, &d); err != nil {
		t.Fatal(err)
	}
	if c := d.Summary.Culprit; c == nil || c.Layer != 1 || c.Slot.String() != "q_rope" {
		t.Errorf("report.json culprit: %+v", c)
	}
	if !strings.Contains(d.Reproduce, "--b-fault rope-style@1") || !strings.Contains(d.Reproduce, "'What is 2+2?'") ||
		strings.Contains(d.Reproduce, "--report") || strings.Contains(d.Reproduce, "--color") {
		t.Errorf("reproduce command %q", d.Reproduce)
	}
	if len(d.Traces) != 2 {
		t.Errorf("traces %v", d.Traces)
	}

	// The directory is not overwritten without --force, before any work.
	if _, errOut, code := parity(t, args...); code != exitUsageIO || !strings.Contains(errOut, "not empty") {
		t.Errorf("second run without --force: exit %d: %s", code, errOut)
	}
	if _, errOut, code := parity(t, append(args, "--force")...); code != exitDivergence {
		t.Errorf("--force: exit %d: %s", code, errOut)
	}

	// The traces written beside the report re-judge offline, to any format.
	a, b := filepath.Join(out, reports.FileTraceA), filepath.Join(out, reports.FileTraceB)
	stdout, errOut, code = parity(t, "diff", "--format", "markdown", a, b)
	if code != exitDivergence || !strings.HasPrefix(stdout, "### ❌ FAIL") {
		t.Fatalf("diff --format markdown: exit %d\n%s%s", code, stdout, errOut)
	}
	if _, err := mdcheck.Tables([]byte(stdout)); err != nil {
		t.Errorf("diff markdown: %v", err)
	}
	stdout, _, _ = parity(t, "diff", "--format", "html", a, b)
	if !strings.HasPrefix(stdout, "<!DOCTYPE html>") || !strings.Contains(stdout, `id="first-divergence"`) {
		t.Errorf("diff --format html:\n%.300s", stdout)
	}
	stdout, _, _ = parity(t, "diff", "--format", "json", a, b)
	if err := json.Unmarshal([]byte(stdout), &d); err != nil || d.Kind != "diff" || d.Format != reports.ReportFormat {
		t.Errorf("diff --format json: %v, %q", err, d.Kind)
	}
	for _, bad := range [][]string{{"--format", "pdf"}, {"--format", "json", "--json"}} {
		if _, _, code := parity(t, append(append([]string{"diff"}, bad...), a, b)...); code != exitUsageIO {
			t.Errorf("diff %v: exit %d, want %d", bad, code, exitUsageIO)
		}
	}
}
