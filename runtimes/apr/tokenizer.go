package apr

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Tokenizer is the vocabulary `apr import` stores in custom metadata keys
// (aprender's write_model_config.rs). It is data only; runtimes/tokenizer
// does the tokenizing.
type Tokenizer struct {
	// Model is tokenizer.model, GGUF's tokenizer.ggml.model ("gpt2",
	// "llama"). The SafeTensors import path writes tokenizer.model_type
	// instead; reading falls back to it.
	Model       string
	PreType     string    // tokenizer.pre_type, GGUF's tokenizer.ggml.pre
	Vocabulary  []string  // tokenizer.vocabulary: position = token id
	Merges      []string  // tokenizer.merges: "left right" BPE merges, by rank
	Scores      []float32 // tokenizer.scores: SentencePiece piece scores
	TokenType   []int32   // tokenizer.token_type: GGUF token types
	BOSTokenID  *int      // tokenizer.bos_token_id
	EOSTokenID  *int      // tokenizer.eos_token_id
	PadTokenID  *int      // tokenizer.padding_token_id
	AddBOSToken *bool     // tokenizer.add_bos_token
}

// tokenizerKeys are the custom keys SetTokenizer owns: it deletes them all
// before writing the ones t sets.
var tokenizerKeys = []string{
	"tokenizer.model", "tokenizer.model_type", "tokenizer.pre_type",
	"tokenizer.vocabulary", "tokenizer.vocab_size", "tokenizer.merges",
	"tokenizer.scores", "tokenizer.token_type", "tokenizer.bos_token_id",
	"tokenizer.eos_token_id", "tokenizer.padding_token_id", "tokenizer.add_bos_token",
}

// Tokenizer decodes the tokenizer keys. It returns nil, nil when the file
// has no tokenizer.vocabulary.
func (m *Metadata) Tokenizer() (*Tokenizer, error) {
	t := new(Tokenizer)
	if ok, err := m.Custom("tokenizer.vocabulary", &t.Vocabulary); !ok || err != nil {
		return nil, err
	}
	for _, d := range []struct {
		key string
		v   any
	}{
		{"tokenizer.model", &t.Model},
		{"tokenizer.pre_type", &t.PreType},
		{"tokenizer.merges", &t.Merges},
		{"tokenizer.scores", &t.Scores},
		{"tokenizer.token_type", &t.TokenType},
		{"tokenizer.bos_token_id", &t.BOSTokenID},
		{"tokenizer.eos_token_id", &t.EOSTokenID},
		{"tokenizer.padding_token_id", &t.PadTokenID},
		{"tokenizer.add_bos_token", &t.AddBOSToken},
	} {
		if _, err := m.Custom(d.key, d.v); err != nil {
			return nil, err
		}
	}
	if t.Model == "" {
		if _, err := m.Custom("tokenizer.model_type", &t.Model); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// SetTokenizer replaces the tokenizer keys with t's (nil removes them).
// Empty strings and slices and nil pointers are left out; tokenizer.vocab_size
// is written as len(Vocabulary). Scores are spelled as serde writes f32, so
// they must be finite.
func (m *Metadata) SetTokenizer(t *Tokenizer) error {
	for _, k := range tokenizerKeys {
		delete(m.Raw, k)
	}
	if t == nil {
		return nil
	}
	if t.Model != "" {
		if err := m.SetCustom("tokenizer.model", t.Model); err != nil {
			return err
		}
	}
	if t.PreType != "" {
		if err := m.SetCustom("tokenizer.pre_type", t.PreType); err != nil {
			return err
		}
	}
	if err := m.SetCustom("tokenizer.vocabulary", nonNil(t.Vocabulary)); err != nil {
		return err
	}
	if err := m.SetCustom("tokenizer.vocab_size", len(t.Vocabulary)); err != nil {
		return err
	}
	if len(t.Merges) > 0 {
		if err := m.SetCustom("tokenizer.merges", t.Merges); err != nil {
			return err
		}
	}
	if len(t.Scores) > 0 {
		b := []byte{'['}
		for i, s := range t.Scores {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendF32(b, s); err != nil {
				return fmt.Errorf("apr: tokenizer score %d: %w", i, err)
			}
		}
		if err := m.SetCustom("tokenizer.scores", json.RawMessage(append(b, ']'))); err != nil {
			return err
		}
	}
	if len(t.TokenType) > 0 {
		if err := m.SetCustom("tokenizer.token_type", t.TokenType); err != nil {
			return err
		}
	}
	for _, p := range []struct {
		key string
		v   *int
	}{{"tokenizer.bos_token_id", t.BOSTokenID}, {"tokenizer.eos_token_id", t.EOSTokenID}, {"tokenizer.padding_token_id", t.PadTokenID}} {
		if p.v != nil {
			if err := m.SetCustom(p.key, json.RawMessage(strconv.Itoa(*p.v))); err != nil {
				return err
			}
		}
	}
	if t.AddBOSToken != nil {
		return m.SetCustom("tokenizer.add_bos_token", *t.AddBOSToken)
	}
	return nil
}

// nonNil makes an empty vocabulary encode as [] rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
