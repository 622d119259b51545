package tokenizer

import (
	"errors"
	"strings"
	"testing"
)

// FuzzVocab builds tokenizers from hostile vocabularies, what a crafted
// model file's tokenizer keys can hold: any token texts, types, merges and
// special ids, SentencePiece or BPE. New must fail cleanly or give a
// tokenizer whose Encode never panics and yields ids inside the vocabulary,
// which Decode then accepts; and Decode refuses ids outside it with
// ErrTokenID.
func FuzzVocab(f *testing.F) {
	f.Add(true, "<unk>\n<s>\n</s>\n▁a\na\n▁\n<0x41>", []byte{2, 3, 3, 1, 1, 1, 6}, "", int32(1), int32(2), "a a A", true)
	f.Add(false, "a\nb\nab\n<|endoftext|>\nĠ\nĠa", []byte{1, 1, 1, 3, 1, 1}, "a b\nĠ a", int32(-1), int32(3), "ab a<|endoftext|>", true)
	f.Add(false, "a\na", []byte{}, "", int32(-1), int32(-1), "a", false)
	f.Add(true, "", []byte{}, "", int32(0), int32(0), "", false)
	f.Add(false, "x\n\n\ny", []byte{7, 0, 255}, "x y z\n\n", int32(5), int32(-7), "xyxy\xff", false)
	f.Fuzz(func(t *testing.T, spm bool, tokens string, types []byte, merges string, bos, eos int32, text string, parseSpecial bool) {
		model, pre := ModelBPE, "qwen2"
		if spm {
			model, pre = ModelSPM, ""
		}
		v, err := Defaults(model, pre)
		if err != nil {
			t.Fatal(err)
		}
		v.Tokens = strings.Split(tokens, "\n")
		if len(types) > 0 {
			v.Types = make([]int32, len(types))
			for i, b := range types {
				v.Types[i] = int32(b % 8)
			}
		}
		if merges != "" {
			v.Merges = strings.Split(merges, "\n")
		}
		v.BOS, v.EOS = bos, eos
		tk, err := New(&v)
		if err != nil {
			return
		}
		n := int32(tk.VocabSize())
		ids, err := tk.Encode(text, true, parseSpecial)
		if err == nil {
			for _, id := range ids {
				if id < 0 || id >= n {
					t.Fatalf("Encode(%q) gave id %d of a vocabulary of %d", text, id, n)
				}
			}
			if _, err := tk.Decode(ids); err != nil {
				t.Fatalf("Decode of Encode(%q) = %v: %v", text, ids, err)
			}
			if _, err := tk.Detokenize(ids, true, true); err != nil {
				t.Fatalf("Detokenize of Encode(%q) = %v: %v", text, ids, err)
			}
		}
		for _, bad := range []int32{-1, n, bos ^ eos | n} {
			if _, err := tk.Decode([]int32{0, bad}); !errors.Is(err, ErrTokenID) && (bad < 0 || bad >= n) {
				t.Fatalf("Decode of id %d in a vocabulary of %d: %v", bad, n, err)
			}
		}
	})
}
