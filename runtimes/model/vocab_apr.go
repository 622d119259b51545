package model

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/layerwise/parity/runtimes/apr"
	"github.com/layerwise/parity/runtimes/gguf"
	"github.com/layerwise/parity/runtimes/tokenizer"
)

// The tokenizer in APR metadata. `apr import` stores the GGUF tokenizer in
// custom keys: the arrays as tokenizer.vocabulary, .merges, .scores and
// .token_type, the model and pre-tokenizer as tokenizer.model and
// .pre_type, and four scalars by dropping the "ggml." from their GGUF key
// (tokenizer.ggml.bos_token_id → tokenizer.bos_token_id; likewise
// eos_token_id, padding_token_id, add_bos_token). That is not enough to
// rebuild llama.cpp's tokenizer exactly — the UNK and EOT ids, add_eos_token
// and add_space_prefix change how text is encoded — so TokenizerToAPR
// extends the same rule to every scalar key VocabFromGGUF reads, and
// VocabFromAPR reads them back with llama.cpp's defaults for the ones a
// file lacks (aprender's files lack them all).

// aprTokenizerKey is the APR custom key holding GGUF tokenizer scalar key k.
func aprTokenizerKey(k string) string { return "tokenizer." + strings.TrimPrefix(k, "tokenizer.ggml.") }

// TokenizerToAPR copies the tokenizer of GGUF file f into APR metadata md
// under the keys VocabFromAPR reads (see above). A file without
// tokenizer.ggml.tokens has no tokenizer and md is left alone. The GGUF keys
// must carry the types llama.cpp demands (as for VocabFromGGUF), and every
// string must be UTF-8, which JSON metadata requires.
func TokenizerToAPR(f *gguf.File, md *apr.Metadata) error {
	tokens, err := vocabStrings(f, keyTokTokens, false)
	if err != nil || tokens == nil {
		return err
	}
	t := &apr.Tokenizer{Vocabulary: tokens}
	if t.Model, err = vocabString(f, keyTokModel, true); err != nil {
		return err
	}
	if t.PreType, err = vocabString(f, keyTokPre, false); err != nil {
		return err
	}
	if t.Merges, err = vocabStrings(f, keyTokMerges, false); err != nil {
		return err
	}
	if t.Scores, err = vocabScores(f, len(tokens)); err != nil {
		return err
	}
	if val, ok := f.Lookup(keyTokTypes); ok {
		if elem, isArr := val.ArrayType(); !isArr || elem != gguf.TypeInt32 {
			return fmt.Errorf("model: vocabulary: %s must be an int32 array, not %s", keyTokTypes, describe(val))
		}
		t.TokenType, _ = val.Int32s()
	}
	for _, list := range [][]string{{t.Model, t.PreType}, t.Vocabulary, t.Merges} {
		for i, s := range list {
			if !utf8.ValidString(s) {
				return fmt.Errorf("model: vocabulary: string %d (%q) is not UTF-8, which APR's JSON metadata cannot hold", i, s)
			}
		}
	}
	if err := md.SetTokenizer(t); err != nil {
		return err
	}
	for _, k := range []string{keyTokAddSpace, keyTokAddBOS, keyTokAddEOS} {
		if _, ok := f.Lookup(k); !ok {
			continue
		}
		var b bool
		if err := vocabBool(f, k, &b); err != nil {
			return err
		}
		if err := md.SetCustom(aprTokenizerKey(k), b); err != nil {
			return err
		}
	}
	for _, k := range specialIDKeys {
		val, ok := f.Lookup(k.key)
		if !ok {
			continue
		}
		if val.Type() != gguf.TypeUint32 {
			return fmt.Errorf("model: vocabulary: %s must be uint32, not %s", k.key, describe(val))
		}
		id, _ := val.Uint()
		if err := md.SetCustom(aprTokenizerKey(k.key), id); err != nil {
			return err
		}
	}
	return nil
}

// VocabFromAPR reads the tokenizer vocabulary from APR metadata with the
// rules VocabFromGGUF applies to GGUF metadata: tokenizer.model (or
// tokenizer.model_type) and tokenizer.vocabulary are required; scores and
// token types, when present, must cover every token; absent flags and ids
// take llama.cpp's defaults for the model and pre-tokenizer; an id outside
// the vocabulary (4294967295 for "none") leaves the default in place. A
// byte-level BPE file without tokenizer.merges has no merges (aprender
// leaves an empty list out). Name and Arch are the metadata's name and
// architecture, which aprender copies from the GGUF.
func VocabFromAPR(f *apr.File) (*tokenizer.Vocab, error) {
	md := &f.Metadata
	t, err := md.Tokenizer()
	if err != nil {
		return nil, fmt.Errorf("model: vocabulary: %w", err)
	}
	if t == nil {
		return nil, errors.New("model: vocabulary: missing tokenizer.vocabulary")
	}
	if t.Model == "" {
		return nil, errors.New("model: vocabulary: missing tokenizer.model")
	}
	v, err := tokenizer.Defaults(t.Model, t.PreType)
	if err != nil {
		return nil, fmt.Errorf("model: vocabulary: %w", err)
	}
	v.Tokens = t.Vocabulary
	n := len(v.Tokens)
	if t.Model == tokenizer.ModelBPE {
		v.Merges = t.Merges
	}
	if t.Scores != nil {
		if len(t.Scores) < n {
			return nil, fmt.Errorf("model: vocabulary: %d scores for %d tokens", len(t.Scores), n)
		}
		v.Scores = t.Scores
	}
	if t.TokenType != nil {
		if len(t.TokenType) < n {
			return nil, fmt.Errorf("model: vocabulary: %d token types for %d tokens", len(t.TokenType), n)
		}
		v.Types = t.TokenType
	}
	for _, b := range []struct {
		key string
		dst *bool
	}{{keyTokAddSpace, &v.AddSpacePrefix}, {keyTokAddBOS, &v.AddBOS}, {keyTokAddEOS, &v.AddEOS}} {
		if _, err := md.Custom(aprTokenizerKey(b.key), b.dst); err != nil {
			return nil, fmt.Errorf("model: vocabulary: %w", err)
		}
	}
	if err := aprSpecialIDs(md, &v); err != nil {
		return nil, err
	}
	if md.Name != nil {
		v.Name = *md.Name
	}
	if md.Architecture != nil {
		v.Arch = *md.Architecture
	}
	return &v, nil
}

// aprSpecialIDs applies llama.cpp's special-id rules (vocabSpecialIDs) to
// the ids stored under the APR spelling of each key.
func aprSpecialIDs(md *apr.Metadata, v *tokenizer.Vocab) error {
	n := int64(len(v.Tokens))
	fields := map[string]*int32{"bos": &v.BOS, "eos": &v.EOS, "unk": &v.UNK, "pad": &v.PAD}
	ids := map[string]int32{}
	for _, k := range specialIDKeys {
		p, isField := fields[k.name]
		// A default id outside the vocabulary is dropped before the key is
		// read, as llama.cpp does.
		if isField && *p >= 0 && int64(*p) >= n {
			*p = tokenizer.NoToken
		}
		var id int64
		ok, err := md.Custom(aprTokenizerKey(k.key), &id)
		if err != nil {
			return fmt.Errorf("model: vocabulary: %w", err)
		}
		if !ok || id < 0 || id >= n {
			continue
		}
		if isField {
			*p = int32(id)
		} else {
			ids[k.name] = int32(id)
		}
	}
	if len(ids) > 0 {
		v.SpecialIDs = ids
	}
	return nil
}
