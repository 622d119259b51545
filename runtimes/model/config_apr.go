package model

import (
	"fmt"
	"strings"

	"github.com/layerwise/parity/runtimes/apr"
)

// ConfigFromAPR reads the architecture configuration from APR metadata: the
// typed fields aprender writes (hidden_size, num_layers, ...; the apr
// package already folds realizar's aliases into them), the custom key
// tied_embeddings, and the tensors themselves where the metadata is silent.
//
// Where a key is missing it falls back the way realizar's
// parse_apr_metadata_config does, since realizar is what runs APR files:
// architecture from "architecture", else "model_type" (lowercased, "auto"
// ignored); num_kv_heads = num_heads; head_dim = hidden_size / num_heads;
// rope_theta 1e6 for qwen2/qwen3 and 1e4 otherwise; rms_norm_eps 1e-6;
// vocab_size from the embedding's rows. realizar's defaults for the four
// sizes every shape depends on (hidden 64, 1 layer, 4 heads, 4·hidden) would
// only turn into a shape error later, so those keys are required instead.
//
// The RoPE pairing comes from the architecture (LookupArch), not from the
// file's rope_type: the engines implement each architecture the way
// llama.cpp does, and llama.cpp derives the rope type from the architecture
// alone. aprender writes rope_type from the same table (0 for llama, 2 for
// qwen2/qwen3), so for its files the two agree; `parity inspect` reports a
// file where they do not. APR has no keys for RoPE scaling, a partial
// rotary dimension or a separate value head size, so RopeScale is 1,
// RopeDim = HeadDim and HeadDimV = HeadDim (runtimes/convert refuses GGUF
// models that need anything else).
func ConfigFromAPR(f *apr.File) (*Config, error) {
	md := &f.Metadata
	name := ""
	if md.Architecture != nil {
		name = strings.ToLower(*md.Architecture)
	}
	if name == "" || name == "auto" {
		name = strings.ToLower(md.ModelType)
	}
	a, err := LookupArch(name)
	if err != nil {
		return nil, err
	}
	c := &Config{Arch: a, RopeScale: 1, RMSEps: 1e-6, RopeBase: 10000}
	if a.Rope == RopeNeox {
		c.RopeBase = 1e6
	}
	for _, req := range []struct {
		key string
		src *int
		dst *int
	}{
		{"hidden_size", md.HiddenSize, &c.NEmbd},
		{"num_layers", md.NumLayers, &c.NLayer},
		{"num_heads", md.NumHeads, &c.NHead},
		{"intermediate_size", md.IntermediateSize, &c.NFF},
	} {
		if req.src == nil {
			return nil, fmt.Errorf("model: APR metadata key %s not found", req.key)
		}
		*req.dst = *req.src
	}
	c.NHeadKV = intOr(md.NumKVHeads, c.NHead)
	if c.NHead > 0 {
		c.HeadDim = c.NEmbd / c.NHead
	}
	c.HeadDim = intOr(md.HeadDim, c.HeadDim)
	c.HeadDimV, c.RopeDim = c.HeadDim, c.HeadDim
	c.NCtx = intOr(md.MaxPositionEmbeddings, 0)
	if md.RopeTheta != nil {
		c.RopeBase = *md.RopeTheta
	}
	if md.RMSNormEps != nil {
		c.RMSEps = *md.RMSNormEps
	}
	c.NVocab = intOr(md.VocabSize, 0)
	if c.NVocab == 0 {
		if t, ok := aprLookup(f, TokenEmbd); ok && len(t.Shape) == 2 && t.Shape[0] < 1<<31 {
			c.NVocab = int(t.Shape[0])
		}
	}
	var tied bool
	if _, err := md.Custom("tied_embeddings", &tied); err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	_, hasOutput := aprLookup(f, Output)
	c.TiedEmbeddings = tied || !hasOutput
	c.NExpert = intOr(md.NumExperts, 0)
	c.NExpertUsed = intOr(md.NumExpertsPerTok, 0)
	return c, nil
}

func intOr(p *int, def int) int {
	if p == nil {
		return def
	}
	return *p
}

// aprLookup finds a global role's tensor under its HF name, then its GGUF
// name (realizar's get_hf_or_gguf order).
func aprLookup(f *apr.File, r Role) (*apr.TensorInfo, bool) {
	if t, ok := f.Tensor(r.HFName(-1)); ok {
		return t, true
	}
	return f.Tensor(r.GGUFName(-1))
}
