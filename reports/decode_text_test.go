package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
)

// decodeResult is a two-step result whose step 1 predicts another token
// and fails first at layer 0's attn_ctx.
func decodeResult() *diff.Result {
	r := &diff.Result{Pairs: []diff.Pair{
		{Step: 0, Slot: probes.Logits, Layer: -1, Verdict: diff.Pass},
		{Step: 1, Layer: 0, Slot: probes.AttnCtx, Verdict: diff.Fail},
		{Step: 1, Slot: probes.Logits, Layer: -1, Verdict: diff.Fail},
	}}
	ag := diff.Wilson(1, 2)
	r.Decode = &diff.Decode{
		Steps: []diff.DecodeStep{
			{Step: 0, Position: 4, Verdict: diff.Pass, Pairs: 1, Logits: &diff.LogitMetrics{Position: 4, KL: 1e-13, Top1A: 7, Top1B: 7, Top5: 5}},
			{Step: 1, Position: 5, Verdict: diff.Fail, Pairs: 2, First: &diff.Divergence{Index: 1, Step: 1, Layer: 0, Slot: probes.AttnCtx},
				Logits: &diff.LogitMetrics{Position: 5, KL: 0.25, Top1A: 9, Top1B: 3, Top5: 3}},
		},
		FirstFlip: &diff.DecodeFlip{Step: 1, Position: 6, A: 9, B: 3, TextA: " dog", TextB: "\x1b[31m"},
		Agreement: &ag, MaxKL: 0.25, MaxKLStep: 1,
	}
	return r
}

func TestDecodeSteps(t *testing.T) {
	var b bytes.Buffer
	if err := decodeSteps(&b, decodeResult(), TextOptions{}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"│    1 │        5 │ FAIL    │ 2.5e-01 │       9 │       3 │   3/5 │ layer 0 attn_ctx",
		"│    0 │        4 │ PASS    │ 1.0e-13 │       7 │       7 │   5/5 │ -",
		"top-1 agreement: 1 of 2 steps; divergence rate 0.500 (95% Wilson interval 0.095–0.905); max KL 2.50e-01 at step 1",
		`first differing token: step 1, the token for position 6: A 9 " dog", B 3 "\x1b[31m"; first failing tensor at that step: step 1 layer 0 attn_ctx`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("token text reached the terminal unescaped")
	}

	// Without text, with no failing tensor at the flip, with no logits.
	r := decodeResult()
	r.Decode.FirstFlip.TextA, r.Decode.FirstFlip.TextB = "", ""
	r.Decode.Steps[1].First = nil
	b.Reset()
	decodeSteps(&b, r, TextOptions{})
	if out := b.String(); !strings.Contains(out, "A 9, B 3; no tensor fails at that step") {
		t.Errorf("flip without text or failing tensor:\n%s", out)
	}
	r.Decode.Agreement, r.Decode.FirstFlip, r.Decode.Steps[0].Logits = nil, nil, nil
	b.Reset()
	decodeSteps(&b, r, TextOptions{})
	if out := b.String(); !strings.Contains(out, "no step's logits were compared in full") || strings.Contains(out, "first differing") {
		t.Errorf("no logits:\n%s", out)
	}
	b.Reset()
	if err := decodeSteps(&b, &diff.Result{}, TextOptions{}); err != nil || b.Len() != 0 {
		t.Errorf("no decode summary wrote %q (%v)", b.String(), err)
	}
}
