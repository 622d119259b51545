package diag

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/convert"
	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
)

func render(t *testing.T, write func(*bytes.Buffer, RenderOptions) error, o RenderOptions) string {
	t.Helper()
	var b bytes.Buffer
	if err := write(&b, o); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func wantAll(t *testing.T, what, out string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(out, s) {
			t.Errorf("%s lacks %q:\n%s", what, s, out)
		}
	}
}

// tagPainter marks what it paints, so a test can see which cells were.
type tagPainter struct{}

func (tagPainter) Good(s string) string { return "<g>" + s + "</g>" }
func (tagPainter) Warn(s string) string { return "<w>" + s + "</w>" }
func (tagPainter) Bad(s string) string  { return "<b>" + s + "</b>" }
func (tagPainter) Bold(s string) string { return s }

func TestRenderEmbedding(t *testing.T) {
	clean := fixtures.Default("llama", ggml.F32)
	bad := clean
	bad.FileFaults = []faults.Fault{{Kind: faults.CorruptEmbedRow, Layer: 0}}
	a, b := open(t, fixture(t, clean)), open(t, fixture(t, bad))
	r, err := CompareEmbedding(a, b, []int32{1, 300, int32(fixtures.CorruptEmbedToken())})
	if err != nil {
		t.Fatal(err)
	}
	out := render(t, func(w *bytes.Buffer, o RenderOptions) error { return r.Write(w, o) }, RenderOptions{Painter: tagPainter{}})
	wantAll(t, "terminal", out, "<b>DEFECT</b>  compare-embedding: the prompt's rows", "table: defect", "1 rows differ (291)",
		`largest row difference: token 291 "▁the" at position 2`, "<g>byte-identical</g>", "<b>defect</b>", "▁the")
	md := render(t, func(w *bytes.Buffer, o RenderOptions) error { return r.Write(w, o) }, RenderOptions{Markdown: true})
	wantAll(t, "markdown", md, "### compare-embedding: the prompt's rows — **defect**", "| pos | token | piece |", "|---:|---:|---|",
		"` ▁the `", "` <s> `")
	if strings.Contains(md, "\x1b") || strings.Contains(out, "\x1b") {
		t.Error("escape sequences in plain output")
	}
}

func TestRenderWeights(t *testing.T) {
	src := shared(t, "models/stories260K.gguf")
	r, err := CompareWeights(open(t, src), toAPR(t, src, convert.F32))
	if err != nil {
		t.Fatal(err)
	}
	out := render(t, func(w *bytes.Buffer, o RenderOptions) error { return r.Write(w, o) }, RenderOptions{})
	wantAll(t, "compact", out, "BIT-IDENTICAL  compare-weights", "48 pairs: 48 bit-identical")
	if strings.Contains(out, "blk.0.attn_q.weight") {
		t.Errorf("compact output lists bit-identical tensors:\n%s", out)
	}
	verbose := render(t, func(w *bytes.Buffer, o RenderOptions) error { return r.Write(w, o) }, RenderOptions{Verbose: true})
	if n := strings.Count(verbose, "bit-identical"); n < 49 {
		t.Errorf("verbose output shows %d verdicts, want a row per tensor", n)
	}

	// Names from a hostile file: escaped for each format.
	hostile := &WeightsResult{A: Model{Path: "m.gguf"}, B: Model{Path: "m.apr"}, Verdict: Different, Counts: map[Verdict]int{Different: 1},
		Tensors: []TensorCheck{{NameA: "a|b\x1b[31m", NameB: "x`y", EncodingA: "f32", EncodingB: "f32", ShapeA: []int64{2}, ShapeB: []int64{2},
			Verdict: Different, Diff: &Diff{NMSE: Float(math.Inf(1)), MaxAbs: Float(math.NaN())}}}}
	term := render(t, func(w *bytes.Buffer, o RenderOptions) error { return hostile.Write(w, o) }, RenderOptions{})
	md := render(t, func(w *bytes.Buffer, o RenderOptions) error { return hostile.Write(w, o) }, RenderOptions{Markdown: true})
	if strings.Contains(term, "\x1b") || strings.Contains(md, "\x1b") {
		t.Error("an escape sequence from a tensor name reached the output")
	}
	wantAll(t, "terminal", term, `"a|b\x1b[31m"`, "+Inf", "NaN")
	wantAll(t, "markdown", md, `a\|b`, "`` x`y ``")
}

func TestRenderOp(t *testing.T) {
	src := shared(t, "models/stories260K.gguf")
	w := open(t, src)
	r, err := CompareOp(context.Background(), w, w, OpOptions{Op: "rope", Layer: 2, EngineA: "apr", EngineB: "gguf", Tokens: []int32{1, 403, 407}})
	if err != nil {
		t.Fatal(err)
	}
	out := render(t, func(w *bytes.Buffer, o RenderOptions) error { return r.Write(w, o) }, RenderOptions{})
	wantAll(t, "terminal", out, "compare-op rope, layer 2", "A  engine apr on gguf stories260K.gguf", "q_rope ← q: ", "k_rope ← k: ",
		"A's replay reproduces its recorded output bit for bit", "q_rope per position", "std B/A")
	md := render(t, func(w *bytes.Buffer, o RenderOptions) error { return r.Write(w, o) }, RenderOptions{Markdown: true})
	wantAll(t, "markdown", md, "### compare-op rope, layer 2 — ", "| pos | token | max \\|diff\\| |")
}

// TestResultsSurviveJSON: NaN and infinities, which encoding/json refuses
// as numbers, come out as strings and read back.
func TestResultsSurviveJSON(t *testing.T) {
	d := Diff{N: 3, MaxAbs: Float(math.Inf(1)), NMSE: Float(math.NaN()), Rel: 1.5}
	b, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"max_abs":"+Inf"`) || !strings.Contains(string(b), `"nmse":"NaN"`) {
		t.Errorf("%s", b)
	}
	var back Diff
	if err := json.Unmarshal(b, &back); err != nil || !math.IsInf(float64(back.MaxAbs), 1) || back.NMSE == back.NMSE || back.Rel != 1.5 {
		t.Errorf("read back %+v, %v", back, err)
	}
}
