package diff_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
)

func TestWilson(t *testing.T) {
	for _, c := range []struct {
		k, n      int
		low, high float64
	}{
		{0, 32, 0, 0.10718}, // z²/(n+z²): what 32 agreeing steps rule out
		{5, 20, 0.11186, 0.46868},
		{32, 32, 0.89282, 1},
		{1, 1, 0.20654, 1},
	} {
		p := diff.Wilson(c.k, c.n)
		if math.Abs(float64(p.Low)-c.low) > 5e-5 || math.Abs(float64(p.High)-c.high) > 5e-5 ||
			float64(p.Rate) != float64(c.k)/float64(c.n) || p.K != c.k || p.N != c.n || p.Confidence != 0.95 {
			t.Errorf("Wilson(%d, %d) = %+v, want [%.5f, %.5f]", c.k, c.n, p, c.low, c.high)
		}
	}
}

// logitRows returns one vocab row per position with its maximum at
// argmax(p) and a runner-up at 0.
func logitRows(pos []int, vocab int, argmax func(p int) int) [][]float32 {
	out := make([][]float32, len(pos))
	for i, p := range pos {
		out[i] = make([]float32, vocab)
		for j := range out[i] {
			out[i][j] = float32(j%3) * 0.1
		}
		out[i][0] = 2
		out[i][argmax(p)] = 3
	}
	return out
}

// decodeTraces builds A and B over a 5-token prompt and 3 decode steps
// with full q and logits records: B's argmax differs at position 5
// (step 1), B's q fails at step 2, and B's step 3 logits are statistics
// only.
func decodeTraces(t *testing.T) (a, b *probes.Trace) {
	const vocab = 6
	argA := func(int) int { return 4 }
	argB := func(p int) int {
		if p == 5 {
			return 3
		}
		return 4
	}
	var ra, rb []probes.Record
	for s := 0; s <= 3; s++ {
		pos := span(0, 4)
		if s > 0 {
			pos = []int{4 + s}
		}
		q := rows(pos, 4, one)
		qb := q
		if s == 2 {
			qb = perturb(q, 0.5)
		}
		ra = append(ra, spec{step: s, layer: 0, slot: probes.Q, pos: pos, rows: q, full: true}.build(),
			spec{step: s, slot: probes.Logits, pos: pos, rows: logitRows(pos, vocab, argA), full: true}.build())
		rb = append(rb, spec{step: s, layer: 0, slot: probes.Q, pos: pos, rows: qb, full: true}.build(),
			spec{step: s, slot: probes.Logits, pos: pos, rows: logitRows(pos, vocab, argB), full: s != 3}.build())
	}
	return trace(t, tokens(8), 5, ra...), trace(t, tokens(8), 5, rb...)
}

func TestDecodeSummary(t *testing.T) {
	a, b := decodeTraces(t)
	res, err := diff.Diff(a, b, diff.Options{Profile: diff.ProfileExact})
	if err != nil {
		t.Fatal(err)
	}
	d := res.Decode
	if d == nil || len(d.Steps) != 4 {
		t.Fatalf("decode summary %+v", d)
	}
	for s, st := range d.Steps {
		if st.Step != s || st.Position != 4+s || st.Pairs != 2 {
			t.Errorf("step %d: %+v", s, st)
		}
	}
	if st := d.Steps[1]; st.Logits == nil || st.Logits.Top1A != 4 || st.Logits.Top1B != 3 || st.Agree() || !(st.Logits.KL > 0) {
		t.Errorf("step 1 logits %+v", st.Logits)
	}
	if f := d.FirstFlip; f == nil || f.Step != 1 || f.Position != 6 || f.A != 4 || f.B != 3 {
		t.Errorf("first flip %+v", f)
	}
	if st := d.Steps[2]; st.First == nil || st.First.Slot != probes.Q || st.First.Layer != 0 || st.Verdict != diff.Fail || res.Pairs[st.First.Index].Key() != (probes.Key{Step: 2, Layer: 0, Slot: probes.Q}) {
		t.Errorf("step 2: first %+v, verdict %s", st.First, st.Verdict)
	}
	if st := d.Steps[0]; st.First != nil || st.Verdict != diff.Pass || !st.Agree() || st.Logits.KL != 0 || st.Logits.Top5 != 5 {
		t.Errorf("step 0: %+v %+v", st, st.Logits)
	}
	if st := d.Steps[3]; st.Logits != nil {
		t.Errorf("step 3 logits are statistics only on B, yet compared: %+v", st.Logits)
	}
	if p := d.Agreement; p == nil || p.K != 1 || p.N != 3 {
		t.Errorf("agreement %+v, want 1 flip of 3 compared steps", p)
	}
	if d.MaxKLStep != 1 || d.MaxKL != d.Steps[1].Logits.KL {
		t.Errorf("max KL %v at %d", d.MaxKL, d.MaxKLStep)
	}
	d.SetFlipText(func(id int32) string { return map[int32]string{3: " cat", 4: " dog"}[id] })
	if d.FirstFlip.TextA != " dog" || d.FirstFlip.TextB != " cat" {
		t.Errorf("flip text %+v", d.FirstFlip)
	}
}

func TestDecodeSummaryAbsent(t *testing.T) {
	// A prefill-only diff has no decode summary, nor one whose first
	// decode step was fed different tokens.
	ta := trace(t, tokens(5), 5, stepRecords(5, 0, 4, true)...)
	res, _ := diff.Diff(ta, ta, diff.Options{})
	if res.Decode != nil {
		t.Errorf("prefill only: %+v", res.Decode)
	}
	ids := tokens(6)
	ids[5] = 99
	tb := trace(t, tokens(6), 5, stepRecords(5, 1, 4, true)...)
	tc := trace(t, ids, 5, stepRecords(5, 1, 4, true)...)
	if res, _ = diff.Diff(tb, tc, diff.Options{}); res.Decode != nil || res.Tokens.Steps != 0 {
		t.Errorf("step 1 fed differently: %+v", res.Decode)
	}
	var none *diff.Decode
	none.SetFlipText(func(int32) string { panic("called") })
}

// fakeDecode returns fixed traces and records what it was asked.
type fakeDecode struct {
	a, b   *probes.Trace
	err    error
	prompt []int32
	steps  int
	policy probes.Policy
}

func (f *fakeDecode) PrefillDecode(_ context.Context, prompt []int32, steps int, p probes.Policy) (*probes.Trace, *probes.Trace, error) {
	f.prompt, f.steps, f.policy = prompt, steps, p
	return f.a, f.b, f.err
}

func TestCompareDecode(t *testing.T) {
	ctx := context.Background()
	a, b := decodeTraces(t)
	f := &fakeDecode{a: a, b: b}
	var gotForce []int32
	res, err := diff.CompareDecode(ctx, f, diff.CompareDecodeOptions{Options: diff.Options{Profile: diff.ProfileCalibrated}, Prompt: tokens(5), Decode: 3,
		Calibrate: func(_ context.Context, prompt, force []int32) (map[probes.Key]float64, error) {
			gotForce = force
			return map[probes.Key]float64{}, nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if f.steps != 3 || !slices.Equal(f.prompt, tokens(5)) || f.policy.Mode != probes.ModeFull {
		t.Errorf("runner asked for %v, %d steps, policy %+v", f.prompt, f.steps, f.policy)
	}
	if !slices.Equal(gotForce, tokens(8)[5:]) {
		t.Errorf("floor measured over fed tokens %v", gotForce)
	}
	if res.Decode == nil || res.First == nil || res.First.Step != 1 || res.First.Slot != probes.Logits || !strings.Contains(strings.Join(res.Notes, "|"), "A is one prefill of all 8 positions, B the 5-token prompt then 3 single-token steps") {
		t.Errorf("result: first %+v, notes %q", res.First, res.Notes)
	}

	// A failed floor measurement falls back to quant budgets and says so.
	res, err = diff.CompareDecode(ctx, f, diff.CompareDecodeOptions{Options: diff.Options{Profile: diff.ProfileCalibrated}, Prompt: tokens(5), Decode: 3,
		Calibrate: func(context.Context, []int32, []int32) (map[probes.Key]float64, error) {
			return nil, errors.New("no file")
		}})
	if err != nil || !strings.Contains(strings.Join(res.Notes, "|"), "noise floor not measured (no file); quant budgets used") {
		t.Errorf("fallback: %v %q", err, res.Notes)
	}
	// Ctrl-C during the floor measurement is an error, not a verdict on
	// fallback budgets.
	cctx, cancel := context.WithCancel(ctx)
	_, err = diff.CompareDecode(cctx, f, diff.CompareDecodeOptions{Options: diff.Options{Profile: diff.ProfileCalibrated}, Prompt: tokens(5), Decode: 3,
		Calibrate: func(ctx context.Context, _, _ []int32) (map[probes.Key]float64, error) {
			cancel()
			return nil, ctx.Err()
		}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled floor measurement: %v, want context.Canceled", err)
	}
	if _, err := diff.CompareDecode(ctx, f, diff.CompareDecodeOptions{Prompt: tokens(5)}); err == nil {
		t.Error("0 decode steps accepted")
	}
	f.err = errors.New("engine broke")
	if _, err := diff.CompareDecode(ctx, f, diff.CompareDecodeOptions{Prompt: tokens(5), Decode: 3}); err == nil || !strings.Contains(err.Error(), "engine broke") {
		t.Errorf("runner error: %v", err)
	}
}
