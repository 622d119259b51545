package probes

// catalog is the slot table of DESIGN.md §3 with the llama.cpp graph names
// read from src/models/{llama,qwen2,qwen3}.cpp and src/llama-graph.cpp at
// commit 3f545bec (build_inp_embd, build_norm, build_qkv, build_attn,
// build_ffn, build_moe_ffn). Ops are spelled as ggml_op_desc prints them in
// the eval-callback header line (a GLU op prints its GLU kind).
var catalog = [numSlots]SlotInfo{
	Embed: {
		Name: "embed", Scope: Global, Size: SizeEmbd, Stage: 0, Seed: "embed",
		LlamaCpp: []GraphName{{Base: "embd", Ops: []string{"GET_ROWS", "SCALE"},
			Note: "GET_ROWS of token_embd; a SCALE node carries the name when the model scales embeddings"}},
	},
	AttnNorm: {
		Name: "attn_norm", Size: SizeEmbd, Stage: 1, Seed: "attn_norm",
		LlamaCpp: []GraphName{{Base: "attn_norm", Ops: []string{"MUL"},
			Note: "MUL by attn_norm.weight after RMS_NORM (norm-L)"}},
	},
	Q: {
		Name: "q", Size: SizeQ, Stage: 1, Seed: "qkv",
		LlamaCpp: []GraphName{
			{Base: "Qcur", Ops: []string{"MUL_MAT"}, Note: "no bias: the wq MUL_MAT"},
			{Base: "Qcur", Ops: []string{"ADD"}, Archs: []string{"qwen2"}, Note: "the bias ADD after the MUL_MAT"},
		},
	},
	K: {
		Name: "k", Size: SizeKV, Stage: 1, Seed: "qkv",
		LlamaCpp: []GraphName{
			{Base: "Kcur", Ops: []string{"MUL_MAT"}, Note: "no bias: the wk MUL_MAT"},
			{Base: "Kcur", Ops: []string{"ADD"}, Archs: []string{"qwen2"}, Note: "the bias ADD after the MUL_MAT"},
		},
	},
	V: {
		Name: "v", Size: SizeKV, Stage: 1, Seed: "qkv",
		LlamaCpp: []GraphName{
			{Base: "Vcur", Ops: []string{"MUL_MAT"}, Note: "no bias: the wv MUL_MAT"},
			{Base: "Vcur", Ops: []string{"ADD"}, Archs: []string{"qwen2"}, Note: "the bias ADD after the MUL_MAT"},
		},
	},
	QNorm: {
		Name: "q_norm", Size: SizeQ, Stage: 1, When: "qwen3 (per-head QK RMSNorm before RoPE)",
		LlamaCpp: []GraphName{
			{Base: "Qcur_normed", Ops: []string{"MUL"}, Archs: []string{"qwen3"}, Note: "MUL by attn_q_norm.weight"},
			{Note: "no pre-RoPE QK-norm; llama's use_kq_norm Qcur_normed comes after RoPE and is not this slot"},
		},
	},
	KNorm: {
		Name: "k_norm", Size: SizeKV, Stage: 1, When: "qwen3 (per-head QK RMSNorm before RoPE)",
		LlamaCpp: []GraphName{
			{Base: "Kcur_normed", Ops: []string{"MUL"}, Archs: []string{"qwen3"}, Note: "MUL by attn_k_norm.weight"},
			{Note: "no pre-RoPE QK-norm; llama's use_kq_norm Kcur_normed comes after RoPE and is not this slot"},
		},
	},
	QRope: {
		Name: "q_rope", Size: SizeQ, Stage: 1,
		LlamaCpp: []GraphName{{Base: "Qcur", Ops: []string{"ROPE"}, Note: "the last Qcur-L of the layer"}},
	},
	KRope: {
		Name: "k_rope", Size: SizeKV, Stage: 1,
		LlamaCpp: []GraphName{{Base: "Kcur", Ops: []string{"ROPE"}, Note: "the last Kcur-L before the KV-cache views"}},
	},
	AttnCtx: {
		Name: "attn_ctx", Size: SizeQ, Stage: 1,
		LlamaCpp: []GraphName{{Base: "kqv_out", Ops: []string{"RESHAPE", "CONT"},
			Note: "RESHAPE of FLASH_ATTN_EXT with flash attention (the CPU default), CONT of the permuted kqv without"}},
	},
	AttnOut: {
		Name: "attn_out", Size: SizeEmbd, Stage: 1, Seed: "attn_out",
		LlamaCpp: []GraphName{
			{Base: "attn_out", Ops: []string{"MUL_MAT"}, Note: "llama names the wo MUL_MAT"},
			{Ops: []string{"MUL_MAT"}, Archs: []string{"qwen2", "qwen3"},
				Note: "unnamed node_N = MUL_MAT(attn_output.weight, kqv_out-L); recoverable as ffn_inp-L minus the layer input (l_out-(L−1), embd for layer 0)"},
		},
	},
	AttnResid: {
		Name: "attn_resid", Size: SizeEmbd, Stage: 1,
		LlamaCpp: []GraphName{{Base: "ffn_inp", Ops: []string{"ADD"}, Rows: OutputRowsInLastLayer}},
	},
	FFNNorm: {
		Name: "ffn_norm", Size: SizeEmbd, Stage: 1, Seed: "ffn_norm",
		LlamaCpp: []GraphName{{Base: "ffn_norm", Ops: []string{"MUL"}, Rows: OutputRowsInLastLayer}},
	},
	RouterLogits: {
		Name: "router_logits", Size: SizeExperts, Stage: 1, When: "MoE layers",
		LlamaCpp: []GraphName{{Base: "ffn_moe_logits", Ops: []string{"MUL_MAT"}, Rows: OutputRowsInLastLayer}},
	},
	ExpertIDs: {
		Name: "expert_ids", Size: SizeExpertsUsed, Stage: 1, Discrete: true, When: "MoE layers",
		LlamaCpp: []GraphName{{Base: "ffn_moe_topk", Ops: []string{"VIEW"}, Rows: OutputRowsInLastLayer,
			Note: "I32 view of the descending ARGSORT of the selection probabilities"}},
	},
	FFNGate: {
		Name: "ffn_gate", Size: SizeFF, Stage: 1, When: "gated FFN", Seed: "ffn_gate",
		LlamaCpp: []GraphName{{Base: "ffn_gate", Ops: []string{"MUL_MAT"}, Rows: OutputRowsInLastLayer}},
	},
	FFNUp: {
		Name: "ffn_up", Size: SizeFF, Stage: 1, Seed: "ffn_up",
		LlamaCpp: []GraphName{{Base: "ffn_up", Ops: []string{"MUL_MAT"}, Rows: OutputRowsInLastLayer}},
	},
	FFNAct: {
		Name: "ffn_act", Size: SizeFF, Stage: 1, When: "gated FFN", Seed: "ffn_silu_gate",
		LlamaCpp: []GraphName{{
			Note: "not materialised: llama.cpp fuses silu(gate)·up into one SWIGLU node (ffn_swiglu-L)"}},
	},
	FFNSwiGLU: {
		Name: "ffn_swiglu", Size: SizeFF, Stage: 1, When: "gated FFN", Seed: "ffn_swiglu_inner",
		LlamaCpp: []GraphName{{Base: "ffn_swiglu", Ops: []string{"SWIGLU"}, Rows: OutputRowsInLastLayer}},
	},
	FFNOut: {
		Name: "ffn_out", Size: SizeEmbd, Stage: 1, Seed: "ffn_out",
		LlamaCpp: []GraphName{{Base: "ffn_out", Ops: []string{"MUL_MAT"}, Rows: OutputRowsInLastLayer,
			Note: "the ffn_down MUL_MAT; llama also names the residual ADD ffn_out-L before renaming it l_out-L"}},
	},
	MoEOut: {
		Name: "moe_out", Size: SizeEmbd, Stage: 1, When: "MoE layers",
		LlamaCpp: []GraphName{{Base: "ffn_moe_out", Ops: []string{"ADD", "CONT"}, Rows: OutputRowsInLastLayer,
			Note: "ADD over the selected experts (CONT when only one is used)"}},
	},
	Out: {
		Name: "out", Size: SizeEmbd, Stage: 1, Seed: "output",
		LlamaCpp: []GraphName{{Base: "l_out", Ops: []string{"ADD"}, Rows: OutputRowsInLastLayer}},
	},
	FinalNorm: {
		Name: "final_norm", Scope: Global, Size: SizeEmbd, Stage: 2, Seed: "final_norm",
		LlamaCpp: []GraphName{{Base: "result_norm", Ops: []string{"MUL"}, Rows: OutputRows}},
	},
	Logits: {
		Name: "logits", Scope: Global, Size: SizeVocab, Stage: 2, Seed: "logits",
		LlamaCpp: []GraphName{{Base: "result_output", Ops: []string{"MUL_MAT"}, Rows: OutputRows}},
	},
}

func init() {
	for s := Slot(1); s < numSlots; s++ {
		catalog[s].Slot = s
	}
}
