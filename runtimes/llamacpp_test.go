//go:build unix

package runtimes

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/layerwise/parity/probes"
)

// Open(path, "llamacpp", …) → Run → trace, end to end without llama.cpp:
// a fake dumper copies the recorded default-mode dump into its -o
// directory, and the trace must validate and carry the last-position-only
// records of llama.cpp's last layer.
func TestOpenLlamaCppEndToEnd(t *testing.T) {
	shared := filepath.Join("..", "..", "shared")
	dump, err := filepath.Abs(filepath.Join(shared, "llamacpp", "stories260K-default"))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "llama-dump")
	script := fmt.Sprintf("#!/bin/sh\nwhile [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=$2; shift; done\ncp '%s'/* \"$out\"/\n", dump)
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	rt, err := Open(filepath.Join(shared, "models", "stories260K.gguf"), "llamacpp", Options{LlamaBin: bin, LlamaMode: "default"})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close()
	pol := probes.Policy{Mode: probes.ModeFull}
	rec, _ := probes.NewRecorder(pol)
	prompt := []int32{1, 403, 407, 261, 378}
	res, err := rt.Run(context.Background(), Request{Prompt: prompt, Decode: 4}, rec)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int32{1, 403, 407, 261, 378, 432, 383, 286, 261}; !slices.Equal(res.Fed, want) || len(res.Next) != 5 {
		t.Fatalf("fed %v, next %v", res.Fed, res.Next)
	}
	tr, err := rec.Trace(Header(rt, res.Fed, len(prompt), pol, "test"))
	if err != nil {
		t.Fatal(err)
	}
	if tr.Header.Engine != "llamacpp" || tr.Header.EngineOptions["mode"] != "default" {
		t.Errorf("header %+v", tr.Header)
	}
	r := tr.Find(probes.Key{Step: 0, Layer: 4, Slot: probes.Out})
	if r == nil || !slices.Equal(r.Positions, []int{4}) || len(r.Full) != 64 {
		t.Errorf("last layer out: %+v", r)
	}
}
