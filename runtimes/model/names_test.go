package model

import "testing"

func TestNameMaps(t *testing.T) {
	for _, tc := range []struct{ gguf, hf string }{
		{"token_embd.weight", "model.embed_tokens.weight"},
		{"output.weight", "lm_head.weight"},
		{"output_norm.weight", "model.norm.weight"},
		{"blk.0.attn_norm.weight", "model.layers.0.input_layernorm.weight"},
		{"blk.17.attn_q.bias", "model.layers.17.self_attn.q_proj.bias"},
		{"blk.3.attn_k_norm.weight", "model.layers.3.self_attn.k_norm.weight"},
		{"blk.1.ffn_norm.weight", "model.layers.1.post_attention_layernorm.weight"},
		{"blk.27.ffn_down.weight", "model.layers.27.mlp.down_proj.weight"},
	} {
		if got, ok := GGUFToHF(tc.gguf); !ok || got != tc.hf {
			t.Errorf("GGUFToHF(%q) = %q, %v", tc.gguf, got, ok)
		}
		if got, ok := HFToGGUF(tc.hf); !ok || got != tc.gguf {
			t.Errorf("HFToGGUF(%q) = %q, %v", tc.hf, got, ok)
		}
	}
	for _, bad := range []string{"blk.x.attn_q.weight", "blk.01.attn_q.weight", "blk..attn_q.weight", "blk.1.attn_qq.weight", "rope_freqs.weight"} {
		if got, ok := GGUFToHF(bad); ok || got != bad {
			t.Errorf("GGUFToHF(%q) = %q, %v; want unchanged, false", bad, got, ok)
		}
	}
}

func TestParseNameLayer(t *testing.T) {
	r, l, ok := ParseName("model.layers.12.mlp.up_proj.weight")
	if !ok || r != FFNUp || l != 12 {
		t.Fatalf("ParseName = %v %d %v", r, l, ok)
	}
	r, l, ok = ParseName("token_embd.weight")
	if !ok || r != TokenEmbd || l != -1 || r.PerLayer() {
		t.Fatalf("ParseName(token_embd) = %v %d %v", r, l, ok)
	}
}
