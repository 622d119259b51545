package tokenizer

import (
	"errors"
	"fmt"
)

// Token types as GGUF stores them in tokenizer.ggml.token_type (llama.h's
// llama_token_type).
const (
	TypeUndefined   int32 = 0
	TypeNormal      int32 = 1
	TypeUnknown     int32 = 2
	TypeControl     int32 = 3
	TypeUserDefined int32 = 4
	TypeUnused      int32 = 5
	TypeByte        int32 = 6
)

// Tokenizer models (tokenizer.ggml.model) this package implements.
const (
	ModelSPM = "llama" // SentencePiece with byte fallback
	ModelBPE = "gpt2"  // byte-level BPE
)

// NoToken marks an absent special token id.
const NoToken int32 = -1

var (
	// ErrUnsupported is returned by New and Defaults for a tokenizer model or
	// pre-tokenizer this package does not implement.
	ErrUnsupported = errors.New("tokenizer: unsupported")
	// ErrNoByteToken is returned by Encode when SentencePiece byte fallback
	// needs a byte the vocabulary has no token for (llama.cpp throws).
	ErrNoByteToken = errors.New("tokenizer: missing byte token")
	// ErrTokenID is returned by Decode for an id outside the vocabulary.
	ErrTokenID = errors.New("tokenizer: token id out of range")
)

// Vocab is everything the tokenizer needs, as plain data: what a GGUF file's
// tokenizer.ggml.* keys hold after llama.cpp has applied its defaults for the
// absent ones (see Defaults). runtimes/model fills it from a file.
type Vocab struct {
	// Model is tokenizer.ggml.model: ModelSPM or ModelBPE.
	Model string
	// Pre is tokenizer.ggml.pre; it selects the BPE pre-tokenizer. Empty
	// means llama.cpp's "default". Ignored for SentencePiece.
	Pre string
	// Tokens is the vocabulary; the index is the token id. llama.cpp renames
	// an empty token to "[EMPTY_<id>]" and New does the same. Tokens must be
	// distinct.
	Tokens []string
	// Scores are the SentencePiece merge scores. Nil means all zero;
	// otherwise it needs at least len(Tokens) entries.
	Scores []float32
	// Types are the token types (TypeNormal, ...). Nil means all normal;
	// otherwise it needs at least len(Tokens) entries.
	Types []int32
	// Merges are the BPE merges, "left right", in rank order.
	Merges []string
	// BOS, EOS, UNK and PAD are the special token ids, NoToken if none.
	BOS, EOS, UNK, PAD int32
	// SpecialIDs holds the other special ids llama.cpp reads, keyed by the
	// GGUF key's middle part: "eot", "eom", "sep", "mask", "fim_pre",
	// "fim_suf", "fim_mid", "fim_pad", "fim_rep", "fim_sep". An absent key
	// means none; llama.cpp then looks for the EOT and FIM tokens by text.
	SpecialIDs map[string]int32
	// AddBOS and AddEOS say whether Encode with addSpecial adds BOS / EOS.
	AddBOS, AddEOS bool
	// AddSpacePrefix: SentencePiece prefixes a space to text that starts the
	// input or follows a special token, and detokenizing drops one leading
	// space from the first piece.
	AddSpacePrefix bool
	// Name and Arch are general.name and general.architecture. llama.cpp
	// derives a few token attributes from them (Phi-3 strips whitespace
	// after special tokens); nothing else reads them.
	Name, Arch string
}

// Defaults returns the Vocab settings llama.cpp assumes for a tokenizer model
// and pre-tokenizer before it reads the optional GGUF keys: the BOS, EOS,
// UNK and PAD ids and the AddBOS, AddEOS and AddSpacePrefix flags. The
// returned Vocab has Model and Pre set and no tokens. A loader starts from it,
// overrides what the file says, and disables default ids that fall outside
// the vocabulary (llama_vocab::impl::load).
func Defaults(model, pre string) (Vocab, error) {
	v := Vocab{Model: model, Pre: pre, BOS: NoToken, EOS: NoToken, UNK: NoToken, PAD: NoToken}
	switch model {
	case ModelSPM:
		v.BOS, v.EOS, v.UNK = 1, 2, 0
		v.AddBOS, v.AddSpacePrefix = true, true
	case ModelBPE:
		v.BOS, v.EOS = 11, 11
		p, ok := preTokenizers[pre]
		if !ok {
			return v, fmt.Errorf("%w pre-tokenizer %q", ErrUnsupported, pre)
		}
		v.AddBOS = p.addBOS
		if p.noBOS {
			v.BOS = NoToken
		}
	default:
		return v, fmt.Errorf("%w tokenizer model %q", ErrUnsupported, model)
	}
	return v, nil
}
