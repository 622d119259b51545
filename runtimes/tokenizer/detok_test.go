package tokenizer

import (
	"errors"
	"testing"
)

func TestDetokenizeSPM(t *testing.T) {
	v := spmVocab(norm("▁a", -1), norm("▁b", -1), norm("b", 0))
	v.AddEOS = true
	tk := mustNew(t, v)
	a, b := tk.id(t, "▁a"), tk.id(t, "▁b")
	cases := []struct {
		ids                    []int32
		removeSpecial, unparse bool
		want                   string
	}{
		{[]int32{a, b}, false, false, "a b"},
		{[]int32{a, tk.id(t, "<0xC3>"), tk.id(t, "<0xA9>")}, false, false, "aé"},
		// The first token consumes the leading-space removal even when it
		// renders as nothing.
		{[]int32{1, a}, false, false, " a"},
		{[]int32{1, a}, false, true, "<s> a"},
		// Removing BOS keeps the space, as llama.cpp does.
		{[]int32{1, a, 2}, true, false, " a"},
		{[]int32{1, a, 2}, true, true, " a"},
		{[]int32{a, 2}, false, true, "a</s>"},
		{[]int32{0, tk.id(t, "b")}, false, false, "b"},
		{[]int32{0, tk.id(t, "b")}, false, true, "<unk>b"},
		{nil, false, false, ""},
	}
	for _, c := range cases {
		got, err := tk.Detokenize(c.ids, c.removeSpecial, c.unparse)
		if err != nil || got != c.want {
			t.Errorf("Detokenize(%v, %v, %v) = %q, %v; want %q", c.ids, c.removeSpecial, c.unparse, got, err, c.want)
		}
	}
	for _, id := range []int32{-1, int32(tk.VocabSize())} {
		if _, err := tk.Decode([]int32{a, id}); !errors.Is(err, ErrTokenID) {
			t.Errorf("Decode(%d): err = %v", id, err)
		}
	}
	if p := tk.Piece(tk.id(t, "<0x0A>")); p != "\n" {
		t.Errorf("Piece(<0x0A>) = %q", p)
	}
	if p := tk.Piece(1); p != "<s>" {
		t.Errorf("Piece(<s>) = %q", p)
	}
	if p := tk.Piece(-1); p != "" {
		t.Errorf("Piece(-1) = %q", p)
	}
	if tk.Token(a) != "▁a" || tk.Piece(a) != " a" {
		t.Errorf("Token/Piece(▁a) = %q/%q", tk.Token(a), tk.Piece(a))
	}
}

func TestDetokenizeBPE(t *testing.T) {
	tk := mustNew(t, bpeVocab("gpt-2", []string{"Ġ ,"}, tok{"<|endoftext|>", 0, TypeControl}))
	ids, err := tk.Encode("a , b\xc3\xa9", false, false)
	if err != nil {
		t.Fatal(err)
	}
	// gpt-2 cleans up the space before the comma.
	if got, _ := tk.Decode(ids); got != "a, bé" {
		t.Errorf("gpt-2 Decode = %q", got)
	}
	tk = mustNew(t, bpeVocab("qwen2", []string{"Ġ ,"}))
	if got, _ := tk.Decode(ids); got != "a , bé" {
		t.Errorf("qwen2 Decode = %q", got)
	}
}

func TestCleanSpaces(t *testing.T) {
	cases := map[string]string{
		"a , b . c ! d ? e":  "a, b. c! d? e",
		" ?":                 "?",
		"it 's we 're I 'm":  "it's we're I'm",
		"don 't I 'd we 'll": "don 't I 'd we 'll",
		"a ' b":              "a'b",
		"a ' ' b":            "a'' b",
		"":                   "",
		" ":                  " ",
	}
	for in, want := range cases {
		if got := string(cleanSpaces([]byte(in))); got != want {
			t.Errorf("cleanSpaces(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestByteTokenValue(t *testing.T) {
	for in, want := range map[string]byte{"0A": 0x0A, "ff": 0xFF, "Fz": 0x0F, "zz": 0, " 7": 7, "-1": 0xFF, "": 0} {
		if got := byteTokenValue(in); got != want {
			t.Errorf("%q: %#x, want %#x", in, got, want)
		}
	}
}

func TestDecodeBPEText(t *testing.T) {
	got, err := decodeBPEText("ĠhiĊ")
	if err != nil || got != " hi\n" {
		t.Errorf("decodeBPEText = %q, %v", got, err)
	}
	// A codepoint outside GPT-2's table: llama.cpp's marker, token text included.
	if got, _ := decodeBPEText("a€"); got != "a[UNK_BYTE_0xe282aca€]" {
		t.Errorf("decodeBPEText(a€) = %q", got)
	}
}
