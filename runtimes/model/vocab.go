package model

import (
	"fmt"

	"github.com/layerwise/parity/runtimes/gguf"
	"github.com/layerwise/parity/runtimes/tokenizer"
)

// GGUF tokenizer keys, as llama.cpp's llama-arch.cpp names them.
const (
	keyTokModel    = "tokenizer.ggml.model"
	keyTokPre      = "tokenizer.ggml.pre"
	keyTokTokens   = "tokenizer.ggml.tokens"
	keyTokScores   = "tokenizer.ggml.scores"
	keyTokTypes    = "tokenizer.ggml.token_type"
	keyTokMerges   = "tokenizer.ggml.merges"
	keyTokAddBOS   = "tokenizer.ggml.add_bos_token"
	keyTokAddEOS   = "tokenizer.ggml.add_eos_token"
	keyTokAddSpace = "tokenizer.ggml.add_space_prefix"
)

// specialIDKeys lists the special-token id keys in llama.cpp's reading order
// (later keys override earlier ones: the deprecated prefix/suffix/middle keys
// come last) and where each lands in tokenizer.Vocab: BOS, EOS, UNK, PAD are
// fields, the rest go to SpecialIDs under the given name.
var specialIDKeys = []struct{ key, name string }{
	{"tokenizer.ggml.bos_token_id", "bos"},
	{"tokenizer.ggml.eos_token_id", "eos"},
	{"tokenizer.ggml.eot_token_id", "eot"},
	{"tokenizer.ggml.eom_token_id", "eom"},
	{"tokenizer.ggml.unknown_token_id", "unk"},
	{"tokenizer.ggml.seperator_token_id", "sep"}, // sic
	{"tokenizer.ggml.padding_token_id", "pad"},
	{"tokenizer.ggml.mask_token_id", "mask"},
	{"tokenizer.ggml.fim_pre_token_id", "fim_pre"},
	{"tokenizer.ggml.fim_suf_token_id", "fim_suf"},
	{"tokenizer.ggml.fim_mid_token_id", "fim_mid"},
	{"tokenizer.ggml.fim_pad_token_id", "fim_pad"},
	{"tokenizer.ggml.fim_rep_token_id", "fim_rep"},
	{"tokenizer.ggml.fim_sep_token_id", "fim_sep"},
	{"tokenizer.ggml.prefix_token_id", "fim_pre"},
	{"tokenizer.ggml.suffix_token_id", "fim_suf"},
	{"tokenizer.ggml.middle_token_id", "fim_mid"},
}

// VocabFromGGUF reads the tokenizer vocabulary from GGUF metadata the way
// llama.cpp's llama_vocab::impl::load does:
//
//   - tokenizer.ggml.model and .tokens are required, and so are .merges for
//     byte-level BPE; .pre selects the pre-tokenizer ("default" if absent);
//   - .scores (float32 or int32 array) and .token_type (int32 array) are
//     optional but, when present, must cover every token;
//   - absent flags and ids take llama.cpp's defaults for the model and
//     pre-tokenizer (tokenizer.Defaults): SentencePiece adds BOS (id 1), EOS
//     is 2, UNK is 0, and a space prefix; BPE defaults BOS and EOS to 11;
//   - a default id outside the vocabulary is dropped, and an id key whose
//     value is outside the vocabulary (such as 0xFFFFFFFF for "none") leaves
//     the default in place.
//
// Keys have to carry llama.cpp's types (string, uint32 ids, bool flags);
// llama.cpp refuses a file whose key has another type, and so does this.
// The result is not validated beyond that; tokenizer.New does the rest.
func VocabFromGGUF(f *gguf.File) (*tokenizer.Vocab, error) {
	model, err := vocabString(f, keyTokModel, true)
	if err != nil {
		return nil, err
	}
	pre, err := vocabString(f, keyTokPre, false)
	if err != nil {
		return nil, err
	}
	v, err := tokenizer.Defaults(model, pre)
	if err != nil {
		return nil, fmt.Errorf("model: vocabulary: %w", err)
	}
	if v.Tokens, err = vocabStrings(f, keyTokTokens, true); err != nil {
		return nil, err
	}
	n := len(v.Tokens)
	if model == tokenizer.ModelBPE {
		if v.Merges, err = vocabStrings(f, keyTokMerges, true); err != nil {
			return nil, err
		}
	}
	if v.Scores, err = vocabScores(f, n); err != nil {
		return nil, err
	}
	if val, ok := f.Lookup(keyTokTypes); ok {
		if elem, isArr := val.ArrayType(); !isArr || elem != gguf.TypeInt32 {
			return nil, fmt.Errorf("model: vocabulary: %s must be an int32 array, not %s", keyTokTypes, describe(val))
		}
		v.Types, _ = val.Int32s()
		if len(v.Types) < n {
			return nil, fmt.Errorf("model: vocabulary: %d token types for %d tokens", len(v.Types), n)
		}
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{keyTokAddSpace, &v.AddSpacePrefix}, {keyTokAddBOS, &v.AddBOS}, {keyTokAddEOS, &v.AddEOS}} {
		if err := vocabBool(f, b.key, b.dst); err != nil {
			return nil, err
		}
	}
	if err := vocabSpecialIDs(f, &v); err != nil {
		return nil, err
	}
	v.Name, _ = f.GetString("general.name")
	v.Arch = f.Architecture()
	return &v, nil
}

// vocabSpecialIDs applies llama.cpp's special-id rules to v's defaults.
func vocabSpecialIDs(f *gguf.File, v *tokenizer.Vocab) error {
	n := uint64(len(v.Tokens))
	fields := map[string]*int32{"bos": &v.BOS, "eos": &v.EOS, "unk": &v.UNK, "pad": &v.PAD}
	ids := map[string]int32{}
	get := func(name string) int32 {
		if p, ok := fields[name]; ok {
			return *p
		}
		if id, ok := ids[name]; ok {
			return id
		}
		return tokenizer.NoToken
	}
	set := func(name string, id int32) {
		if p, ok := fields[name]; ok {
			*p = id
		} else if id == tokenizer.NoToken {
			delete(ids, name)
		} else {
			ids[name] = id
		}
	}
	for _, k := range specialIDKeys {
		if id := get(k.name); id >= 0 && uint64(id) >= n {
			set(k.name, tokenizer.NoToken)
		}
		val, ok := f.Lookup(k.key)
		if !ok {
			continue
		}
		if val.Type() != gguf.TypeUint32 {
			return fmt.Errorf("model: vocabulary: %s must be uint32, not %s", k.key, describe(val))
		}
		if id, _ := val.Uint(); id < n {
			set(k.name, int32(id))
		}
	}
	if len(ids) > 0 {
		v.SpecialIDs = ids
	}
	return nil
}

func vocabString(f *gguf.File, key string, required bool) (string, error) {
	val, ok := f.Lookup(key)
	if !ok {
		if required {
			return "", fmt.Errorf("model: vocabulary: missing %s", key)
		}
		return "", nil
	}
	s, ok := val.Str()
	if !ok {
		return "", fmt.Errorf("model: vocabulary: %s must be a string, not %s", key, describe(val))
	}
	return s, nil
}

func vocabStrings(f *gguf.File, key string, required bool) ([]string, error) {
	val, ok := f.Lookup(key)
	if !ok {
		if required {
			return nil, fmt.Errorf("model: vocabulary: missing %s", key)
		}
		return nil, nil
	}
	s, ok := val.Strings()
	if !ok {
		return nil, fmt.Errorf("model: vocabulary: %s must be a string array, not %s", key, describe(val))
	}
	return s, nil
}

func vocabBool(f *gguf.File, key string, dst *bool) error {
	val, ok := f.Lookup(key)
	if !ok {
		return nil
	}
	b, ok := val.Bool()
	if !ok {
		return fmt.Errorf("model: vocabulary: %s must be a bool, not %s", key, describe(val))
	}
	*dst = b
	return nil
}

// vocabScores reads tokenizer.ggml.scores, which llama.cpp accepts as float32
// or int32 array.
func vocabScores(f *gguf.File, n int) ([]float32, error) {
	val, ok := f.Lookup(keyTokScores)
	if !ok {
		return nil, nil
	}
	var scores []float32
	switch elem, isArr := val.ArrayType(); {
	case isArr && elem == gguf.TypeFloat32:
		scores, _ = val.Float32s()
	case isArr && elem == gguf.TypeInt32:
		ints, _ := val.Int32s()
		scores = make([]float32, len(ints))
		for i, x := range ints {
			scores[i] = float32(x)
		}
	default:
		return nil, fmt.Errorf("model: vocabulary: %s must be a float32 or int32 array, not %s", keyTokScores, describe(val))
	}
	if len(scores) < n {
		return nil, fmt.Errorf("model: vocabulary: %d scores for %d tokens", len(scores), n)
	}
	return scores, nil
}

// describe names a value's type for error messages ("uint64", "array of int8").
func describe(v gguf.Value) string {
	if elem, ok := v.ArrayType(); ok {
		return "array of " + elem.String()
	}
	return v.Type().String()
}
