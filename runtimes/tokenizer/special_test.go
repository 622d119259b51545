package tokenizer

import (
	"testing"
)

func TestPartition(t *testing.T) {
	tk := mustNew(t, bpeVocab("qwen2", nil,
		tok{"<|endoftext|>", 0, TypeControl},
		tok{"<t>", 0, TypeUserDefined},
		tok{"<t><t>", 0, TypeUserDefined}))
	eot, t1, t2 := tk.id(t, "<|endoftext|>"), tk.id(t, "<t>"), tk.id(t, "<t><t>")

	// Control tokens are recognised only with parseSpecial.
	checkEncode(t, tk, "a<|endoftext|>b", false, true, []int32{'a', eot, 'b'})
	lit, err := tk.Encode("<|endoftext|>", false, false)
	if err != nil || len(lit) != len("<|endoftext|>") {
		t.Errorf("control token as text: %v %v", lit, err)
	}
	// User-defined tokens are recognised always, longest first.
	checkEncode(t, tk, "<t><t><t>", false, false, []int32{t2, t1})
	checkEncode(t, tk, "x<t>", false, false, []int32{'x', t1})
}

func TestPartitionStrip(t *testing.T) {
	// llama.cpp gives every special token of a model named Phi-3 rstrip, so
	// the whitespace after it disappears, and the text after it then gets
	// the SentencePiece space prefix again.
	phi := func(name string) *Vocab {
		v := spmVocab(norm("▁", -1), norm("h", 0), norm("i", 0), norm("hi", -2), norm("▁hi", -1),
			tok{"<|end|>", 0, TypeControl}, tok{"<|endoftext|>", 0, TypeControl})
		v.Name = name
		return v
	}
	tk := mustNew(t, phi("Phi3"))
	want, _ := tk.Encode("<|end|>hi", false, true)
	checkEncode(t, tk, "<|end|> \n hi", false, true, want)
	// <s> explicitly keeps no rstrip.
	checkEncode(t, tk, "<s> hi", false, true, tk.idsOf(t, "<s>", "▁", "▁hi"))

	tk = mustNew(t, phi("other"))
	checkEncode(t, tk, "<|end|> hi", false, true, tk.idsOf(t, "<|end|>", "▁", "▁hi"))

	// A Phi-3 vocabulary without the tokens llama.cpp adjusts fails to load.
	v := spmVocab()
	v.Name = "phi-3-mini"
	if _, err := New(v); err == nil {
		t.Errorf("phi-3 vocab without </s>-family tokens loaded")
	}

	// lstrip: the whitespace before "<mask>" disappears.
	v = bpeVocab("qwen2", nil, tok{"<mask>", 0, TypeUserDefined})
	v.Arch = "jina-bert-v3"
	tk = mustNew(t, v)
	checkEncode(t, tk, "a \t<mask>", false, false, []int32{'a', tk.id(t, "<mask>")})
}

func TestEOG(t *testing.T) {
	v := bpeVocab("qwen2", nil,
		tok{"<|endoftext|>", 0, TypeNormal},
		tok{"<|im_end|>", 0, TypeControl},
		tok{"<|fim_pad|>", 0, TypeNormal},
		tok{"<|fim_prefix|>", 0, TypeNormal},
		tok{"<other>", 0, TypeControl})
	v.EOS = 5
	tk := mustNew(t, v)
	for text, want := range map[string]bool{
		"<|endoftext|>": true, "<|im_end|>": true, "<|fim_pad|>": true, "<|fim_prefix|>": false, "<other>": false,
	} {
		if got := tk.IsEOG(tk.id(t, text)); got != want {
			t.Errorf("IsEOG(%s) = %v", text, got)
		}
	}
	if !tk.IsEOG(5) {
		t.Errorf("EOS is not EOG")
	}
	// Tokens found by text are forced to control: hidden when decoding.
	for _, s := range []string{"<|endoftext|>", "<|fim_prefix|>"} {
		if got, _ := tk.Decode([]int32{tk.id(t, s)}); got != "" {
			t.Errorf("Decode(%s) = %q, want hidden", s, got)
		}
	}
	// A FIM id given by the file suppresses the search by text.
	v.SpecialIDs = map[string]int32{"fim_pre": 'x'}
	tk = mustNew(t, v)
	if got, _ := tk.Decode([]int32{tk.id(t, "<|fim_prefix|>")}); got != "<|fim_prefix|>" {
		t.Errorf("Decode(<|fim_prefix|>) = %q with fim_pre given", got)
	}
}

func TestGptOssEnd(t *testing.T) {
	v := bpeVocab("qwen2", nil,
		tok{"<|return|>", 0, TypeControl}, tok{"<|call|>", 0, TypeControl},
		tok{"<|end|>", 0, TypeControl}, tok{"<|channel|>", 0, TypeControl})
	tk := mustNew(t, v)
	end, ch := tk.id(t, "<|end|>"), tk.id(t, "<|channel|>")
	if tk.IsEOG(end) || !tk.IsEOG(tk.id(t, "<|return|>")) {
		t.Errorf("EOG: <|end|> %v, <|return|> %v", tk.IsEOG(end), tk.IsEOG(tk.id(t, "<|return|>")))
	}
	// Both become user-defined: matched in text without parseSpecial.
	checkEncode(t, tk, "<|channel|>a<|end|>", false, false, []int32{ch, 'a', end})
}
