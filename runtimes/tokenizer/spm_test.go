package tokenizer

import (
	"errors"
	"testing"
)

func TestSPMMergeOrder(t *testing.T) {
	// Equal scores: the leftmost pair merges first.
	v := spmVocab(norm("a", 0), norm("b", 0), norm("ab", -1), norm("ba", -1))
	v.AddSpacePrefix = false
	tk := mustNew(t, v)
	checkEncode(t, tk, "aba", false, false, tk.idsOf(t, "ab", "a"))

	// A higher score wins regardless of position.
	v = spmVocab(norm("a", 0), norm("b", 0), norm("ab", -2), norm("ba", -1))
	v.AddSpacePrefix = false
	tk = mustNew(t, v)
	checkEncode(t, tk, "aba", false, false, tk.idsOf(t, "a", "ba"))

	// Merged symbols are queued again with their neighbours: ab+ab -> abab,
	// even though "abab" scores lower than "ba".
	v = spmVocab(norm("a", 0), norm("b", 0), norm("ab", -1), norm("ba", -3), norm("abab", -5))
	v.AddSpacePrefix = false
	tk = mustNew(t, v)
	checkEncode(t, tk, "abab", false, false, tk.idsOf(t, "abab"))
}

func TestSPMSpacePrefix(t *testing.T) {
	v := spmVocab(norm("▁", -5), norm("a", 0), norm("b", 0), norm("▁a", -1), norm("▁b", -1))
	tk := mustNew(t, v)
	checkEncode(t, tk, "a b", false, false, tk.idsOf(t, "▁a", "▁b"))
	// Spaces are escaped everywhere, leading ones included.
	checkEncode(t, tk, " a", false, false, tk.idsOf(t, "▁", "▁a"))

	v.AddSpacePrefix = false
	tk = mustNew(t, v)
	checkEncode(t, tk, "a b", false, false, tk.idsOf(t, "a", "▁b"))
}

func TestSPMByteFallback(t *testing.T) {
	tk := mustNew(t, spmVocab(norm("▁", -1)))
	// "é" is not a token: its two bytes go through <0xC3> <0xA9>.
	checkEncode(t, tk, "é", false, false, tk.idsOf(t, "▁", "<0xC3>", "<0xA9>"))
	// An invalid byte is a symbol of its own.
	checkEncode(t, tk, "\xff", false, false, tk.idsOf(t, "▁", "<0xFF>"))

	// Without <0xXX> tokens llama.cpp falls back to one-byte tokens...
	v := &Vocab{Model: ModelSPM, Tokens: []string{"<unk>", "\xc3", "\xa9"}, BOS: NoToken, EOS: NoToken, UNK: 0, PAD: NoToken}
	tk = mustNew(t, v)
	checkEncode(t, tk, "é", false, false, []int32{1, 2})
	// ...and fails when there is none.
	if _, err := tk.Encode("x", false, false); !errors.Is(err, ErrNoByteToken) {
		t.Errorf("missing byte token: err = %v", err)
	}
}

func TestSPMAddSpecial(t *testing.T) {
	v := spmVocab(norm("▁", -1), norm("a", 0), norm("▁a", -1))
	tk := mustNew(t, v)
	checkEncode(t, tk, "a", true, false, []int32{1, tk.id(t, "▁a")})
	// The empty prompt is just BOS, as in SentencePiece.
	checkEncode(t, tk, "", true, false, []int32{1})
	checkEncode(t, tk, "", false, false, nil)

	v.AddEOS = true
	tk = mustNew(t, v)
	checkEncode(t, tk, "a", true, false, []int32{1, tk.id(t, "▁a"), 2})

	v.BOS = NoToken
	tk = mustNew(t, v)
	if _, err := tk.Encode("a", true, false); err == nil {
		t.Errorf("AddBOS without BOS: no error")
	}
}

func TestSPMSpecialPrefix(t *testing.T) {
	v := spmVocab(norm("▁", -1), norm("a", 0), norm("▁a", -1), norm("<", 0), norm("s", 0), norm(">", 0))
	tk := mustNew(t, v)
	// A text fragment after a special token gets the space prefix again.
	checkEncode(t, tk, "a<s>a", false, true, tk.idsOf(t, "▁a", "<s>", "▁a"))
	// Without parseSpecial "<s>" is plain text.
	checkEncode(t, tk, "<s>", false, false, tk.idsOf(t, "▁", "<", "s", ">"))
}
