package tokenizer

import (
	"testing"
)

func TestByteRune(t *testing.T) {
	seen := map[rune]bool{}
	for b, r := range byteRune {
		if seen[r] {
			t.Fatalf("byte %#x: rune %U used twice", b, r)
		}
		seen[r] = true
		if runeByte[r] != byte(b) {
			t.Fatalf("byte %#x: inverse gives %#x", b, runeByte[r])
		}
	}
	for b, want := range map[byte]rune{'!': '!', ' ': 'Ġ', '\n': 'Ċ', 0x00: 'Ā', 0xAD: 'Ń', 0xFF: 'ÿ', 0x7F: 'ġ'} {
		if byteRune[b] != want {
			t.Errorf("byte %#x: %q, want %q", b, byteRune[b], want)
		}
	}
}

func TestParseMerges(t *testing.T) {
	r := parseMerges([]string{"a b", "Ġ Ġt", "a b", "noSpace", " x y", "Ġt  he"})
	want := map[mergePair]int{
		{"a", "b"}:    0,
		{"Ġ", "Ġt"}:   1,
		{"", ""}:      3, // no space after the first byte
		{" x", "y"}:   4, // the split looks from the second byte on
		{"Ġt", " he"}: 5,
	}
	if len(r) != len(want) {
		t.Errorf("got %v, want %v", r, want)
	}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("%q: rank %d, want %d", k, r[k], v)
		}
	}
}

func TestBPEMerges(t *testing.T) {
	tk := mustNew(t, bpeVocab("qwen2", []string{"h e", "l l", "he ll", "Ġ w", "o r"}))
	checkEncode(t, tk, "hello world", false, false,
		append(tk.idsOf(t, "hell", "o", "Ġw", "or"), 'l', 'd'))

	// Equal ranks: the leftmost pair merges first.
	tk = mustNew(t, bpeVocab("qwen2", []string{"a a"}))
	checkEncode(t, tk, "aaa", false, false, []int32{tk.id(t, "aa"), 'a'})

	// A lower rank wins regardless of position.
	tk = mustNew(t, bpeVocab("qwen2", []string{"b c", "a b"}))
	checkEncode(t, tk, "abc", false, false, []int32{'a', tk.id(t, "bc")})
}

func TestBPEIgnoreMerges(t *testing.T) {
	merges := []string{"o r"}
	extra := tok{"wor", 0, TypeNormal}
	// Llama 3 emits a word that is a token whole, merges or not.
	tk := mustNew(t, bpeVocab("llama3", merges, extra))
	checkEncode(t, tk, "wor", false, false, tk.idsOf(t, "wor"))
	tk = mustNew(t, bpeVocab("qwen2", merges, extra))
	checkEncode(t, tk, "wor", false, false, []int32{'w', tk.id(t, "or")})
}

func TestBPEMissingByte(t *testing.T) {
	v := bpeVocab("qwen2", nil)
	v.Tokens['z'] = "[no z]"
	tk := mustNew(t, v)
	// A byte without a token is dropped, as llama.cpp does.
	checkEncode(t, tk, "azb", false, false, []int32{'a', 'b'})
}

func TestBPEAddSpecial(t *testing.T) {
	v := bpeVocab("qwen2", nil, tok{"<|endoftext|>", 0, TypeControl})
	v.BOS = 256
	tk := mustNew(t, v)
	checkEncode(t, tk, "a", true, false, []int32{'a'})
	v.AddBOS = true
	tk = mustNew(t, v)
	checkEncode(t, tk, "a", true, false, []int32{256, 'a'})
}
