package probes

import (
	"cmp"
	"fmt"
	"slices"
)

// Slot is a canonical capture point: one tensor of the forward pass, named
// the same way for every runtime. The numeric value is the execution order
// within its stage and is not part of any file format (traces store the
// name), so slots may be inserted later.
type Slot uint8

// The slots, in execution order. Per-layer slots run once per layer; Embed
// runs before layer 0, FinalNorm and Logits after the last layer.
const (
	Embed        Slot = iota + 1 // token embedding rows, before layer 0 [d]
	AttnNorm                     // pre-attention RMSNorm output [d]
	Q                            // query projection, after bias, before QK-norm and RoPE [n_head·hd]
	K                            // key projection, after bias, before QK-norm and RoPE [n_kv·hd]
	V                            // value projection, after bias [n_kv·hd]
	QNorm                        // per-head RMSNorm of Q (qwen3) [n_head·hd]
	KNorm                        // per-head RMSNorm of K (qwen3) [n_kv·hd]
	QRope                        // Q after RoPE [n_head·hd]
	KRope                        // K after RoPE [n_kv·hd]
	AttnCtx                      // softmax(QKᵀ/√hd)·V, heads concatenated, before o_proj [n_head·hd]
	AttnOut                      // o_proj output (+ bias), before the residual [d]
	AttnResid                    // residual stream after attention: input + AttnOut [d]
	FFNNorm                      // pre-FFN RMSNorm output [d]
	RouterLogits                 // MoE router logits [n_expert]
	ExpertIDs                    // MoE selected expert ids, as float32 (discrete) [k]
	FFNGate                      // gate projection, before the activation [ff]
	FFNUp                        // up projection [ff]
	FFNAct                       // silu(gate) [ff]
	FFNSwiGLU                    // silu(gate)·up, the input of the down projection [ff]
	FFNOut                       // down projection (+ bias), before the residual [d]
	MoEOut                       // weighted sum of the selected experts' outputs [d]
	Out                          // layer output: AttnResid + FFNOut (or MoEOut) [d]
	FinalNorm                    // final RMSNorm output, after the last layer [d]
	Logits                       // LM head output [vocab]

	numSlots = iota + 1 // one past the last slot
)

// Scope says where a slot runs.
type Scope uint8

const (
	PerLayer Scope = iota // once per layer; Layer is the layer index
	Global                // once per step; Layer is -1
)

// Size names the model dimension a slot's per-token element count derives
// from.
type Size uint8

const (
	SizeEmbd        Size = iota + 1 // d = n_embd
	SizeQ                           // n_head · head_dim
	SizeKV                          // n_head_kv · head_dim
	SizeFF                          // n_ff
	SizeVocab                       // n_vocab
	SizeExperts                     // n_expert
	SizeExpertsUsed                 // n_expert_used (k)
)

var sizeNames = [...]string{
	SizeEmbd: "d", SizeQ: "n_head*hd", SizeKV: "n_kv*hd", SizeFF: "ff",
	SizeVocab: "vocab", SizeExperts: "n_expert", SizeExpertsUsed: "k",
}

func (z Size) String() string {
	if int(z) < len(sizeNames) && sizeNames[z] != "" {
		return sizeNames[z]
	}
	return fmt.Sprintf("Size(%d)", uint8(z))
}

// Of returns the per-token element count for the model dims d, or 0 if the
// dims it needs are unknown (zero).
func (z Size) Of(d Dims) int {
	switch z {
	case SizeEmbd:
		return d.Embd
	case SizeQ:
		return d.Heads * d.HeadDim
	case SizeKV:
		return d.KVHeads * d.HeadDim
	case SizeFF:
		return d.FF
	case SizeVocab:
		return d.Vocab
	case SizeExperts:
		return d.Experts
	case SizeExpertsUsed:
		return d.ExpertsUsed
	}
	return 0
}

// Dims are the model dimensions a trace's header records and slot sizes
// derive from. Zero means unknown.
type Dims struct {
	Embd        int `json:"n_embd"`
	Layers      int `json:"n_layer"`
	Heads       int `json:"n_head"`
	KVHeads     int `json:"n_head_kv"`
	HeadDim     int `json:"head_dim"`
	FF          int `json:"n_ff"`
	Vocab       int `json:"n_vocab"`
	Experts     int `json:"n_expert,omitempty"`
	ExpertsUsed int `json:"n_expert_used,omitempty"`
}

// SlotInfo is a slot's catalog entry.
type SlotInfo struct {
	Slot  Slot
	Name  string // canonical name, as written in traces and accepted by ParseSlots
	Scope Scope
	Size  Size

	// Stage orders the slot's scope within a step: 0 before the layers
	// (embed), 1 inside each layer, 2 after the last layer.
	Stage int

	// Discrete marks slots whose values are integers (expert ids): their
	// moments are meaningless and they are compared for equality.
	Discrete bool

	// When is the condition under which the slot exists; "" = always.
	When string

	// Seed is the seed trace slot this one maps to ("" if none). q, k and
	// v all map to "qkv", which is the three concatenated per token.
	Seed string

	// LlamaCpp lists where llama.cpp (commit 3f545bec) materialises the
	// slot in its graph, per architecture; see GraphName and LlamaCppNode.
	LlamaCpp []GraphName
}

// Rows says which token rows a llama.cpp node holds.
type Rows uint8

const (
	// AllRows: one row per token of the ubatch.
	AllRows Rows = iota
	// OutputRowsInLastLayer: in the last layer the graph has already
	// selected the output rows (GET_ROWS(inp_out_ids), one row for a plain
	// prompt decode), so only those positions exist.
	OutputRowsInLastLayer
	// OutputRows: only the output rows, in every case.
	OutputRows
)

// GraphName locates a slot's value among llama.cpp's graph nodes.
//
// Names repeat within a step (Qcur-L is the MUL_MAT, then the bias ADD,
// then a RESHAPE, then the ROPE), so a node is identified by its name and
// op: the slot's value is the node named Name(layer) whose op (as
// ggml_op_desc prints it) is one of Ops. If several nodes match, all hold
// the same values (a RESHAPE of the node before it) and the first is meant.
type GraphName struct {
	Base  string   // name before the "-L" suffix; "" if the node is unnamed
	Ops   []string // ggml_op_desc of the node holding the slot's value
	Archs []string // architectures this entry is for; nil = the default for all others
	Rows  Rows
	Note  string
}

// Name returns the graph tensor name for the layer: "<Base>-<layer>", or
// Base alone for layer -1 (global tensors carry no suffix).
func (g GraphName) Name(layer int) string {
	if layer < 0 {
		return g.Base
	}
	return fmt.Sprintf("%s-%d", g.Base, layer)
}

// Seed slots: the 10 per-layer statistics of the seed's traces
// (LayerActivation, in its print order) and the canonical slots each one
// covers. "qkv" is the per-token concatenation q‖k‖v; the seed took it
// after the bias on its APR path and before the bias on its GGUF path.
var seedSlots = []struct {
	Name  string
	Slots []Slot
}{
	{"attn_norm", []Slot{AttnNorm}},
	{"qkv", []Slot{Q, K, V}},
	{"attn_out", []Slot{AttnOut}},
	{"ffn_norm", []Slot{FFNNorm}},
	{"ffn_gate", []Slot{FFNGate}},
	{"ffn_up", []Slot{FFNUp}},
	{"ffn_silu_gate", []Slot{FFNAct}},
	{"ffn_swiglu_inner", []Slot{FFNSwiGLU}},
	{"ffn_out", []Slot{FFNOut}},
	{"output", []Slot{Out}},
}

// SeedSlotNames returns the seed's 10 per-layer slot names in its order.
func SeedSlotNames() []string {
	out := make([]string, len(seedSlots))
	for i, s := range seedSlots {
		out[i] = s.Name
	}
	return out
}

// SeedSlot returns the canonical slots behind a seed slot name, in
// concatenation order.
func SeedSlot(name string) ([]Slot, bool) {
	for _, s := range seedSlots {
		if s.Name == name {
			return slices.Clone(s.Slots), true
		}
	}
	return nil, false
}

// Slots returns every slot in execution order (stage, then slot order).
func Slots() []Slot {
	out := make([]Slot, 0, numSlots)
	for s := Slot(1); s < numSlots; s++ {
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b Slot) int { return cmp.Compare(catalog[a].Stage, catalog[b].Stage) })
	return out
}

// Info returns the slot's catalog entry; ok is false for an unknown slot.
func (s Slot) Info() (SlotInfo, bool) {
	if s == 0 || s >= numSlots {
		return SlotInfo{}, false
	}
	return catalog[s], true
}

// Valid reports whether s is a catalog slot.
func (s Slot) Valid() bool { return s > 0 && s < numSlots }

// String returns the canonical name.
func (s Slot) String() string {
	if s.Valid() {
		return catalog[s].Name
	}
	return fmt.Sprintf("Slot(%d)", uint8(s))
}

// Global reports whether the slot runs once per step rather than per layer.
func (s Slot) Global() bool { return s.Valid() && catalog[s].Scope == Global }

// PerToken returns the slot's element count per token for dims d, or 0 if
// d lacks the dimension.
func (s Slot) PerToken(d Dims) int {
	if !s.Valid() {
		return 0
	}
	return catalog[s].Size.Of(d)
}

// SlotByName returns the slot with the canonical name.
func SlotByName(name string) (Slot, bool) {
	s, ok := byName[name]
	return s, ok
}

// MarshalText writes the canonical name.
func (s Slot) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("probes: invalid slot %d", uint8(s))
	}
	return []byte(catalog[s].Name), nil
}

// UnmarshalText accepts a canonical name.
func (s *Slot) UnmarshalText(b []byte) error {
	v, ok := byName[string(b)]
	if !ok {
		return fmt.Errorf("probes: unknown slot %q", b)
	}
	*s = v
	return nil
}

// LlamaCppNode returns where llama.cpp holds the slot's value for the
// architecture: the entry listing arch, else the default entry. ok is false
// when there is no entry for arch or the node is unnamed (Base == ""); the
// returned GraphName's Note then says why.
func LlamaCppNode(s Slot, arch string) (g GraphName, ok bool) {
	if !s.Valid() {
		return GraphName{}, false
	}
	found := false
	for _, e := range catalog[s].LlamaCpp {
		if slices.Contains(e.Archs, arch) {
			g, found = e, true
			break
		}
		if e.Archs == nil && !found {
			g, found = e, true
		}
	}
	return g, found && g.Base != ""
}

// Key identifies a record within a trace.
type Key struct {
	Step  int
	Layer int // -1 for global slots
	Slot  Slot
}

func (k Key) String() string {
	if k.Layer < 0 {
		return fmt.Sprintf("step %d %s", k.Step, k.Slot)
	}
	return fmt.Sprintf("step %d layer %d %s", k.Step, k.Layer, k.Slot)
}

// CompareOrder orders keys by execution: step first, then stage (embed,
// the layers, the final norm and logits), then layer, then slot order.
// It is a total order on valid keys, suitable for slices.SortFunc, and
// "first divergence" means the first failing record in this order.
func CompareOrder(a, b Key) int {
	return cmp.Or(
		cmp.Compare(a.Step, b.Step),
		cmp.Compare(stage(a.Slot), stage(b.Slot)),
		cmp.Compare(a.Layer, b.Layer),
		cmp.Compare(a.Slot, b.Slot),
	)
}

func stage(s Slot) int {
	if !s.Valid() {
		return 3
	}
	return catalog[s].Stage
}

var byName = func() map[string]Slot {
	m := make(map[string]Slot, numSlots)
	for s := Slot(1); s < numSlots; s++ {
		m[catalog[s].Name] = s
	}
	return m
}()
