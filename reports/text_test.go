package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
)

func full(nmse, budget float64) *diff.Metrics {
	return &diff.Metrics{Positions: "0-6", N: 56, Evidence: diff.EvidenceFull,
		Threshold: diff.Threshold{NMSE: diff.Float(budget)},
		Stats:     &diff.StatsMetrics{A: diff.Moments{Std: 1.25}, B: diff.Moments{Std: 1.5}, StdRatio: 1.2},
		Tensor:    &diff.TensorMetrics{NMSE: diff.Float(nmse), Cosine: 0.99}}
}

func testResult() *diff.Result {
	side := diff.Side{Engine: "apr", Model: probes.Model{Path: "/models/m.gguf", SHA256: "0123456789abcdef0123"}, Tokens: []int32{1, 2, 3, 4, 5, 6, 7}, PromptLen: 7, Records: 5}
	weak := full(0, 1e-3)
	weak.Evidence, weak.Weak, weak.Tensor = diff.EvidenceStats, true, nil
	weak.Stats.NMSEBound = 2e-6
	r := &diff.Result{
		A: side, B: side, Tokens: diff.TokenCheck{Match: true}, Verdict: diff.Fail,
		Pairs: []diff.Pair{
			{Layer: 0, Slot: probes.Q, Verdict: diff.Pass, Metrics: full(1e-6, 1e-3)},
			{Layer: 0, Slot: probes.K, Verdict: diff.Pass, Metrics: full(5e-4, 1e-3)},
			{Layer: 1, Slot: probes.Q, Verdict: diff.Fail, Reason: "NMSE 0.5 > WARN limit 0.01 (budget 0.001)", Metrics: full(0.5, 1e-3)},
			{Layer: 1, Slot: probes.Out, Verdict: diff.Pass, Metrics: weak},
			{Layer: 1, Slot: probes.FFNUp, Verdict: diff.Refused, Reason: "per-token sizes differ", PositionsA: "0-6", PositionsB: "6", CountA: 1204, CountB: 172},
			{Layer: 1, Slot: probes.FFNOut, Verdict: diff.Refused, Reason: "per-token sizes differ", PositionsA: "0-6", PositionsB: "6", CountA: 448, CountB: 64},
		},
		Counts: diff.Counts{Pass: 3, Fail: 1, Refused: 2, Weak: 1},
	}
	r.B.Engine = "gguf"
	r.First = &diff.Divergence{Index: 2, Layer: 1, Slot: probes.Q}
	return r
}

func text(t *testing.T, r *diff.Result, o TextOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := Text(&b, r, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// rowsOf returns the table rows (layer, slot) in order.
func rowsOf(out string) []string {
	var rows []string
	for _, line := range strings.Split(out, "\n") {
		f := strings.Split(line, "│")
		if len(f) > 3 && strings.TrimSpace(f[1]) != "layer" {
			rows = append(rows, strings.TrimSpace(f[1])+" "+strings.TrimSpace(f[2]))
		}
	}
	return rows
}

func TestTextCompactAndVerbose(t *testing.T) {
	r := testResult()
	compact := text(t, r, TextOptions{})
	if got, want := strings.Join(rowsOf(compact), ","), "0 k,1 q,1 ffn_up,1 ffn_out"; got != want {
		t.Errorf("compact rows %s, want %s\n%s", got, want, compact)
	}
	verbose := text(t, r, TextOptions{Verbose: true})
	if got, want := strings.Join(rowsOf(verbose), ","), "0 q,0 k,1 q,1 out,1 ffn_up,1 ffn_out"; got != want {
		t.Errorf("verbose rows %s, want %s\n%s", got, want, verbose)
	}
	for _, want := range []string{
		"FAIL apr vs gguf",
		"A apr m.gguf · sha256 0123456789ab… · 7 tokens (0 decode steps)",
		"6 pairs: 3 PASS, 0 WARN, 1 FAIL, 2 REFUSED (1 on statistics",
		"first divergence: step 0 layer 1 q: NMSE 0.5 > WARN limit",
		"│ A 0-6 / B 6 │ 1204 │ 172 │",
		"│ REFUSED │ per-token sizes differ │", "│ REFUSED │ 〃",
		"│ PASS weak │ stats", "≥2.00e-06", "│ 5.00e-04 │",
	} {
		if !strings.Contains(squeeze(verbose), want) {
			t.Errorf("verbose output lacks %q:\n%s", want, verbose)
		}
	}
	if strings.Contains(verbose, "\x1b[") {
		t.Error("a zero Painter colored the output")
	}
}

func TestTextColorsByVerdict(t *testing.T) {
	out := text(t, testResult(), TextOptions{Painter: NewPainter(true), Verbose: true})
	for _, want := range []string{"\x1b[31mFAIL", "\x1b[32mPASS", "\x1b[35mREFUSED"} {
		if !strings.Contains(out, want) {
			t.Errorf("colored output lacks %q", want)
		}
	}
}

func TestTextTokenRefusal(t *testing.T) {
	r := testResult()
	r.Pairs, r.First, r.Verdict = nil, nil, diff.Refused
	r.Tokens = diff.TokenCheck{Steps: -1, Reason: "the prompts differ at position 2: A has token 12, B 99"}
	r.Fix = "trace both runs over the same token ids"
	out := text(t, r, TextOptions{})
	if !strings.HasPrefix(out, "REFUSED") || !strings.Contains(out, "tokens: the prompts differ at position 2") ||
		!strings.Contains(out, "fix: trace both") || strings.Contains(out, "┌") {
		t.Errorf("token refusal:\n%s", out)
	}
}

// squeeze collapses runs of spaces, so expectations ignore column padding.
func squeeze(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == ' ' }), " ")
}
