package tokenizer

import (
	"fmt"
	"strings"
)

// Token attributes: llama.h's llama_token_attr bits. A token's attributes
// start from its GGUF type and are then adjusted by text (special.go).
const (
	attrUnknown     uint16 = 1 << 0
	attrUnused      uint16 = 1 << 1
	attrNormal      uint16 = 1 << 2
	attrControl     uint16 = 1 << 3
	attrUserDefined uint16 = 1 << 4
	attrByte        uint16 = 1 << 5
	attrLStrip      uint16 = 1 << 7
	attrRStrip      uint16 = 1 << 8

	// attrSpecial tokens are hidden by Decode unless unparseSpecial is set,
	// and matched in text by Encode only with parseSpecial.
	attrSpecial = attrUnknown | attrControl
)

func typeAttr(t int32) uint16 {
	switch t {
	case TypeNormal:
		return attrNormal
	case TypeUnknown:
		return attrUnknown
	case TypeControl:
		return attrControl
	case TypeUserDefined:
		return attrUserDefined
	case TypeUnused:
		return attrUnused
	case TypeByte:
		return attrByte
	}
	return 0
}

// Tokenizer turns text into llama.cpp's token ids and back. It is immutable
// after New and safe for concurrent use.
type Tokenizer struct {
	spm    bool
	pre    preTokenizer // BPE only
	tokens []string
	ids    map[string]int32
	scores []float32
	attrs  []uint16
	pieces []string // token_to_piece with special=true, llama.cpp's cache

	ranks      map[mergePair]int // BPE only
	byteTokens [256]int32        // SentencePiece only

	specials []int32 // partition order: longest text first
	eog      map[int32]bool

	bos, eos                       int32
	addBOS, addEOS, addSpacePrefix bool
}

// New builds a Tokenizer over v. It fails where llama.cpp would refuse to
// load the vocabulary (duplicate tokens, short score or type arrays, a byte
// token whose text is too short to hold its value) and for tokenizer models
// and pre-tokenizers this package does not implement (ErrUnsupported).
func New(v *Vocab) (*Tokenizer, error) {
	n := len(v.Tokens)
	t := &Tokenizer{
		tokens:         make([]string, n),
		ids:            make(map[string]int32, n),
		scores:         make([]float32, n),
		attrs:          make([]uint16, n),
		bos:            v.BOS,
		eos:            v.EOS,
		addBOS:         v.AddBOS,
		addEOS:         v.AddEOS,
		addSpacePrefix: v.AddSpacePrefix,
	}
	switch v.Model {
	case ModelSPM:
		t.spm = true
	case ModelBPE:
		p, ok := preTokenizers[v.Pre]
		if !ok {
			return nil, fmt.Errorf("%w pre-tokenizer %q", ErrUnsupported, v.Pre)
		}
		t.pre = p
		t.ranks = parseMerges(v.Merges)
	default:
		return nil, fmt.Errorf("%w tokenizer model %q", ErrUnsupported, v.Model)
	}
	if int64(n) > 1<<31-1 {
		return nil, fmt.Errorf("tokenizer: %d tokens do not fit int32 ids", n)
	}
	if v.Scores != nil && len(v.Scores) < n {
		return nil, fmt.Errorf("tokenizer: %d scores for %d tokens", len(v.Scores), n)
	}
	if v.Types != nil && len(v.Types) < n {
		return nil, fmt.Errorf("tokenizer: %d token types for %d tokens", len(v.Types), n)
	}
	for i, s := range v.Tokens {
		if s == "" {
			s = fmt.Sprintf("[EMPTY_%d]", i)
		}
		if j, dup := t.ids[s]; dup {
			return nil, fmt.Errorf("tokenizer: tokens %d and %d are both %q", j, i, s)
		}
		t.tokens[i] = s
		t.ids[s] = int32(i)
		if v.Scores != nil {
			t.scores[i] = v.Scores[i]
		}
		t.attrs[i] = attrNormal
		if v.Types != nil {
			t.attrs[i] = typeAttr(v.Types[i])
		}
	}
	for name, id := range map[string]int32{"BOS": v.BOS, "EOS": v.EOS, "UNK": v.UNK, "PAD": v.PAD} {
		if id != NoToken && (id < 0 || int(id) >= n) {
			return nil, fmt.Errorf("tokenizer: %s id %d outside vocabulary of %d", name, id, n)
		}
	}
	for name, id := range v.SpecialIDs {
		if id < 0 || int(id) >= n {
			return nil, fmt.Errorf("tokenizer: %s id %d outside vocabulary of %d", name, id, n)
		}
	}
	t.markSpecial(v)
	var err error
	if t.pieces, err = t.buildPieces(); err != nil {
		return nil, err
	}
	if err := t.markStrip(v); err != nil {
		return nil, err
	}
	if t.spm {
		t.byteTokens = spmByteTokens(t.ids)
	}
	return t, nil
}

// VocabSize is the number of tokens.
func (t *Tokenizer) VocabSize() int { return len(t.tokens) }

// BOS is the beginning-of-sequence token id, NoToken if none.
func (t *Tokenizer) BOS() int32 { return t.bos }

// EOS is the end-of-sequence token id, NoToken if none.
func (t *Tokenizer) EOS() int32 { return t.eos }

// IsEOG reports whether id ends generation in llama.cpp (llama_vocab_is_eog):
// EOS, EOT, EOM, FIM pad/repo/separator and tokens llama.cpp recognises by
// their text, such as "<|im_end|>" or "</s>".
func (t *Tokenizer) IsEOG(id int32) bool { return t.eog[id] }

// Token is the vocabulary text of id as stored ("▁the", "Ġthe", "<0x0A>"), or
// "" for an id outside the vocabulary.
func (t *Tokenizer) Token(id int32) string {
	if id < 0 || int(id) >= len(t.tokens) {
		return ""
	}
	return t.tokens[id]
}

// Piece is the text id stands for, rendering control tokens too: llama.cpp's
// token_to_piece with special=true and no stripping. Byte tokens yield their
// single byte, which may be part of a UTF-8 sequence. An id outside the
// vocabulary yields "".
func (t *Tokenizer) Piece(id int32) string {
	if id < 0 || int(id) >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// Encode tokenizes text as llama_tokenize does. With addSpecial, BOS and EOS
// are added where the vocabulary asks for them (AddBOS, AddEOS). With
// parseSpecial, the text of control tokens (e.g. "<|im_start|>") is
// recognised as that token; user-defined tokens are recognised always.
//
// The error cases are those where llama.cpp aborts or throws: BOS or EOS
// needed but absent, a SentencePiece byte with no byte token, and (BPE) a
// 4-byte sequence decoding above U+10FFFF.
func (t *Tokenizer) Encode(text string, addSpecial, parseSpecial bool) ([]int32, error) {
	var frags []fragment
	if text != "" {
		frags = t.partition(text, parseSpecial)
	}
	out := make([]int32, 0, len(text)/2+2)
	addBOS := addSpecial && t.addBOS
	addEOS := addSpecial && t.addEOS
	if addBOS && t.bos == NoToken {
		return nil, fmt.Errorf("tokenizer: vocabulary asks for BOS but has none")
	}
	if addEOS && t.eos == NoToken {
		return nil, fmt.Errorf("tokenizer: vocabulary asks for EOS but has none")
	}
	if addBOS {
		out = append(out, t.bos)
	}
	// SentencePiece prefixes a space to the first text fragment and to every
	// text fragment that follows a special token.
	prevSpecial := true
	var err error
	for _, f := range frags {
		if f.token != NoToken {
			out = append(out, f.token)
			prevSpecial = true
			continue
		}
		s := text[f.off : f.off+f.n]
		if t.spm {
			if t.addSpacePrefix && prevSpecial {
				s = " " + s
			}
			out, err = t.encodeSPM(strings.ReplaceAll(s, " ", "\u2581"), out)
			prevSpecial = false
		} else {
			out, err = t.encodeBPE(s, out)
		}
		if err != nil {
			return nil, err
		}
	}
	if addEOS {
		out = append(out, t.eos)
	}
	return out, nil
}
