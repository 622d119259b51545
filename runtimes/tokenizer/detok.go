package tokenizer

import (
	"fmt"
	"strings"
)

// buildPieces computes every token's piece the way llama.cpp fills its
// token-to-piece cache at load time (token_to_piece with special=true):
//
//   - unknown, control and user-defined tokens: their text as stored;
//   - normal tokens: SentencePiece turns "▁" into spaces; byte-level BPE maps
//     each codepoint back to its byte (decodeBPEText);
//   - byte tokens: the byte whose hex digits follow "<0x";
//   - unused and undefined tokens: nothing.
//
// It fails where llama.cpp fails to load: a byte token shorter than three
// bytes, or a BPE token decoding to a codepoint above U+10FFFF.
func (t *Tokenizer) buildPieces() ([]string, error) {
	pieces := make([]string, len(t.tokens))
	for id, text := range t.tokens {
		attr := t.attrs[id]
		switch {
		case attr&(attrSpecial|attrUserDefined) != 0:
			pieces[id] = text
		case attr&attrNormal != 0:
			if t.spm {
				pieces[id] = strings.ReplaceAll(text, "\u2581", " ")
				break
			}
			p, err := decodeBPEText(text)
			if err != nil {
				return nil, fmt.Errorf("tokenizer: token %d %q: %w", id, text, err)
			}
			pieces[id] = p
		case attr&attrByte != 0:
			if len(text) < 3 {
				return nil, fmt.Errorf("tokenizer: byte token %d %q is too short", id, text)
			}
			pieces[id] = string([]byte{byteTokenValue(text[3:min(5, len(text))])})
		}
	}
	return pieces, nil
}

// byteTokenValue is strtol(s, NULL, 16) truncated to a byte, as llama.cpp's
// token_to_byte reads the two characters after "<0x": leading whitespace and
// a sign are accepted and parsing stops at the first non-hex character.
func byteTokenValue(s string) byte {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	v := 0
	for ; i < len(s); i++ {
		c := s[i]
		var d int
		switch {
		case '0' <= c && c <= '9':
			d = int(c - '0')
		case 'a' <= c && c <= 'f':
			d = int(c-'a') + 10
		case 'A' <= c && c <= 'F':
			d = int(c-'A') + 10
		default:
			i = len(s)
			continue
		}
		v = v*16 + d
	}
	if neg {
		v = -v
	}
	return byte(v)
}

// decodeBPEText is llama_decode_text: each codepoint of a byte-level token
// goes back to its byte. A codepoint outside GPT-2's table becomes
// "[UNK_BYTE_0x<hex of its UTF-8>" followed by the whole token text and "]".
func decodeBPEText(text string) (string, error) {
	var b []byte
	for _, c := range decodeCodepoints(text) {
		if by, ok := runeByte[rune(c)]; ok {
			b = append(b, by)
			continue
		}
		enc, err := appendCodepoint(nil, c)
		if err != nil {
			return "", err
		}
		b = append(b, "[UNK_BYTE_0x"...)
		for _, x := range enc {
			b = fmt.Appendf(b, "%02x", x)
		}
		b = append(b, text...)
		b = append(b, ']')
	}
	return string(b), nil
}

// Decode turns ids back into text the way llama_detokenize does with
// remove_special=false and unparse_special=false: control and unknown tokens
// render as nothing, byte tokens are concatenated into the UTF-8 they spell,
// SentencePiece's "▁" becomes a space, and with AddSpacePrefix one leading
// space is dropped from the first token's piece (even when that first token
// is a BOS that renders as nothing). The result is not guaranteed to be
// valid UTF-8.
func (t *Tokenizer) Decode(ids []int32) (string, error) {
	return t.Detokenize(ids, false, false)
}

// Detokenize is llama_detokenize. removeSpecial drops a leading BOS and a
// trailing EOS where the vocabulary adds them (AddBOS, AddEOS); dropping the
// BOS also keeps the first piece's leading space, as llama.cpp does.
// unparseSpecial renders control and unknown tokens as their text. For
// vocabularies with llama.cpp's clean_spaces (GPT-2 style BPE), the spaces
// before ? ! . , and before 's 'm 're 've, and around a lone ', are removed.
// An id outside the vocabulary is an error (ErrTokenID).
func (t *Tokenizer) Detokenize(ids []int32, removeSpecial, unparseSpecial bool) (string, error) {
	for _, id := range ids {
		if id < 0 || int(id) >= len(t.tokens) {
			return "", fmt.Errorf("%w: %d (vocabulary of %d)", ErrTokenID, id, len(t.tokens))
		}
	}
	removeSpace := t.addSpacePrefix
	if removeSpecial && t.addBOS && len(ids) > 0 && ids[0] == t.bos {
		removeSpace = false
		ids = ids[1:]
	}
	if removeSpecial && t.addEOS && len(ids) > 0 && ids[len(ids)-1] == t.eos {
		ids = ids[:len(ids)-1]
	}
	var b []byte
	for _, id := range ids {
		strip := removeSpace
		removeSpace = false
		if !unparseSpecial && t.attrs[id]&attrSpecial != 0 {
			continue
		}
		p := t.pieces[id]
		if strip && strings.HasPrefix(p, " ") {
			p = p[1:]
		}
		b = append(b, p...)
	}
	if !t.spm && t.pre.cleanSpaces {
		b = cleanSpaces(b)
	}
	return string(b), nil
}

// cleanSpaces is llama.cpp's clean_up_tokenization_spaces, three in-place
// passes over the bytes. It is ported index for index because the second pass
// overwrites a byte ahead of its cursor, which later reads can observe.
func cleanSpaces(text []byte) []byte {
	// First pass: " ?", " !", " .", " ," lose the space.
	total := len(text)
	n := min(total, 1)
	for i := 1; i < total; i++ {
		x := text[i]
		if text[i-1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',') {
			n--
		}
		text[n] = x
		n++
	}
	// Second pass: " ' " becomes "'".
	total = n
	n = min(total, 1)
	for i := 1; i < total; i++ {
		x := text[i]
		if x == '\'' && i+1 < total && text[i-1] == ' ' && text[i+1] == ' ' {
			n--
			i++
			text[i] = 0
		}
		text[n] = x
		n++
	}
	// Third pass: " 's", " 'm", " 're", " 've" lose the space; " 't", " 'd"
	// and " 'll" keep it.
	total = n
	n = min(total, 1)
	for i := 1; i < total; i++ {
		x := text[i]
		if text[i-1] == ' ' && x == '\'' && i+1 < total {
			x1 := text[i+1]
			switch {
			case x1 == 't' || x1 == 'd':
			case x1 == 's' || x1 == 'm':
				n--
			case i+2 < total:
				x2 := text[i+2]
				if (x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e') {
					n--
				}
			}
		}
		text[n] = x
		n++
	}
	return text[:n]
}
