package tokenizer

import (
	"fmt"
	"reflect"
	"testing"
)

// tok is one hand-made vocabulary entry.
type tok struct {
	text  string
	score float32
	typ   int32
}

func norm(text string, score float32) tok { return tok{text, score, TypeNormal} }

// spmVocab is a SentencePiece vocabulary laid out like Llama 2's: <unk>, <s>,
// </s>, the 256 byte tokens (ids 3..258), then extra.
func spmVocab(extra ...tok) *Vocab {
	v, err := Defaults(ModelSPM, "")
	if err != nil {
		panic(err)
	}
	add := func(t tok) {
		v.Tokens = append(v.Tokens, t.text)
		v.Scores = append(v.Scores, t.score)
		v.Types = append(v.Types, t.typ)
	}
	add(tok{"<unk>", 0, TypeUnknown})
	add(tok{"<s>", 0, TypeControl})
	add(tok{"</s>", 0, TypeControl})
	for b := 0; b < 256; b++ {
		add(tok{fmt.Sprintf("<0x%02X>", b), 0, TypeByte})
	}
	for _, t := range extra {
		add(t)
	}
	return &v
}

// bpeVocab is a byte-level BPE vocabulary whose first 256 ids are the bytes
// (id == byte value), followed by one token per merge, then extra.
func bpeVocab(pre string, merges []string, extra ...tok) *Vocab {
	v, err := Defaults(ModelBPE, pre)
	if err != nil {
		panic(err)
	}
	v.BOS, v.EOS = NoToken, NoToken
	for b := 0; b < 256; b++ {
		v.Tokens = append(v.Tokens, string(byteRune[b]))
	}
	for _, m := range merges {
		l, r, _ := cut(m)
		v.Tokens = append(v.Tokens, l+r)
	}
	v.Merges = merges
	v.Types = make([]int32, len(v.Tokens))
	for i := range v.Types {
		v.Types[i] = TypeNormal
	}
	for _, t := range extra {
		v.Tokens = append(v.Tokens, t.text)
		v.Types = append(v.Types, t.typ)
	}
	return &v
}

func cut(m string) (string, string, bool) {
	for i := 1; i < len(m); i++ {
		if m[i] == ' ' {
			return m[:i], m[i+1:], true
		}
	}
	return m, "", false
}

func mustNew(t testing.TB, v *Vocab) *Tokenizer {
	t.Helper()
	tk, err := New(v)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// id returns the id of a token text, failing the test if it is absent.
func (tk *Tokenizer) id(t testing.TB, text string) int32 {
	t.Helper()
	id, ok := tk.ids[text]
	if !ok {
		t.Fatalf("no token %q", text)
	}
	return id
}

// ids maps token texts to ids.
func (tk *Tokenizer) idsOf(t testing.TB, texts ...string) []int32 {
	t.Helper()
	out := make([]int32, len(texts))
	for i, s := range texts {
		out[i] = tk.id(t, s)
	}
	return out
}

func checkEncode(t *testing.T, tk *Tokenizer, text string, addSpecial, parseSpecial bool, want []int32) {
	t.Helper()
	got, err := tk.Encode(text, addSpecial, parseSpecial)
	if err != nil {
		t.Errorf("Encode(%q): %v", text, err)
		return
	}
	if len(got)+len(want) > 0 && !reflect.DeepEqual(got, want) {
		t.Errorf("Encode(%q, %v, %v) = %v, want %v", text, addSpecial, parseSpecial, got, want)
	}
}
