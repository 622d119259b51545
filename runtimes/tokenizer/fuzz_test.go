package tokenizer

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEncode checks, over hand-made vocabularies with full byte coverage,
// that Encode never panics or fails, that SentencePiece round-trips every
// valid UTF-8 input without "▁" (which decodes to a space), and that
// byte-level BPE without llama.cpp's space clean-up round-trips every valid
// UTF-8 input. Invalid UTF-8 does not round-trip through SentencePiece: a
// lead byte takes the bytes after it into its symbol, even those of an
// escaped space, which byte fallback then returns raw.
// runtimes/model fuzzes the real vocabularies the same way.
func FuzzEncode(f *testing.F) {
	for _, s := range []string{"", " ", "Hello world", "  a\n\n\tb", "I'm 12345 ÜBER", "é\xff\xc3", "<s>x</s>",
		"\u2581", "a , b ' c", "\xf7\xbf\xbf\xbf", "\xed\xa0\x80", "日本語 ١٢٣"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	spm := mustNew(f, spmVocab(norm("▁", -1), norm("a", -2), norm("▁a", -1), norm("ab", -3), norm("▁ab", -2),
		tok{"<t>", 0, TypeUserDefined}))
	merges := []string{"Ġ t", "h e", "Ġt he", "Ġ Ġ", "1 2", "Ã ©"}
	var bpes []*Tokenizer
	for _, pre := range []string{"default", "gpt-2", "llama3", "qwen2", "qwen35", "starcoder", "falcon"} {
		bpes = append(bpes, mustNew(f, bpeVocab(pre, merges, tok{"<|endoftext|>", 0, TypeControl})))
	}
	f.Fuzz(func(t *testing.T, s string, parseSpecial bool) {
		ids, err := spm.Encode(s, true, parseSpecial)
		if err != nil {
			t.Fatalf("spm Encode(%q): %v", s, err)
		}
		if !parseSpecial && utf8.ValidString(s) && !strings.Contains(s, "\u2581") {
			if got, err := spm.Decode(ids[1:]); err != nil || got != s {
				t.Fatalf("spm round trip %q -> %v -> %q (%v)", s, ids, got, err)
			}
		}
		for _, tk := range bpes {
			ids, err := tk.Encode(s, false, parseSpecial)
			if errors.Is(err, errCodepoint) {
				continue
			}
			if err != nil {
				t.Fatalf("bpe %v Encode(%q): %v", tk.pre, s, err)
			}
			got, err := tk.Decode(ids)
			if err != nil {
				t.Fatal(err)
			}
			if !tk.pre.cleanSpaces && !parseSpecial && utf8.ValidString(s) && got != s {
				t.Fatalf("bpe round trip %q -> %v -> %q", s, ids, got)
			}
		}
	})
}
