package tokenizer

import (
	"math/rand"
	"reflect"
	"testing"

	"github.com/dlclark/regexp2"
)

// regexSplit applies regexes the way unicode_regex_split does: each one
// splits every current segment into its matches and the gaps between them.
func regexSplit(res []*regexp2.Regexp, s string) []string {
	segs := []string{s}
	for _, re := range res {
		var next []string
		for _, seg := range segs {
			rs := []rune(seg)
			prev := 0
			m, _ := re.FindStringMatch(seg)
			for m != nil {
				if m.Index > prev {
					next = append(next, string(rs[prev:m.Index]))
				}
				next = append(next, m.String())
				prev = m.Index + m.Length
				m, _ = re.FindNextMatch(m)
			}
			if prev < len(rs) {
				next = append(next, string(rs[prev:]))
			}
		}
		segs = next
	}
	return segs
}

// TestSplitMatchesRegex checks the ported splitters against the regexes
// llama.cpp documents for them, run by a backtracking engine with .NET
// semantics (whose \s is exactly llama.cpp's whitespace set). llama.cpp's
// hand-coded splitters are meant to be equivalent to these regexes; on this
// alphabet, which stays clear of the codepoints where Go's Unicode tables and
// llama.cpp's differ, they agree. A disagreement is a porting bug unless
// llama.cpp's own code shows the same deviation.
func TestSplitMatchesRegex(t *testing.T) {
	alphabet := []rune("aAbZsStTdDrReEvVlLmM'  \t\r\n\n0123456789.,!?-_()[]$+<=>^~|`@#" +
		"\u00e9\u00c9\u0301\u0308\u4e00\u0660\u00b2\u00bd\u2167\u00a0\u3000\u2028\u0085\u00ab\u20ac" +
		"\u00a9\U0001F600\u200b\u0000\u000b\u001c")
	cases := []struct {
		name    string
		steps   []splitStep
		regexes []string
	}{
		{"gpt2", []splitStep{stepGPT2},
			[]string{`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`}},
		{"llama3", []splitStep{stepLlama3},
			[]string{`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`}},
		{"qwen2", []splitStep{stepQwen2},
			[]string{`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`}},
		{"qwen35", []splitStep{stepQwen35},
			[]string{`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`}},
		{"default", preTokenizers["default"].steps,
			[]string{`[\p{P}\$\+<=>\^~\|]+`, `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, `\p{N}+`, `[0-9][0-9][0-9]`}},
		{"starcoder", preTokenizers["starcoder"].steps,
			[]string{`\p{N}`, `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`}},
	}
	rng := rand.New(rand.NewSource(1))
	for _, c := range cases {
		var res []*regexp2.Regexp
		for _, r := range c.regexes {
			res = append(res, regexp2.MustCompile(r, regexp2.None))
		}
		for i := 0; i < 4000; i++ {
			rs := make([]rune, rng.Intn(12))
			for j := range rs {
				rs[j] = alphabet[rng.Intn(len(alphabet))]
			}
			s := string(rs)
			want := regexSplit(res, s)
			got, err := splitText(s, c.steps)
			if err != nil || (len(got)+len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Fatalf("%s %q:\n got  %q (%v)\nwant %q", c.name, s, got, err, want)
			}
		}
	}
}

func TestSplitExamples(t *testing.T) {
	cases := []struct {
		pre, in string
		want    []string
	}{
		// \s+(?!\S) leaves the last space to the word that follows.
		{"gpt-2", "a   b", []string{"a", "  ", " b"}},
		// The default pre-tokenizer splits the space from a number, then
		// cuts triplets from the left.
		{"default", "x 12345", []string{"x", " ", "123", "45"}},
		// Llama 3 groups digits by three and lowercases contractions.
		{"llama3", "1234567 I'M", []string{"123", "456", "7", " I", "'M"}},
		// Qwen2 isolates every digit and keeps \r\n runs with the
		// punctuation before them.
		{"qwen2", "12!\r\n", []string{"1", "2", "!\r\n"}},
		// Invalid UTF-8 becomes U+FFFD, as llama.cpp re-encodes codepoints.
		{"qwen2", "a\xffb", []string{"a", "\uFFFDb"}},
	}
	for _, c := range cases {
		got, err := splitText(c.in, preTokenizers[c.pre].steps)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %q: got %q (%v), want %q", c.pre, c.in, got, err, c.want)
		}
	}
	if _, err := splitText("\xf7\xbf\xbf\xbf", preTokenizers["qwen2"].steps); err == nil {
		t.Errorf("codepoint 0x1FFFFF: no error")
	}
}
