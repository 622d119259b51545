package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
)

func TestCompareDecode(t *testing.T) {
	m := shared(t, "models/stories260K.gguf")
	args := []string{"--color", "never", "diag", "compare-decode", "--model", m, "--tokens", "1,403,407,261,378", "-n", "8", "--threads", "2"}
	out, errOut, code := parity(t, args...)
	if code != 0 || !strings.Contains(out, "PASS") || !strings.Contains(out, "top-1 agreement: 9 of 9 steps") || !strings.Contains(out, "A is one prefill of all 13 positions, B the 5-token prompt then 8 single-token steps") {
		t.Errorf("clean engine: exit %d\n%s%s", code, out, errOut)
	}

	// A KV-cache fault is named at its step, layer and slot.
	out, errOut, code = parity(t, append(args, "--fault", "stale-kv@2")...)
	if code != 1 || !strings.Contains(out, "first divergence: step 1 layer 2 attn_ctx") || !strings.Contains(out, "FAIL    │ ") {
		t.Errorf("stale-kv@2: exit %d\n%s%s", code, out, errOut)
	}

	out, errOut, code = parity(t, append(args, "--json", "--kv-type", "f16")...)
	var res diff.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("exit %d, %v: %s%s", code, err, out, errOut)
	}
	if code != 0 || res.Profile != diff.ProfileQuant || !strings.Contains(strings.Join(res.Notes, "|"), "f16 KV cache: judged with the quant profile") ||
		res.Decode == nil || res.Decode.Agreement == nil || res.Decode.Agreement.N != 9 || res.Decode.Agreement.K != 0 {
		t.Errorf("f16 cache: exit %d, profile %s, notes %q, decode %+v", code, res.Profile, res.Notes, res.Decode)
	}

	for _, bad := range [][]string{{"-n", "0"}, {"--fault", "nonsense@1"}} {
		if _, errOut, code := parity(t, append(args[:len(args)-4:len(args)-4], bad...)...); code != 3 {
			t.Errorf("%v: exit %d: %s", bad, code, errOut)
		}
	}
}
