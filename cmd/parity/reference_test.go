package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBisectThreeWay: with --ref llamacpp, a fault planted in B is
// attributed to B, because A agrees with llama.cpp at the first divergence
// and B does not. llama.cpp is played by a script that copies the recorded
// exact-mode dump of the same model and tokens, as the real dumper writes it.
func TestBisectThreeWay(t *testing.T) {
	dump, err := filepath.Abs(shared(t, "llamacpp/stories260K-exact"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "llama-dump")
	script := fmt.Sprintf("#!/bin/sh\nout=\nwhile [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=$2; shift; done\ncp '%s'/* \"$out\"/\n", dump)
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	m := shared(t, "models/stories260K.gguf")
	out, errOut, code := parity(t, "--color", "never", "bisect", "--a", m, "--b", m, "--tokens", "1,403,407,261,378", "--decode", "4",
		"--ref", "llamacpp", "--llama-bin", bin, "--b-fault", "gelu@2")
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"first divergence: step 0 layer 2 ffn_act", "reference llamacpp at step 0 layer 2 ffn_swiglu: A PASS, B FAIL", "llamacpp does not hold step 0 layer 2 ffn_act",
		"B diverges from llamacpp"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
