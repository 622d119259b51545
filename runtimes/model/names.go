package model

import (
	"fmt"
	"strconv"
	"strings"
)

// Role is the job a tensor does in the forward pass, independent of what a
// file format calls it.
type Role int

const (
	TokenEmbd Role = iota
	OutputNorm
	Output
	AttnNorm
	AttnQ
	AttnK
	AttnV
	AttnQBias
	AttnKBias
	AttnVBias
	AttnQNorm
	AttnKNorm
	AttnOutput
	FFNNorm
	FFNGate
	FFNUp
	FFNDown
	numRoles
)

// roleNames gives each role's GGUF name (llama.cpp's LLM_TENSOR_NAMES) and
// its Hugging Face name (what `apr import` writes for qwen2/qwen3). A %d
// stands for the layer index.
var roleNames = [numRoles]struct{ gguf, hf string }{
	TokenEmbd:  {"token_embd.weight", "model.embed_tokens.weight"},
	OutputNorm: {"output_norm.weight", "model.norm.weight"},
	Output:     {"output.weight", "lm_head.weight"},
	AttnNorm:   {"blk.%d.attn_norm.weight", "model.layers.%d.input_layernorm.weight"},
	AttnQ:      {"blk.%d.attn_q.weight", "model.layers.%d.self_attn.q_proj.weight"},
	AttnK:      {"blk.%d.attn_k.weight", "model.layers.%d.self_attn.k_proj.weight"},
	AttnV:      {"blk.%d.attn_v.weight", "model.layers.%d.self_attn.v_proj.weight"},
	AttnQBias:  {"blk.%d.attn_q.bias", "model.layers.%d.self_attn.q_proj.bias"},
	AttnKBias:  {"blk.%d.attn_k.bias", "model.layers.%d.self_attn.k_proj.bias"},
	AttnVBias:  {"blk.%d.attn_v.bias", "model.layers.%d.self_attn.v_proj.bias"},
	AttnQNorm:  {"blk.%d.attn_q_norm.weight", "model.layers.%d.self_attn.q_norm.weight"},
	AttnKNorm:  {"blk.%d.attn_k_norm.weight", "model.layers.%d.self_attn.k_norm.weight"},
	AttnOutput: {"blk.%d.attn_output.weight", "model.layers.%d.self_attn.o_proj.weight"},
	FFNNorm:    {"blk.%d.ffn_norm.weight", "model.layers.%d.post_attention_layernorm.weight"},
	FFNGate:    {"blk.%d.ffn_gate.weight", "model.layers.%d.mlp.gate_proj.weight"},
	FFNUp:      {"blk.%d.ffn_up.weight", "model.layers.%d.mlp.up_proj.weight"},
	FFNDown:    {"blk.%d.ffn_down.weight", "model.layers.%d.mlp.down_proj.weight"},
}

// PerLayer reports whether the role exists once per layer.
func (r Role) PerLayer() bool { return strings.Contains(roleNames[r].gguf, "%d") }

func (r Role) String() string {
	n := strings.TrimPrefix(roleNames[r].gguf, "blk.%d.")
	return strings.TrimSuffix(n, ".weight")
}

// GGUFName is the tensor's name in a GGUF file (layer ignored for global roles).
func (r Role) GGUFName(layer int) string { return format(roleNames[r].gguf, layer) }

// HFName is the tensor's Hugging Face name, as aprender writes it.
func (r Role) HFName(layer int) string { return format(roleNames[r].hf, layer) }

func format(pattern string, layer int) string {
	if strings.Contains(pattern, "%d") {
		return fmt.Sprintf(pattern, layer)
	}
	return pattern
}

// ParseName maps a tensor name in either convention to its role and layer.
// Layer is -1 for global roles.
func ParseName(name string) (role Role, layer int, ok bool) {
	for r := Role(0); r < numRoles; r++ {
		for _, pat := range []string{roleNames[r].gguf, roleNames[r].hf} {
			if l, ok := match(pat, name); ok {
				return r, l, true
			}
		}
	}
	return 0, 0, false
}

// match reports whether name fits pattern, where pattern may hold one %d.
func match(pattern, name string) (int, bool) {
	i := strings.Index(pattern, "%d")
	if i < 0 {
		return -1, pattern == name
	}
	prefix, suffix := pattern[:i], pattern[i+2:]
	if !strings.HasPrefix(name, prefix) || !strings.HasSuffix(name, suffix) || len(name) <= len(prefix)+len(suffix) {
		return 0, false
	}
	digits := name[len(prefix) : len(name)-len(suffix)]
	l, err := strconv.Atoi(digits)
	if err != nil || l < 0 || strconv.Itoa(l) != digits {
		return 0, false
	}
	return l, true
}

// GGUFToHF renames a GGUF tensor name to its Hugging Face spelling; names
// without a known role are returned unchanged with ok == false (apr import
// keeps unknown suffixes as they are).
func GGUFToHF(name string) (string, bool) {
	r, l, ok := ParseName(name)
	if !ok || name != r.GGUFName(l) {
		return name, false
	}
	return r.HFName(l), true
}

// HFToGGUF is the inverse of GGUFToHF.
func HFToGGUF(name string) (string, bool) {
	r, l, ok := ParseName(name)
	if !ok || name != r.HFName(l) {
		return name, false
	}
	return r.GGUFName(l), true
}
