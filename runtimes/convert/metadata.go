package convert

import (
	"fmt"
	"strings"

	"github.com/layerwise/parity/runtimes/apr"
	"github.com/layerwise/parity/runtimes/gguf"
	"github.com/layerwise/parity/runtimes/model"
)

// metadata builds what write_apr_file_raw (aprender
// converter/write_model_config.rs) writes for a GGUF import: model_type and
// architecture = the GGUF architecture, a synthesised hf_architecture
// ("Qwen2ForCausalLM"), version "1.0.0", original_format "gguf", the
// typed dimensions, and the custom keys tensor_shapes, the dotted model.*
// duplicates, tied_embeddings and the tokenizer.
//
// The dimensions are the resolved configuration (model.ConfigFromGGUF),
// not the raw keys, so llama.cpp's defaults become explicit: a GGUF without
// rope.freq_base gets rope_theta 10000, which realizar would otherwise
// replace with its own per-architecture default. head_dim is always
// written. rope_type comes from the architecture, as aprender derives it.
//
// Three choices differ from aprender. name is general.name when the GGUF
// has one (aprender writes the architecture again), because llama.cpp's
// tokenizer keys a few special-token rules on the model name. created_at
// and source are left out so the output is a function of the input alone.
// The tokenizer carries every key llama.cpp's vocabulary loader reads, not
// just aprender's subset (model.TokenizerToAPR).
func metadata(src *gguf.File, cfg *model.Config, plans []TensorPlan) (*apr.Metadata, error) {
	arch := cfg.Arch.Name
	md := &apr.Metadata{
		ModelType:      arch,
		Name:           ptr(arch),
		Version:        ptr("1.0.0"),
		OriginalFormat: ptr("gguf"),
		Architecture:   ptr(arch),
		HFArchitecture: ptr(strings.ToUpper(arch[:1]) + arch[1:] + "ForCausalLM"),
		HFModelType:    ptr(arch),

		HiddenSize:       ptr(cfg.NEmbd),
		NumLayers:        ptr(cfg.NLayer),
		NumHeads:         ptr(cfg.NHead),
		NumKVHeads:       ptr(cfg.NHeadKV),
		VocabSize:        ptr(cfg.NVocab),
		IntermediateSize: ptr(cfg.NFF),
		RopeTheta:        ptr(cfg.RopeBase),
		RopeType:         ptr(uint32(cfg.Arch.Rope)),
		RMSNormEps:       ptr(cfg.RMSEps),
		HeadDim:          ptr(cfg.HeadDim),
	}
	if name, ok := src.GetString("general.name"); ok && name != "" {
		md.Name = &name
	}
	if cfg.NCtx > 0 {
		md.MaxPositionEmbeddings = ptr(cfg.NCtx)
	}
	if cfg.NExpert > 0 {
		md.NumExperts = ptr(cfg.NExpert)
		md.NumExpertsPerTok = ptr(cfg.NExpertUsed)
	}
	copied := 0
	shapes := map[string][]int64{}
	for _, p := range plans {
		n := uint64(1)
		for _, d := range p.Shape {
			n *= uint64(d)
		}
		md.ParamCount += n
		shapes[p.Name] = p.Shape
		if p.Verbatim {
			copied++
		}
	}
	md.Description = ptr(fmt.Sprintf("GGUF model imported by parity convert: %d tensors copied, %d converted", copied, len(plans)-copied))

	type kv struct {
		key string
		val any
	}
	custom := []kv{
		{"tensor_shapes", shapes},
		{"model.architecture", arch},
		{"model.hidden_size", cfg.NEmbd},
		{"model.num_layers", cfg.NLayer},
		{"model.num_heads", cfg.NHead},
		{"model.num_kv_heads", cfg.NHeadKV},
		{"model.vocab_size", cfg.NVocab},
		{"model.intermediate_size", cfg.NFF},
		{"model.rope_theta", float64(cfg.RopeBase)},
		{"model.rms_norm_eps", float64(cfg.RMSEps)},
		{"model.rope_type", int(cfg.Arch.Rope)},
	}
	if cfg.NCtx > 0 {
		custom = append(custom, kv{"model.max_position_embeddings", cfg.NCtx})
	}
	if cfg.TiedEmbeddings {
		custom = append(custom, kv{"tied_embeddings", true})
	}
	if tmpl, ok := src.GetString("tokenizer.chat_template"); ok {
		md.ChatTemplate = &tmpl
		custom = append(custom, kv{"tokenizer.chat_template", tmpl})
	}
	for _, c := range custom {
		if err := md.SetCustom(c.key, c.val); err != nil {
			return nil, fmt.Errorf("convert: %w", err)
		}
	}
	if err := model.TokenizerToAPR(src, md); err != nil {
		return nil, fmt.Errorf("convert: %w", err)
	}
	return md, nil
}

func ptr[T any](v T) *T { return &v }
