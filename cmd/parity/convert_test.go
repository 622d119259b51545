package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestConvertThenInspect(t *testing.T) {
	out := filepath.Join(t.TempDir(), "s.apr")
	_, errOut, code := parity(t, "convert", shared(t, "models/derived/stories260K-Q8_0.gguf"), "-o", out, "--quantize", "apr-q8")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(errOut, "48 tensors, 16 copied unchanged, 32 q8_0→APR_Q8") {
		t.Errorf("summary: %s", errOut)
	}
	stdout, errOut, code := parity(t, "--color", "never", "inspect", out)
	if code != 0 {
		t.Fatalf("inspect: exit %d: %s", code, errOut)
	}
	for _, want := range []string{"APR v2.0", "│ n_vocab         │ 512 ", "APR_Q8×32", "blk.4.ffn_down.weight"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, stdout)
		}
	}

	if _, errOut, code = parity(t, "convert", shared(t, "models/stories260K.gguf"), "-o", out, "--quantize", "q8_0"); code != exitUsageIO || !strings.Contains(errOut, "apr-q4") {
		t.Errorf("bad --quantize: exit %d: %s", code, errOut)
	}
}
