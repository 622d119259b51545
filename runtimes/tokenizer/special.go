package tokenizer

import (
	"fmt"
	"sort"
	"strings"
)

// Special tokens.
//
// GGUF token types are not the whole story: llama.cpp's loader adjusts token
// attributes by their text, and those attributes decide what Encode matches
// in raw text and what Decode hides. markSpecial and markStrip reproduce
// llama_vocab::impl::load's adjustments in its order:
//
//  1. EOT, EOM and the six FIM tokens, when their id is not given, are found
//     by text and forced to control. llama.cpp walks an unordered_map, so
//     with several candidate texts in one vocabulary the winner is
//     unspecified; here the lowest id wins.
//  2. End-of-generation: FIM pad/repo/separator, every token whose text is in
//     eogTexts (forced to control), then EOS, EOT and EOM.
//  3. gpt-oss's "<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"
//     become user-defined; "<|end|>" stops ending generation when
//     "<|return|>"+"<|call|>" or "<|call|>"/"<|calls|>"+"<|flush|>" exist;
//     "</s>" stops when "<|tool_response>" exists.
//  4. After the piece cache is built: left/right whitespace stripping around
//     special tokens for a few models named by general.name, .architecture
//     or tokenizer.ggml.pre.
//
// llama.cpp also marks control tokens whose text contains "unused" as unused;
// nothing in tokenizing or detokenizing reads that mark, so it is not kept.

var eotTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
	"<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"}

// detectTexts lists, per SpecialIDs key, the texts llama.cpp looks for when
// the id is not given.
var detectTexts = []struct {
	key   string
	texts []string
}{
	{"eot", eotTexts},
	{"eom", []string{"<|eom_id|>"}},
	{"fim_pre", []string{"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"}},
	{"fim_suf", []string{"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"}},
	{"fim_mid", []string{"<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"}},
	{"fim_pad", []string{"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"}},
	{"fim_rep", []string{"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"}},
	{"fim_sep", []string{"<|file_sep|>"}},
}

var eogTexts = []string{"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
	"<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
	"<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
	"<｜end▁of▁sentence｜>", "[e~["}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// markSpecial applies steps 1-3 and builds the partition order.
func (t *Tokenizer) markSpecial(v *Vocab) {
	ids := make(map[string]int32, len(v.SpecialIDs)+len(detectTexts))
	for k, id := range v.SpecialIDs {
		ids[k] = id
	}
	for _, d := range detectTexts {
		if _, given := ids[d.key]; given {
			continue
		}
		for id, s := range t.tokens {
			if contains(d.texts, s) {
				ids[d.key] = int32(id)
				t.attrs[id] |= attrControl
				break
			}
		}
	}

	t.eog = map[int32]bool{}
	for _, k := range []string{"fim_pad", "fim_rep", "fim_sep"} {
		if id, ok := ids[k]; ok {
			t.eog[id] = true
		}
	}
	for id, s := range t.tokens {
		if contains(eogTexts, s) {
			t.eog[int32(id)] = true
			t.attrs[id] |= attrControl
		}
		switch s {
		case "<|channel|>", "<|message|>", "<|start|>", "<|constrain|>":
			t.attrs[id] = attrUserDefined
		}
	}
	if t.eos != NoToken {
		t.eog[t.eos] = true
	}
	for _, k := range []string{"eot", "eom"} {
		if id, ok := ids[k]; ok {
			t.eog[id] = true
		}
	}
	has := map[string]int32{}
	for id := range t.eog {
		has[t.tokens[id]] = id
	}
	_, ret := has["<|return|>"]
	_, call := has["<|call|>"]
	_, calls := has["<|calls|>"]
	_, flush := has["<|flush|>"]
	if end, ok := has["<|end|>"]; ok && ((ret && (call || calls)) || ((call || calls) && flush)) {
		delete(t.eog, end)
		t.attrs[end] = attrUserDefined
	}
	if s, ok := has["</s>"]; ok {
		if _, tr := has["<|tool_response>"]; tr {
			delete(t.eog, s)
			t.attrs[s] = attrNormal
		}
	}

	for id := range t.tokens {
		if t.attrs[id]&(attrControl|attrUserDefined|attrUnknown) != 0 {
			t.specials = append(t.specials, int32(id))
		}
	}
	// llama.cpp sorts with std::sort, which leaves equal lengths in an
	// unspecified order; ties go to the lower id here.
	sort.SliceStable(t.specials, func(i, j int) bool {
		return len(t.tokens[t.specials[i]]) > len(t.tokens[t.specials[j]])
	})
}

// markStrip applies step 4.
func (t *Tokenizer) markStrip(v *Vocab) error {
	containsAny := func(s string, subs ...string) bool {
		for _, sub := range subs {
			if strings.Contains(s, sub) {
				return true
			}
		}
		return false
	}
	set := func(text string, attr uint16, on bool) error {
		id, ok := t.ids[text]
		if !ok {
			return fmt.Errorf("tokenizer: %q model without token %q (llama.cpp refuses it)", v.Name, text)
		}
		if on {
			t.attrs[id] |= attr
		} else {
			t.attrs[id] &^= attr
		}
		return nil
	}
	name := asciiLowerString(v.Name)
	switch {
	case containsAny(v.Pre, "jina-v2-de", "jina-v2-es", "jina-v2-code") ||
		containsAny(v.Arch, "nomic-bert-moe", "jina-bert-v3"):
		if _, ok := t.ids["<mask>"]; ok {
			return set("<mask>", attrLStrip, true)
		}
	case containsAny(name, "phi-3", "phi3"):
		for _, id := range t.specials {
			t.attrs[id] |= attrRStrip
		}
		if err := set("</s>", attrRStrip, true); err != nil {
			return err
		}
		for _, s := range []string{"<unk>", "<s>", "<|endoftext|>"} {
			if err := set(s, attrRStrip, false); err != nil {
				return err
			}
		}
	case containsAny(name, "modern-bert"):
		if _, ok := t.ids["[MASK]"]; ok {
			return set("[MASK]", attrLStrip, true)
		}
	}
	return nil
}

func asciiLowerString(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// A fragment of the input: either raw text (token == NoToken) at
// text[off:off+n], or a special token found in the text.
type fragment struct {
	token  int32
	off, n int
}

// partition is llama_vocab::impl::tokenizer_st_partition: special tokens,
// longest first, are cut out of the raw text fragments. Control and unknown
// tokens take part only with parseSpecial; user-defined tokens always do. A
// token marked lstrip (rstrip) swallows the C-locale whitespace before
// (after) it.
func (t *Tokenizer) partition(text string, parseSpecial bool) []fragment {
	frags := []fragment{{token: NoToken, off: 0, n: len(text)}}
	var next []fragment
	for _, id := range t.specials {
		attr := t.attrs[id]
		if !parseSpecial && attr&attrSpecial != 0 {
			continue
		}
		tok := t.tokens[id]
		next = next[:0]
		for _, f := range frags {
			if f.token != NoToken {
				next = append(next, f)
				continue
			}
			base, length := f.off, f.n
			for {
				i := strings.Index(text[base:base+length], tok)
				if i < 0 {
					if length > 0 {
						next = append(next, fragment{token: NoToken, off: base, n: length})
					}
					break
				}
				m := base + i
				if left := m - base; left > 0 {
					if attr&attrLStrip != 0 {
						for left > 0 && isCSpace(text[base+left-1]) {
							left--
						}
					}
					if left > 0 {
						next = append(next, fragment{token: NoToken, off: base, n: left})
					}
				}
				next = append(next, fragment{token: id, off: m, n: len(tok)})
				end := m + len(tok)
				if end >= base+length {
					break
				}
				rOff, rLen := end, base+length-end
				if attr&attrRStrip != 0 {
					for rLen > 0 && isCSpace(text[rOff]) {
						rOff++
						rLen--
					}
				}
				base, length = rOff, rLen
			}
		}
		frags, next = next, frags
	}
	return frags
}

// isCSpace is C's isspace in the "C" locale, which llama.cpp uses for
// stripping around special tokens.
func isCSpace(b byte) bool {
	return b == ' ' || (b >= '\t' && b <= '\r')
}
