package selftest

import (
	"context"
	"testing"

	"github.com/layerwise/parity/runtimes/faults"
)

// TestFaultZoo is the fault-zoo acceptance: every fault class, at two
// layers, on llama, qwen2 and qwen3 fixtures in f32 and Q4_K, must be
// localized to exactly its (step, layer, slot), and prompt-step faults must
// also be blamed on exactly that operation by teacher forcing.
func TestFaultZoo(t *testing.T) {
	cs, err := Run(context.Background(), Options{Dir: t.TempDir(), Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	ok, total := Summary(cs)
	kinds := map[faults.Kind]bool{}
	for _, c := range cs {
		kinds[c.Fault.Kind] = true
	}
	for _, k := range faults.Kinds() {
		if !kinds[k] {
			t.Errorf("fault %s was never planted", k)
		}
	}
	for _, c := range failures(cs) {
		t.Errorf("%s %s: expected %v, found %v, culprit %v: %s", c.Model, c.Fault, c.Expect, c.Found, c.Culprit, c.Note)
	}
	t.Logf("%d of %d planted faults localized exactly", ok, total)
}
