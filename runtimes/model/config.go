package model

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// RopeType is how RoPE pairs the elements of a head (llama_rope_type).
type RopeType int

const (
	// RopeNorm rotates adjacent pairs (x[2i], x[2i+1]): ggml mode 0, llama.
	RopeNorm RopeType = 0
	// RopeNeox rotates (x[i], x[i+n_rot/2]): ggml mode 2, qwen2/qwen3.
	RopeNeox RopeType = 2
)

func (r RopeType) String() string {
	switch r {
	case RopeNorm:
		return "norm"
	case RopeNeox:
		return "neox"
	}
	return fmt.Sprintf("rope(%d)", int(r))
}

// Arch describes what an architecture's forward pass does beyond the
// shared llama skeleton (RMSNorm → attention → RMSNorm → SwiGLU FFN).
type Arch struct {
	Name    string   `json:"name"`
	Rope    RopeType `json:"rope_type"`
	QKVBias bool     `json:"qkv_bias"` // q/k/v projections have biases (qwen2)
	QKNorm  bool     `json:"qk_norm"`  // per-head RMSNorm of q and k before RoPE (qwen3)
}

// archs lists what the engines implement. Mistral GGUFs are written with
// architecture "llama"; "mistral" is accepted as the same graph.
var archs = map[string]Arch{
	"llama":   {Name: "llama", Rope: RopeNorm},
	"mistral": {Name: "mistral", Rope: RopeNorm},
	"qwen2":   {Name: "qwen2", Rope: RopeNeox, QKVBias: true},
	"qwen3":   {Name: "qwen3", Rope: RopeNeox, QKNorm: true},
}

// ErrUnsupportedArch is returned for an architecture the engines cannot run.
var ErrUnsupportedArch = errors.New("model: unsupported architecture")

// SupportedArchs lists the architecture names the engines run.
func SupportedArchs() []string {
	out := make([]string, 0, len(archs))
	for k := range archs {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// LookupArch returns the description of a supported architecture, or an
// error wrapping ErrUnsupportedArch that lists the supported ones.
func LookupArch(name string) (Arch, error) {
	a, ok := archs[name]
	if !ok {
		if name == "" {
			name = "(none)"
		}
		return Arch{}, fmt.Errorf("%w %q: parity runs %s", ErrUnsupportedArch, name, strings.Join(SupportedArchs(), ", "))
	}
	return a, nil
}

// Config is the architecture configuration of a model, in llama.cpp's
// hparams terms. It is read from GGUF metadata (FromGGUF) or from APR
// metadata, and both engines take every dimension from here.
type Config struct {
	Arch Arch `json:"arch"`

	NEmbd    int `json:"n_embd"` // hidden size d
	NLayer   int `json:"n_layer"`
	NHead    int `json:"n_head"`
	NHeadKV  int `json:"n_head_kv"`
	HeadDim  int `json:"head_dim"`   // key_length, else n_embd / n_head
	HeadDimV int `json:"head_dim_v"` // value_length, else n_embd / n_head
	NFF      int `json:"n_ff"`
	NVocab   int `json:"n_vocab"`
	NCtx     int `json:"n_ctx_train"` // context_length the model was trained with (0 = unknown)

	RopeBase  float32 `json:"rope_base"`  // rope.freq_base, default 10000
	RopeScale float32 `json:"rope_scale"` // freq_scale = 1/rope.scaling.factor (1 when absent)
	RopeDim   int     `json:"rope_dim"`   // rope.dimension_count, default HeadDim
	RMSEps    float32 `json:"rms_eps"`

	// TiedEmbeddings is set when the file has no output matrix and the
	// LM head reuses token_embd (llama.cpp's fallback).
	TiedEmbeddings bool `json:"tied_embeddings"`

	NExpert     int `json:"n_expert,omitempty"` // MoE (not run yet)
	NExpertUsed int `json:"n_expert_used,omitempty"`
}

// QDim is n_head · head_dim, the width of q and of the attention context.
func (c *Config) QDim() int { return c.NHead * c.HeadDim }

// KVDim is n_head_kv · head_dim, the width of k and v.
func (c *Config) KVDim() int { return c.NHeadKV * c.HeadDim }

// Validate checks the invariants both engines rely on, so a bad header
// becomes an error here rather than an index panic inside a kernel.
func (c *Config) Validate() error {
	type dim struct {
		name string
		v    int
	}
	for _, d := range []dim{{"n_embd", c.NEmbd}, {"n_layer", c.NLayer}, {"n_head", c.NHead},
		{"n_head_kv", c.NHeadKV}, {"head_dim", c.HeadDim}, {"n_ff", c.NFF}, {"n_vocab", c.NVocab}} {
		if d.v <= 0 {
			return fmt.Errorf("model: %s is %d, must be positive", d.name, d.v)
		}
		if d.v > 1<<24 {
			return fmt.Errorf("model: %s is %d, implausibly large", d.name, d.v)
		}
	}
	if c.NHead%c.NHeadKV != 0 {
		return fmt.Errorf("model: n_head %d is not a multiple of n_head_kv %d", c.NHead, c.NHeadKV)
	}
	if c.HeadDimV != c.HeadDim {
		return fmt.Errorf("model: head_dim_v %d differs from head_dim %d (not supported)", c.HeadDimV, c.HeadDim)
	}
	if c.RopeDim <= 0 || c.RopeDim > c.HeadDim || c.RopeDim%2 != 0 {
		return fmt.Errorf("model: rope dimension %d invalid for head_dim %d", c.RopeDim, c.HeadDim)
	}
	if !(c.RMSEps > 0) {
		return fmt.Errorf("model: rms eps %g must be positive", c.RMSEps)
	}
	if !(c.RopeBase > 0) || !(c.RopeScale > 0) {
		return fmt.Errorf("model: rope base %g / scale %g must be positive", c.RopeBase, c.RopeScale)
	}
	return nil
}

// MarshalText renders the rope type by name in JSON.
func (r RopeType) MarshalText() ([]byte, error) { return []byte(r.String()), nil }
