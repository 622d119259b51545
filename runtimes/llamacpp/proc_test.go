//go:build unix

package llamacpp

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// A llama.cpp that dies by a signal — a crash, or the OOM killer — is an
// ErrExit whose message names the signal, with the end of its stderr.
func TestRunReportsSignal(t *testing.T) {
	for _, c := range []struct{ signal, text string }{
		{"SEGV", "segmentation fault"},
		{"ABRT", "aborted"},
		{"KILL", "killed"},
	} {
		bin, _ := fakeBin(t, "llama-dump", "echo 'ggml_abort: tensor out of bounds' >&2\nkill -"+c.signal+" $$\nsleep 5")
		rt := open(t, "stories260K.gguf", Options{Bin: bin})
		_, err := rt.Run(context.Background(), Request{Prompt: []int32{1}}, nil)
		if !errors.Is(err, ErrExit) || !strings.Contains(err.Error(), "signal: "+c.text) ||
			!strings.Contains(err.Error(), "(SIG"+c.signal+")") || !strings.Contains(err.Error(), "tensor out of bounds") {
			t.Errorf("SIG%s: %v", c.signal, err)
		}
	}
}
