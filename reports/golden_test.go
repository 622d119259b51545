package reports

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/reports/mdcheck"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/reports")

// goldenDir is testdata/reports at the repository root.
func goldenDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "testdata", "reports")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = parent
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join(goldenDir(t), name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./reports -update writes it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./reports -update rewrites it after a deliberate change); first difference at line %d:\n got: %s\nwant: %s",
			name, firstDiffLine(got, want), lineAt(got, firstDiffLine(got, want)), lineAt(want, firstDiffLine(got, want)))
	}
}

func firstDiffLine(a, b []byte) int {
	la, lb := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}

func lineAt(b []byte, n int) string {
	lines := strings.Split(string(b), "\n")
	if n-1 < len(lines) {
		return lines[n-1]
	}
	return "(end of file)"
}

func render(t *testing.T, f Format, d *Document, o TextOptions) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, f, d, o); err != nil {
		t.Fatalf("%s: %v", f, err)
	}
	return b.Bytes()
}

var goldenExt = map[Format]string{FormatText: ".txt", FormatMarkdown: ".md", FormatHTML: ".html", FormatJSON: ".json"}

// TestGolden renders the fixed diff (REFUSED overall: a refused pair and a
// first divergence) and the fixed bisection (FAIL, with attribution and a
// reference) in every format.
func TestGolden(t *testing.T) {
	docs := map[string]*Document{
		"diff":   NewDiff(fixtureResult(true), fixtureDiffMeta),
		"bisect": NewBisection(fixtureBisection(), fixtureMeta),
	}
	docs["bisect"].Traces = []string{FileTraceA, FileTraceB}
	for name, d := range docs {
		for f, ext := range goldenExt {
			golden(t, name+ext, render(t, f, d, TextOptions{}))
		}
		golden(t, name+"-verbose.txt", render(t, FormatText, d, TextOptions{Verbose: true}))
	}
}

func TestGoldenContent(t *testing.T) {
	dd := NewDiff(fixtureResult(true), fixtureDiffMeta)
	bd := NewBisection(fixtureBisection(), fixtureMeta)
	bd.Traces = []string{FileTraceA, FileTraceB}
	if dd.Summary.Verdict != diff.Refused || dd.Result.Counts.Refused != 1 || dd.Result.Counts.Fail == 0 || dd.Summary.First == nil {
		t.Fatalf("the diff fixture should be REFUSED with a FAIL: %+v", dd.Result.Counts)
	}
	for _, tc := range []struct {
		f    Format
		d    *Document
		want []string
	}{
		{FormatText, dd, []string{"REFUSED apr vs gguf", "first divergence: step 0 layer 2 q_rope: NMSE 0.342 > WARN limit 0.05 (budget 0.005)",
			"│ A 0-10 / B 10 │ 5632 │ 512 │", "REFUSED │ A covered positions 0-10, B covered 10"}},
		{FormatText, bd, []string{"FAIL apr vs gguf", "culprit op: step 0 layer 2 q_rope (teacher forcing",
			"teacher forcing: each layer", "reference llamacpp at step 0 layer 2 q_rope: A PASS, B FAIL"}},
		{FormatMarkdown, dd, []string{"### ⛔ REFUSED — apr vs gguf: first divergence at step 0 layer 2 q\\_rope (NMSE 3.42e-01, budget 5.00e-03); 1 pair refused",
			"> **First divergence: step 0 · layer 2 · `q_rope`**", "**NMSE 3.42e-01** against a budget of 5.00e-03 (WARN limit 5.00e-02)",
			"- **REFUSED** (1 pair): A covered positions 0-10, B covered 10", "— fix: trace B with --positions all",
			"<details><summary>All 67 pairs</summary>", "```sh\nparity diff a.trace.jsonl.zst b.trace.jsonl.zst\n```",
			"| A | parity test | apr | models/m.apr | 1048576 | qwen2 | 5ca6f9478118aa0b", "2025-03-04 05:06:07 UTC"}},
		{FormatMarkdown, bd, []string{"**Culprit op (teacher forcing): step 0 · layer 2 · `q_rope`** adds NMSE 3.41e-01",
			"#### Teacher forcing", "| 2 | `q_rope` | 3.41e-01 | 5.0e-03 | ❌ FAIL |", "**Reference llamacpp:** A PASS, B FAIL",
			"'What is 2+2?'", "Traces beside this report: `a.trace.jsonl.zst`, `b.trace.jsonl.zst`"}},
		{FormatHTML, bd, []string{`id="first-divergence"`, `id="chart-error"`, `id="chart-std"`, `id="heatmap"`, `id="first-divergence-row"`,
			"added by the layer (teacher forcing)", "prefers-color-scheme: dark", "@media print"}},
	} {
		out := squeeze(string(render(t, tc.f, tc.d, TextOptions{})))
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s %s lacks %q", tc.d.Kind, tc.f, w)
			}
		}
	}
}

// TestMarkdownTablesRender parses both markdown reports with goldmark's
// GitHub extensions: every table renders as written.
func TestMarkdownTablesRender(t *testing.T) {
	for _, d := range []*Document{NewDiff(fixtureResult(true), fixtureDiffMeta), NewBisection(fixtureBisection(), fixtureMeta)} {
		tables, err := mdcheck.Tables(render(t, FormatMarkdown, d, TextOptions{}))
		if err != nil {
			t.Fatalf("%s: %v", d.Kind, err)
		}
		want := 4 // per layer, all pairs, thresholds, models
		if d.Attribution != nil {
			want += 2
		}
		if len(tables) != want {
			t.Errorf("%s: %d tables, want %d", d.Kind, len(tables), want)
		}
		all := tables[len(tables)-3]
		if len(all) != len(d.Result.Pairs)+1 {
			t.Errorf("%s: the full table has %d rows for %d pairs", d.Kind, len(all)-1, len(d.Result.Pairs))
		}
	}
}

func TestJSONDocument(t *testing.T) {
	d := NewBisection(fixtureBisection(), fixtureMeta)
	var back Document
	if err := json.Unmarshal(render(t, FormatJSON, d, TextOptions{}), &back); err != nil {
		t.Fatal(err)
	}
	s := back.Summary
	if back.Format != ReportFormat || back.Version != ReportVersion || back.Kind != "bisect" || back.Result == nil ||
		len(back.Result.Pairs) != len(d.Result.Pairs) || back.Attribution == nil || back.Reference == nil {
		t.Fatalf("document did not round-trip: %+v", back)
	}
	if s.First == nil || s.First.Key != (Key{Layer: 2, Slot: d.Result.First.Slot}) || s.Culprit == nil || s.Culprit.Slot != d.Result.First.Slot ||
		s.CulpritLayer == nil || s.CulpritLayer.Layer != 2 || s.Headline != d.Summary.Headline {
		t.Errorf("summary: %+v", s)
	}
	if len(s.Layers) != fixtureLayers+2 || s.Layers[0].Label != "embed" || s.Layers[len(s.Layers)-1].Label != "head" ||
		s.Layers[3].Verdict != diff.Fail || len([]rune(s.Layers[1].Sparkline)) != len(fixtureSlots) {
		t.Errorf("layer rows: %+v", s.Layers)
	}
	if back.Created != nil || back.Reproduce != "parity bisect --a models/m.apr --b models/m.gguf --prompt 'What is 2+2?' --b-fault rope-style@2 --profile quant" {
		t.Errorf("metadata: created %v, reproduce %q", back.Created, back.Reproduce)
	}
}

// TestRenderEdgeCases renders a token refusal (no pairs at all) and a
// passing two-step result in every format.
func TestRenderEdgeCases(t *testing.T) {
	refused := fixtureResult(false)
	refused.Pairs, refused.First, refused.Verdict, refused.Counts = []diff.Pair{}, nil, diff.Refused, diff.Counts{}
	refused.Tokens = diff.TokenCheck{Steps: -1, Reason: "the prompts differ at position 2: A has token 374, B 99"}
	refused.Reason, refused.Fix = refused.Tokens.Reason, "trace both runs over the same token ids"

	pass := fixtureResult(false)
	var pairs []diff.Pair
	for step := range 2 {
		for _, p := range pass.Pairs {
			if p.Verdict == diff.Pass {
				p.Step = step
				pairs = append(pairs, p)
			}
		}
	}
	pass.Pairs, pass.First, pass.Verdict, pass.Tokens.Steps = pairs, nil, diff.Pass, 1
	pass.Counts = diff.Counts{Pass: len(pairs), Weak: 2}
	agreement := diff.Wilson(1, 2)
	pass.Decode = &diff.Decode{Steps: []diff.DecodeStep{
		{Step: 0, Position: 10, Pairs: len(pairs) / 2, Logits: &diff.LogitMetrics{Position: 10, KL: 1e-3, Top1A: 17, Top1B: 17, Top5: 5}},
		{Step: 1, Position: 11, Pairs: len(pairs) / 2, Logits: &diff.LogitMetrics{Position: 11, KL: 2e-3, Top1A: 5, Top1B: 9, Top5: 4}}},
		FirstFlip: &diff.DecodeFlip{Step: 1, Position: 12, A: 5, B: 9, TextA: " the", TextB: " a"},
		Agreement: &agreement, MaxKL: 2e-3, MaxKLStep: 1}

	for _, tc := range []struct {
		d    *Document
		want map[Format]string
	}{
		{NewDiff(refused, Meta{}), map[Format]string{FormatText: "tokens: the prompts differ at position 2",
			FormatMarkdown: "> **Refused:** the prompts differ", FormatHTML: `id="refused"`, FormatJSON: `"verdict": "REFUSED"`}},
		{NewDiff(pass, Meta{}), map[Format]string{FormatText: "steps 0-1 compared", FormatMarkdown: "Depth profile of every step",
			FormatHTML: `id="heatmap"`, FormatJSON: `"headline": "PASS — apr vs gguf: all 114 pairs within budget"`}},
		{NewDiff(pass, Meta{}), map[Format]string{FormatMarkdown: `**First differing token:** step 1, the token for position 12: A 5 " the", B 9 " a"; no tensor fails`,
			FormatHTML: `<strong>First differing token:</strong> step 1, the token for position 12: A 5 <code>&#34; the&#34;</code>, B 9`,
			FormatJSON: `"first_flip": {`}},
		{NewDiff(pass, Meta{}), map[Format]string{FormatMarkdown: "| 1 | 11 | ✅ PASS | 2.0e-03 | 5 | **9** | 4/5 | – |",
			FormatHTML: "Top-1 agreement: 1 of 2 steps; divergence rate 0.500"}},
	} {
		for f, want := range tc.want {
			out := render(t, f, tc.d, TextOptions{})
			if !strings.Contains(string(out), want) {
				t.Errorf("%s of a %s result lacks %q", f, tc.d.Summary.Verdict, want)
			}
			if f == FormatMarkdown {
				if _, err := mdcheck.Tables(out); err != nil {
					t.Errorf("%s markdown: %v", tc.d.Summary.Verdict, err)
				}
			}
		}
	}
	if strings.Contains(string(render(t, FormatHTML, NewDiff(refused, Meta{}), TextOptions{})), "<svg") {
		t.Error("a result without pairs drew a chart")
	}
}
