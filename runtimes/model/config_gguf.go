package model

import (
	"fmt"

	"github.com/layerwise/parity/runtimes/gguf"
)

// ConfigFromGGUF reads the architecture configuration from GGUF metadata
// the way llama.cpp's llama_model::load_hparams does for the supported
// architectures: the same keys, the same defaults, the same required keys.
func ConfigFromGGUF(f *gguf.File) (*Config, error) {
	archName := f.Architecture()
	a, err := LookupArch(archName)
	if err != nil {
		return nil, err
	}
	k := func(suffix string) string { return archName + "." + suffix }
	c := &Config{Arch: a, RopeBase: 10000, RopeScale: 1}

	if c.NEmbd, err = requiredInt(f, k("embedding_length")); err != nil {
		return nil, err
	}
	if c.NLayer, err = requiredInt(f, k("block_count")); err != nil {
		return nil, err
	}
	if c.NHead, err = perLayerInt(f, k("attention.head_count"), true); err != nil {
		return nil, err
	}
	c.NHeadKV = c.NHead
	if v, err := perLayerInt(f, k("attention.head_count_kv"), false); err != nil {
		return nil, err
	} else if v > 0 {
		c.NHeadKV = v
	}
	if c.NFF, err = perLayerInt(f, k("feed_forward_length"), true); err != nil {
		return nil, err
	}
	if c.NHead > 0 {
		c.HeadDim = c.NEmbd / c.NHead
	}
	c.HeadDimV = c.HeadDim
	if v, ok := f.GetUint(k("attention.key_length")); ok {
		c.HeadDim = int(v)
	}
	if v, ok := f.GetUint(k("attention.value_length")); ok {
		c.HeadDimV = int(v)
	}
	c.RopeDim = c.HeadDim
	if v, ok := f.GetUint(k("rope.dimension_count")); ok {
		c.RopeDim = int(v)
	}
	if v, ok := f.GetUint(k("context_length")); ok {
		c.NCtx = int(v)
	}
	if v, ok := f.GetFloat(k("rope.freq_base")); ok {
		c.RopeBase = float32(v)
	}
	if typ, ok := f.GetString(k("rope.scaling.type")); ok && typ != "linear" && typ != "none" {
		return nil, fmt.Errorf("model: rope scaling %q is not supported (linear and none are)", typ)
	}
	factor, ok := f.GetFloat(k("rope.scaling.factor"))
	if !ok {
		factor, _ = f.GetFloat(k("rope.scale_linear"))
	}
	if factor != 0 {
		c.RopeScale = float32(1 / factor)
	}
	eps, ok := f.GetFloat(k("attention.layer_norm_rms_epsilon"))
	if !ok {
		return nil, fmt.Errorf("model: key %s.attention.layer_norm_rms_epsilon not found", archName)
	}
	c.RMSEps = float32(eps)

	c.NVocab = vocabSize(f, archName)
	_, hasOutput := f.Tensor("output.weight")
	c.TiedEmbeddings = !hasOutput

	if v, ok := f.GetUint(k("expert_count")); ok {
		c.NExpert = int(v)
	}
	if v, ok := f.GetUint(k("expert_used_count")); ok {
		c.NExpertUsed = int(v)
	}
	return c, nil
}

func requiredInt(f *gguf.File, key string) (int, error) {
	v, ok := f.GetUint(key)
	if !ok {
		return 0, fmt.Errorf("model: key %s not found or not an unsigned integer", key)
	}
	if v > 1<<31 {
		return 0, fmt.Errorf("model: key %s = %d is out of range", key, v)
	}
	return int(v), nil
}

// perLayerInt reads a key that llama.cpp accepts either as a scalar or as
// a per-layer array (get_key_or_arr). The engines need one value for every
// layer, so an array whose entries differ is refused with a clear message.
func perLayerInt(f *gguf.File, key string, required bool) (int, error) {
	val, ok := f.Lookup(key)
	if !ok {
		if required {
			return 0, fmt.Errorf("model: key %s not found", key)
		}
		return 0, nil
	}
	if v, ok := val.Uint(); ok {
		if v > 1<<31 {
			return 0, fmt.Errorf("model: key %s = %d is out of range", key, v)
		}
		return int(v), nil
	}
	vs, ok := val.Uints()
	if !ok || len(vs) == 0 {
		return 0, fmt.Errorf("model: key %s is neither an integer nor an integer array", key)
	}
	for _, v := range vs[1:] {
		if v != vs[0] {
			return 0, fmt.Errorf("model: key %s varies per layer (%v); per-layer shapes are not supported", key, vs)
		}
	}
	if vs[0] > 1<<31 {
		return 0, fmt.Errorf("model: key %s = %d is out of range", key, vs[0])
	}
	return int(vs[0]), nil
}

// vocabSize follows llama.cpp: {arch}.vocab_size when present, else the
// number of tokens in the tokenizer, else the rows of token_embd.
func vocabSize(f *gguf.File, arch string) int {
	if v, ok := f.GetUint(arch + ".vocab_size"); ok && v < 1<<31 {
		return int(v)
	}
	if v, ok := f.Lookup("tokenizer.ggml.tokens"); ok && v.Len() > 0 {
		return v.Len()
	}
	if t, ok := f.Tensor("token_embd.weight"); ok && len(t.Dims) == 2 {
		return int(t.Dims[1])
	}
	return 0
}
