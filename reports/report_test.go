package reports

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/layerwise/parity/diff"
)

func TestShellQuote(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"parity", "diff", "a.trace.jsonl.zst", "--align=last"}, "parity diff a.trace.jsonl.zst --align=last"},
		{[]string{"parity", "--prompt", "What is 2+2?"}, "parity --prompt 'What is 2+2?'"},
		{[]string{"it's", "", "$HOME", "a\nb"}, `'it'\''s' '' '$HOME' 'a` + "\n" + `b'`},
	} {
		if got := shellQuote(tc.args); got != tc.want {
			t.Errorf("shellQuote(%q) = %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for _, f := range []Format{FormatText, FormatMarkdown, FormatHTML, FormatJSON} {
		if g, err := ParseFormat(f.String()); err != nil || g != f {
			t.Errorf("ParseFormat(%q) = %v, %v", f, g, err)
		}
	}
	if _, err := ParseFormat("pdf"); err == nil {
		t.Error("ParseFormat accepted pdf")
	}
}

func TestScale(t *testing.T) {
	sc := Scale{Lo: 1e-6, Hi: 1}
	for _, tc := range []struct {
		v    float64
		want rune
	}{{0, '▁'}, {1e-9, '▁'}, {1e-6, '▁'}, {1e-3, '▅'}, {0.9, '█'}, {1, '█'}, {5, '█'}, {math.NaN(), '█'}} {
		if got := sc.glyph(&Error{Value: diff.Float(tc.v)}); got != tc.want {
			t.Errorf("glyph(%g) = %c, want %c", tc.v, got, tc.want)
		}
	}
	if got := sc.glyph(nil); got != '·' {
		t.Errorf("glyph(nil) = %c", got)
	}
	pairs := func(vs ...float64) []diff.Pair {
		var ps []diff.Pair
		for _, v := range vs {
			ps = append(ps, diff.Pair{Metrics: &diff.Metrics{Tensor: &diff.TensorMetrics{NMSE: diff.Float(v)}}})
		}
		return append(ps, diff.Pair{Verdict: diff.Refused})
	}
	for _, tc := range []struct {
		ps     []diff.Pair
		lo, hi float64
	}{
		{pairs(0, 3e-15, 2e-5, 0.4), 0.4 / maxSpan, 0.4}, // an exact op does not stretch the scale
		{pairs(1e-4, 2e-4), 1e-4, 1e-3},                  // at least a decade
		{pairs(0, math.Inf(1)), 0, 0},                    // nothing positive and finite
	} {
		if got := scaleOf(tc.ps); math.Abs(float64(got.Lo)-tc.lo) > 1e-12*tc.lo || float64(got.Hi) != tc.hi {
			t.Errorf("scaleOf = %+v, want [%g, %g]", got, tc.lo, tc.hi)
		}
	}
}

func TestLogAxis(t *testing.T) {
	lo, hi, ticks := logAxis(3e-5, 0.4)
	if lo != -5 || hi != 0 || len(ticks) != 6 || ticks[0] != 1e-5 || ticks[5] != 1 {
		t.Errorf("wide axis: [%g, %g] ticks %v", lo, hi, ticks)
	}
	lo, hi, ticks = logAxis(1.3, 2.4)
	if lo > math.Log10(1.3) || hi < math.Log10(2.4) || hi-lo < 0.5 || len(ticks) < 3 {
		t.Errorf("narrow axis: [%g, %g] ticks %v", lo, hi, ticks)
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain/path.gguf":       "plain/path.gguf",
		"a\x1b[31mb\x07":        `a\x1b[31mb\x07`,
		"line\nbreak\ttab":      "line break tab",
		"rtl\u202egnp.exe":      `rtl\u202egnp.exe`,
		"bad\xffutf8":           `bad\ufffdutf8`,
		"c1 \u009b control end": `c1 \x9b control end`,
	} {
		if got := clean(in); got != want {
			t.Errorf("clean(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	d := NewDiff(fixtureResult(true), fixtureDiffMeta)
	if err := WriteDir(dir, d, DirOptions{}); err != nil {
		t.Fatal(err)
	}
	names := func() []string {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			out = append(out, e.Name())
		}
		return out
	}
	if got := names(); !slices.Equal(got, []string{FileHTML, FileJSON, FileMarkdown}) {
		t.Errorf("files %v (a leftover temporary file?)", got)
	}
	md, err := os.ReadFile(filepath.Join(dir, FileMarkdown))
	if err != nil || string(md) != string(render(t, FormatMarkdown, d, TextOptions{})) {
		t.Errorf("report.md is not the markdown rendering: %v", err)
	}
	if err := WriteDir(dir, d, DirOptions{}); !errors.Is(err, ErrDirNotEmpty) {
		t.Errorf("second write without Force: %v, want ErrDirNotEmpty", err)
	}
	os.WriteFile(filepath.Join(dir, "mine.txt"), []byte("keep"), 0o644)
	if err := WriteDir(dir, d, DirOptions{Force: true}); err != nil {
		t.Errorf("write with Force: %v", err)
	}
	if got := names(); len(got) != 4 {
		t.Errorf("Force touched other files: %v", got)
	}
	if err := WriteDir(filepath.Join(dir, FileJSON), d, DirOptions{Force: true}); err == nil {
		t.Error("WriteDir into a regular file succeeded")
	}
	if err := CheckDir(filepath.Join(dir, "new"), false); err != nil {
		t.Errorf("CheckDir on a missing directory: %v", err)
	}
}
