package apr

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Metadata is the JSON metadata object: the typed fields of aprender's
// AprV2Metadata, in its serialization order, plus the custom keys.
//
// A nil pointer is an unset optional field (Rust None). Unset fields are
// omitted when writing, except License, DataSource and DataLicense, which
// aprender's provenance rule writes as null. When reading, a null value and
// an absent key are the same thing.
//
// Reading also accepts realizar's aliases for eight dimension keys (see
// aliases); an alias fills its typed field when the canonical key is absent
// and is dropped from Raw either way, so a file read here and written back
// carries exactly one spelling per dimension.
type Metadata struct {
	ModelType   string  // model_type: always written, "" allowed; GGUF imports store the GGUF arch
	Name        *string // name
	Description *string // description
	Author      *string // author

	License     *string // license (SPDX); written as null when unset
	DataSource  *string // data_source; written as null when unset
	DataLicense *string // data_license; written as null when unset

	Version        *string // version ("1.0.0" for GGUF imports)
	Source         *string // source URI
	OriginalFormat *string // original_format ("gguf", "safetensors")
	CreatedAt      *string // created_at

	TotalSize  uint64 // total_size: always written
	ParamCount uint64 // param_count: always written

	Quantization  *Quantization  // quantization
	Sharding      *Sharding      // sharding
	ChatTemplate  *string        // chat_template (Jinja2)
	ChatFormat    *string        // chat_format ("chatml", ...)
	SpecialTokens *SpecialTokens // special_tokens

	Architecture   *string // architecture: family, "llama", "qwen2", ...
	HFArchitecture *string // hf_architecture: "Qwen2ForCausalLM"
	HFModelType    *string // hf_model_type: "qwen2"

	HiddenSize            *int     // hidden_size
	NumLayers             *int     // num_layers
	NumHeads              *int     // num_heads
	NumKVHeads            *int     // num_kv_heads
	VocabSize             *int     // vocab_size
	IntermediateSize      *int     // intermediate_size
	MaxPositionEmbeddings *int     // max_position_embeddings
	RopeTheta             *float32 // rope_theta
	RopeType              *uint32  // rope_type: 0 = NORM (adjacent pairs), 2 = NEOX (split halves)
	RMSNormEps            *float32 // rms_norm_eps
	HeadDim               *int     // head_dim
	NumExperts            *int     // num_experts
	NumExpertsPerTok      *int     // num_experts_per_tok
	MoEIntermediateSize   *int     // moe_intermediate_size

	// Raw holds every other key with its JSON value: the tokenizer
	// (tokenizer.vocabulary, ..., see Tokenizer), tied_embeddings,
	// tensor_shapes, the dotted model.* duplicates, and anything else. The
	// writer emits them after the typed fields, sorted by key, each value
	// re-spelled the way serde_json would. Keys naming a typed field or an
	// alias are refused by the writer. nil when there are none.
	Raw map[string]json.RawMessage
}

// Quantization is the quantization object. BlockSize is written as null when
// unset.
type Quantization struct {
	QuantType string // quant_type: "int8", "int4", "q4_k", ...
	Bits      uint8  // bits per weight
	BlockSize *int   // block_size
	Symmetric bool   // symmetric
}

// Sharding describes one file of a multi-file model. Pattern is written as
// null when unset.
type Sharding struct {
	ShardCount int     // shard_count
	ShardIndex int     // shard_index, 0-based
	TotalSize  uint64  // total_size across shards
	Pattern    *string // pattern, e.g. "model-{:05d}-of-{:05d}.apr"
}

// SpecialTokens holds the chat-template special tokens as strings. Every
// field is written, null when unset.
type SpecialTokens struct {
	BOSToken     *string // bos_token
	EOSToken     *string // eos_token
	UNKToken     *string // unk_token
	PADToken     *string // pad_token
	IMStartToken *string // im_start_token
	IMEndToken   *string // im_end_token
}

// field maps one JSON key to a struct field. ptr returns a pointer to the
// field; its type selects the codec (see appendField, decodeField).
type field[T any] struct {
	key      string
	nullable bool // write null when unset rather than omitting the key
	ptr      func(*T) any
}

var metadataFields = []field[Metadata]{
	{"model_type", false, func(m *Metadata) any { return &m.ModelType }},
	{"name", false, func(m *Metadata) any { return &m.Name }},
	{"description", false, func(m *Metadata) any { return &m.Description }},
	{"author", false, func(m *Metadata) any { return &m.Author }},
	{"license", true, func(m *Metadata) any { return &m.License }},
	{"data_source", true, func(m *Metadata) any { return &m.DataSource }},
	{"data_license", true, func(m *Metadata) any { return &m.DataLicense }},
	{"version", false, func(m *Metadata) any { return &m.Version }},
	{"source", false, func(m *Metadata) any { return &m.Source }},
	{"original_format", false, func(m *Metadata) any { return &m.OriginalFormat }},
	{"created_at", false, func(m *Metadata) any { return &m.CreatedAt }},
	{"total_size", false, func(m *Metadata) any { return &m.TotalSize }},
	{"param_count", false, func(m *Metadata) any { return &m.ParamCount }},
	{"quantization", false, func(m *Metadata) any { return &m.Quantization }},
	{"sharding", false, func(m *Metadata) any { return &m.Sharding }},
	{"chat_template", false, func(m *Metadata) any { return &m.ChatTemplate }},
	{"chat_format", false, func(m *Metadata) any { return &m.ChatFormat }},
	{"special_tokens", false, func(m *Metadata) any { return &m.SpecialTokens }},
	{"architecture", false, func(m *Metadata) any { return &m.Architecture }},
	{"hf_architecture", false, func(m *Metadata) any { return &m.HFArchitecture }},
	{"hf_model_type", false, func(m *Metadata) any { return &m.HFModelType }},
	{"hidden_size", false, func(m *Metadata) any { return &m.HiddenSize }},
	{"num_layers", false, func(m *Metadata) any { return &m.NumLayers }},
	{"num_heads", false, func(m *Metadata) any { return &m.NumHeads }},
	{"num_kv_heads", false, func(m *Metadata) any { return &m.NumKVHeads }},
	{"vocab_size", false, func(m *Metadata) any { return &m.VocabSize }},
	{"intermediate_size", false, func(m *Metadata) any { return &m.IntermediateSize }},
	{"max_position_embeddings", false, func(m *Metadata) any { return &m.MaxPositionEmbeddings }},
	{"rope_theta", false, func(m *Metadata) any { return &m.RopeTheta }},
	{"rope_type", false, func(m *Metadata) any { return &m.RopeType }},
	{"rms_norm_eps", false, func(m *Metadata) any { return &m.RMSNormEps }},
	{"head_dim", false, func(m *Metadata) any { return &m.HeadDim }},
	{"num_experts", false, func(m *Metadata) any { return &m.NumExperts }},
	{"num_experts_per_tok", false, func(m *Metadata) any { return &m.NumExpertsPerTok }},
	{"moe_intermediate_size", false, func(m *Metadata) any { return &m.MoEIntermediateSize }},
}

var quantizationFields = []field[Quantization]{
	{"quant_type", false, func(q *Quantization) any { return &q.QuantType }},
	{"bits", false, func(q *Quantization) any { return &q.Bits }},
	{"block_size", true, func(q *Quantization) any { return &q.BlockSize }},
	{"symmetric", false, func(q *Quantization) any { return &q.Symmetric }},
}

var shardingFields = []field[Sharding]{
	{"shard_count", false, func(s *Sharding) any { return &s.ShardCount }},
	{"shard_index", false, func(s *Sharding) any { return &s.ShardIndex }},
	{"total_size", false, func(s *Sharding) any { return &s.TotalSize }},
	{"pattern", true, func(s *Sharding) any { return &s.Pattern }},
}

var specialTokenFields = []field[SpecialTokens]{
	{"bos_token", true, func(s *SpecialTokens) any { return &s.BOSToken }},
	{"eos_token", true, func(s *SpecialTokens) any { return &s.EOSToken }},
	{"unk_token", true, func(s *SpecialTokens) any { return &s.UNKToken }},
	{"pad_token", true, func(s *SpecialTokens) any { return &s.PADToken }},
	{"im_start_token", true, func(s *SpecialTokens) any { return &s.IMStartToken }},
	{"im_end_token", true, func(s *SpecialTokens) any { return &s.IMEndToken }},
}

// aliases lists, per canonical key, the spellings realizar's AprMetadata
// also accepts, in the order aprender's canonicalize_hf_aliases tries them.
var aliases = map[string][]string{
	"hidden_size":             {"hidden_dim", "d_model", "n_embd"},
	"num_layers":              {"num_hidden_layers", "n_layers", "n_layer"},
	"num_heads":               {"num_attention_heads", "n_heads", "n_head"},
	"num_kv_heads":            {"num_key_value_heads", "n_kv_heads"},
	"vocab_size":              {"n_vocab"},
	"intermediate_size":       {"ffn_dim", "intermediate_dim", "n_inner"},
	"max_position_embeddings": {"max_seq_len", "context_length", "n_ctx"},
	"rms_norm_eps":            {"layer_norm_eps", "norm_eps"},
}

// reservedKeys are the keys Raw may not hold: typed fields and aliases.
var reservedKeys = func() map[string]string {
	r := map[string]string{}
	for _, f := range metadataFields {
		r[f.key] = f.key
	}
	for canon, al := range aliases {
		for _, a := range al {
			r[a] = canon
		}
	}
	return r
}()

// MarshalJSON encodes m the way aprender's writer does (see the package
// comment): typed fields in order, then Raw sorted by key.
func (m Metadata) MarshalJSON() ([]byte, error) {
	b, err := appendObject(nil, &m, metadataFields, true)
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(m.Raw)) {
		if canon, ok := reservedKeys[k]; ok {
			return nil, fmt.Errorf("apr: metadata custom key %q would shadow typed field %q", k, canon)
		}
		v, err := canonicalJSON(m.Raw[k])
		if err != nil {
			return nil, fmt.Errorf("apr: metadata custom key %q: %w", k, err)
		}
		b = append(b, ',') // model_type is always there before
		if b, err = appendString(b, k); err != nil {
			return nil, err
		}
		b = append(b, ':')
		b = append(b, v...)
	}
	return append(b, '}'), nil
}

// appendObject appends '{' and the set fields of v; open leaves the object
// unterminated so custom keys can follow.
func appendObject[T any](b []byte, v *T, fields []field[T], open bool) ([]byte, error) {
	b = append(b, '{')
	first := true
	for _, f := range fields {
		start := len(b)
		if !first {
			b = append(b, ',')
		}
		b, _ = appendString(b, f.key) // keys are ASCII literals
		b = append(b, ':')
		var ok bool
		var err error
		if b, ok, err = appendField(b, f.ptr(v), f.nullable); err != nil {
			return nil, fmt.Errorf("apr: metadata key %q: %w", f.key, err)
		}
		if !ok {
			b = b[:start]
			continue
		}
		first = false
	}
	if open {
		return b, nil
	}
	return append(b, '}'), nil
}

// appendField appends the value p points to; ok is false when the field is
// unset and not nullable, so the key must be dropped.
func appendField(b []byte, p any, nullable bool) (_ []byte, ok bool, err error) {
	isNil := false
	switch p := p.(type) {
	case *string:
		b, err = appendString(b, *p)
	case *uint64:
		b = strconv.AppendUint(b, *p, 10)
	case *int:
		if *p < 0 {
			return b, false, fmt.Errorf("negative value %d", *p)
		}
		b = strconv.AppendInt(b, int64(*p), 10)
	case *uint8:
		b = strconv.AppendUint(b, uint64(*p), 10)
	case *bool:
		b = strconv.AppendBool(b, *p)
	case **string:
		if isNil = *p == nil; !isNil {
			b, err = appendString(b, **p)
		}
	case **int:
		if isNil = *p == nil; !isNil {
			return appendField(b, *p, false)
		}
	case **uint32:
		if isNil = *p == nil; !isNil {
			b = strconv.AppendUint(b, uint64(**p), 10)
		}
	case **float32:
		if isNil = *p == nil; !isNil {
			b, err = appendF32(b, **p)
		}
	case **Quantization:
		if isNil = *p == nil; !isNil {
			b, err = appendObject(b, *p, quantizationFields, false)
		}
	case **Sharding:
		if isNil = *p == nil; !isNil {
			b, err = appendObject(b, *p, shardingFields, false)
		}
	case **SpecialTokens:
		if isNil = *p == nil; !isNil {
			b, err = appendObject(b, *p, specialTokenFields, false)
		}
	default:
		return b, false, fmt.Errorf("no codec for %T", p)
	}
	if isNil {
		if !nullable {
			return b, false, nil
		}
		b = append(b, "null"...)
	}
	return b, true, err
}

// UnmarshalJSON decodes a metadata object. It accepts nulls for every field,
// the aliases, and unknown keys (kept in Raw); it rejects input that is not
// a UTF-8 JSON object and typed fields of the wrong JSON type or range.
func (m *Metadata) UnmarshalJSON(data []byte) error {
	if !utf8.Valid(data) {
		return errors.New("apr: metadata is not valid UTF-8")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		return fmt.Errorf("apr: metadata is not a JSON object: %w", err)
	}
	if obj == nil {
		return errors.New("apr: metadata is not a JSON object: null")
	}
	*m = Metadata{}
	if err := decodeObject(obj, m, metadataFields, ""); err != nil {
		return err
	}
	for _, f := range metadataFields {
		al, ok := aliases[f.key]
		if !ok {
			continue
		}
		for _, a := range al {
			raw, present := obj[a]
			delete(obj, a)
			if !present || isNull(raw) || !fieldUnset(f.ptr(m)) {
				continue
			}
			if err := decodeField(raw, f.ptr(m)); err != nil {
				return fmt.Errorf("apr: metadata key %q (alias of %q): %w", a, f.key, err)
			}
		}
	}
	if len(obj) > 0 {
		m.Raw = obj
	}
	return nil
}

// decodeObject fills v's fields from obj, deleting the keys it consumed.
func decodeObject[T any](obj map[string]json.RawMessage, v *T, fields []field[T], path string) error {
	for _, f := range fields {
		raw, ok := obj[f.key]
		delete(obj, f.key)
		if !ok || isNull(raw) {
			continue
		}
		if err := decodeField(raw, f.ptr(v)); err != nil {
			return fmt.Errorf("apr: metadata key %q: %w", path+f.key, err)
		}
	}
	return nil
}

func decodeField(raw json.RawMessage, p any) error {
	switch p := p.(type) {
	case *string:
		return json.Unmarshal(raw, p)
	case **string:
		*p = new(string)
		return json.Unmarshal(raw, *p)
	case *bool:
		return json.Unmarshal(raw, p)
	case *uint64:
		u, err := parseUint(raw, math.MaxUint64)
		*p = u
		return err
	case *uint8:
		u, err := parseUint(raw, math.MaxUint8)
		*p = uint8(u)
		return err
	case *int:
		u, err := parseUint(raw, math.MaxInt)
		*p = int(u)
		return err
	case **int:
		*p = new(int)
		return decodeField(raw, *p)
	case **uint32:
		u, err := parseUint(raw, math.MaxUint32)
		*p = new(uint32(u))
		return err
	case **float32:
		f, err := parseF32(raw)
		*p = new(f)
		return err
	case **Quantization:
		*p = new(Quantization)
		return decodeNested(raw, *p, quantizationFields)
	case **Sharding:
		*p = new(Sharding)
		return decodeNested(raw, *p, shardingFields)
	case **SpecialTokens:
		*p = new(SpecialTokens)
		return decodeNested(raw, *p, specialTokenFields)
	}
	return fmt.Errorf("no codec for %T", p)
}

// decodeNested decodes a typed sub-object. Unknown keys inside it are
// dropped, as serde does.
func decodeNested[T any](raw json.RawMessage, v *T, fields []field[T]) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return err
	}
	return decodeObject(obj, v, fields, "")
}

// fieldUnset reports whether the optional field p points to is nil.
func fieldUnset(p any) bool {
	switch p := p.(type) {
	case **int:
		return *p == nil
	case **float32:
		return *p == nil
	}
	return false
}

func isNull(raw json.RawMessage) bool { return string(raw) == "null" }

// parseUint accepts a JSON integer literal in [0, max], as serde does for
// unsigned fields (no fraction, no exponent, no sign).
func parseUint(raw json.RawMessage, max uint64) (uint64, error) {
	u, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil || u > max {
		return 0, fmt.Errorf("want an integer in [0, %d], got %.40s", max, raw)
	}
	return u, nil
}

// parseF32 accepts any JSON number within f32 range, parsed as f64 then
// narrowed, like serde's f32 visitor.
func parseF32(raw json.RawMessage) (float32, error) {
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, fmt.Errorf("want a number, got %.40s", raw)
	}
	f, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.Abs(f) > math.MaxFloat32 {
		return 0, fmt.Errorf("number %.40s out of f32 range", raw)
	}
	return float32(f), nil
}

// Custom decodes the custom key's value into v with encoding/json. It
// reports false when the key is absent or null.
func (m *Metadata) Custom(key string, v any) (bool, error) {
	raw, ok := m.Raw[key]
	if !ok || isNull(raw) {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("apr: metadata key %q: %w", key, err)
	}
	return true, nil
}

// SetCustom stores v, encoded with encoding/json, under a custom key; a nil
// v deletes the key. Typed field names and their aliases are refused.
func (m *Metadata) SetCustom(key string, v any) error {
	if canon, ok := reservedKeys[key]; ok {
		return fmt.Errorf("apr: metadata custom key %q would shadow typed field %q", key, canon)
	}
	if v == nil {
		delete(m.Raw, key)
		return nil
	}
	raw, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return fmt.Errorf("apr: metadata key %q: %w", key, err)
		}
	}
	canon, err := canonicalJSON(raw)
	if err != nil {
		return fmt.Errorf("apr: metadata key %q: %w", key, err)
	}
	if m.Raw == nil {
		m.Raw = map[string]json.RawMessage{}
	}
	m.Raw[key] = canon
	return nil
}
