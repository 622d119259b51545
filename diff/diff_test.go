package diff_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
)

// stepRecords returns one q record per step for a prompt of n tokens and
// the given decode steps, values scaled by scale.
func stepRecords(n, steps int, per int, full bool) []probes.Record {
	var out []probes.Record
	for s := 0; s <= steps; s++ {
		pos := span(0, n-1)
		if s > 0 {
			pos = []int{n + s - 1}
		}
		out = append(out, spec{step: s, slot: probes.Q, pos: pos, rows: rows(pos, per, one), full: full}.build())
	}
	return out
}

func TestTokenCheck(t *testing.T) {
	ta := trace(t, tokens(5), 5, stepRecords(5, 0, 4, false)...)
	other := tokens(5)
	other[3] = 99
	res, err := diff.Diff(ta, trace(t, other, 5, stepRecords(5, 0, 4, false)...), diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Tokens.Differ
	if res.Verdict != diff.Refused || res.Tokens.Match || d == nil || d.Position != 3 || d.A != 13 || d.B != 99 ||
		len(res.Pairs) != 0 || !strings.Contains(res.Reason, "position 3: A has token 13, B 99") || res.Fix == "" {
		t.Errorf("different prompts: %+v", res)
	}
	if err := res.Verdict.Err(); err != diff.ErrRefused {
		t.Errorf("Err() = %v", err)
	}

	// Same ids, split differently between prompt and decode.
	tb := trace(t, tokens(6), 5, stepRecords(5, 1, 4, false)...)
	tc := trace(t, tokens(6), 6, stepRecords(6, 0, 4, false)...)
	res, _ = diff.Diff(tb, tc, diff.Options{})
	if res.Verdict != diff.Refused || res.Tokens.Differ != nil || !strings.Contains(res.Reason, "different lengths: A 5 tokens, B 6") {
		t.Errorf("different prompt lengths: %+v", res.Tokens)
	}
}

func TestDecodeSteps(t *testing.T) {
	// A ran 3 decode steps, B 2; B's step 2 was fed another token.
	ta := trace(t, tokens(8), 5, stepRecords(5, 3, 4, false)...)
	ids := tokens(7)
	ids[6] = 77
	tb := trace(t, ids, 5, stepRecords(5, 2, 4, false)...)
	res, err := diff.Diff(ta, tb, diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tokens.Steps != 1 || res.Tokens.Differ == nil || res.Tokens.Differ.Step != 2 || res.Tokens.Differ.Position != 6 {
		t.Fatalf("token check %+v", res.Tokens)
	}
	if len(res.Pairs) != 3 || res.OnlyA != 1 {
		t.Fatalf("%d pairs, %d only in A", len(res.Pairs), res.OnlyA)
	}
	for i, want := range []diff.Verdict{diff.Pass, diff.Pass, diff.Refused} {
		p := res.Pairs[i]
		checkInvariant(t, &p)
		if p.Step != i || p.Verdict != want {
			t.Errorf("step %d: %v %q", p.Step, p.Verdict, p.Reason)
		}
	}
	if r := res.Pairs[2].Reason; !strings.Contains(r, "decode step 2 was fed different tokens: position 6 is 16 in A, 77 in B") {
		t.Errorf("refusal reason %q", r)
	}
	notes := strings.Join(res.Notes, "\n")
	if !strings.Contains(notes, "A ran 3 decode step(s), B 2") || !strings.Contains(notes, "1 record only in A") {
		t.Errorf("notes %q", notes)
	}
	if res.Verdict != diff.Refused {
		t.Errorf("overall %v", res.Verdict)
	}
}

func TestFirstDivergence(t *testing.T) {
	var ra, rb []probes.Record
	pos := span(0, 3)
	for layer := range 4 {
		for _, s := range []probes.Slot{probes.AttnNorm, probes.Q, probes.Out} {
			a := spec{layer: layer, slot: s, pos: pos, rows: rows(pos, 4, one), full: true}
			b := a
			switch {
			case layer == 0 && s == probes.Out:
				b.rows = rows(pos, 8, one) // refused: not a divergence
			case layer == 1 && s == probes.Q, layer >= 2:
				b.rows = perturb(a.rows, 0.5)
			case layer == 1 && s == probes.Out:
				b.rows = perturb(a.rows, 0.05) // NMSE 2.5e-3, within out's budget: no divergence
			}
			ra, rb = append(ra, a.build()), append(rb, b.build())
		}
	}
	// Records in reverse order: Diff must sort by execution order.
	for i, j := 0, len(rb)-1; i < j; i, j = i+1, j-1 {
		rb[i], rb[j] = rb[j], rb[i]
	}
	res, err := diff.Diff(trace(t, tokens(4), 4, ra...), trace(t, tokens(4), 4, rb...), diff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := res.First
	if f == nil || f.Layer != 1 || f.Slot != probes.Q || res.Pairs[f.Index].Key() != (probes.Key{Step: 0, Layer: 1, Slot: probes.Q}) {
		t.Fatalf("first divergence %+v", f)
	}
	for i := 1; i < len(res.Pairs); i++ {
		if probes.CompareOrder(res.Pairs[i-1].Key(), res.Pairs[i].Key()) >= 0 {
			t.Fatalf("pairs out of execution order at %d", i)
		}
	}
	c := res.Counts
	if res.Verdict != diff.Refused || c.Refused != 1 || c.Fail != 7 || c.Pass+c.Warn+c.Fail+c.Refused != 12 {
		t.Errorf("verdict %v counts %+v", res.Verdict, c)
	}
	if !strings.Contains(res.Reason, "1 of 12 pairs refused") {
		t.Errorf("reason %q", res.Reason)
	}
	// Without the refused pair, FAIL is the verdict and the reason names the divergence.
	res, _ = diff.Diff(trace(t, tokens(4), 4, ra[3:]...), trace(t, tokens(4), 4, rb[:len(rb)-3]...), diff.Options{})
	if res.Verdict != diff.Fail || !strings.Contains(res.Reason, "first divergence at step 0 layer 1 q") || res.Verdict.Err() != diff.ErrDivergence {
		t.Errorf("%v %q", res.Verdict, res.Reason)
	}
}

func TestNothingInCommon(t *testing.T) {
	pos := span(0, 3)
	a := spec{slot: probes.Q, pos: pos, rows: rows(pos, 4, one)}
	b := spec{slot: probes.K, pos: pos, rows: rows(pos, 4, one)}
	res, _ := diff.Diff(trace(t, tokens(4), 4, a.build()), trace(t, tokens(4), 4, b.build()), diff.Options{})
	if res.Verdict != diff.Refused || res.OnlyA != 1 || res.OnlyB != 1 || !strings.Contains(res.Reason, "no record in common") {
		t.Errorf("%+v", res)
	}
}

func TestResultJSONRoundTrip(t *testing.T) {
	pos := span(0, 3)
	a := spec{slot: probes.Logits, pos: pos, rows: rows(pos, 6, one), full: true}
	b := spec{layer: 0, slot: probes.Q, pos: pos, rows: rows(pos, 4, one)}
	c := b
	c.pos = []int{3}
	c.rows = c.rows[3:]
	res, _ := diff.Diff(trace(t, tokens(4), 4, a.build(), b.build()), trace(t, tokens(4), 4, a.build(), c.build()), diff.Options{})
	if sq := res.Pairs[1].Metrics.Tensor.SQNR; float64(sq) <= 1e300 {
		t.Fatalf("identical logits should have infinite SQNR, got %v", sq)
	}
	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back diff.Result
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(*res, back) {
		t.Errorf("round trip changed the result:\n%s", js)
	}
	for _, key := range []string{`"format":"parity-diff"`, `"version":1`, `"sqnr_db":"+Inf"`, `"verdict":"PASS"`, `"align":"auto"`, `"profile":"quant"`,
		`"note":"A covered 0-3, B covered 3; compared position 3"`, `"slot":"logits"`} {
		if !strings.Contains(string(js), key) {
			t.Errorf("JSON lacks %s", key)
		}
	}
}
