package llamacpp

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/layerwise/parity/probes"
)

// Node is one graph node as llama.cpp reported it: a row of a dump's
// index.tsv or a header of stock eval-callback text.
type Node struct {
	Step int
	Name string // graph name: "Qcur-0", "result_norm", "Kcur-0 (view)", "node_26"
	Op   string // ggml_op_desc
	Ne   [4]int64
	Src0 string // the first source's name; "" where the source does not say (dumps)
}

// Mapping is a run's nodes assigned to parity slots for one architecture.
type Mapping struct {
	// Slots holds, per (step, layer, slot), the node that holds the slot's
	// value, in node order.
	Slots []Assigned
	// Derived holds the slots llama.cpp computes but does not name, to be
	// recovered exactly from two named nodes.
	Derived []Derivation
	// Unmapped lists node names the adapter does not know, once each, in
	// order of first appearance. They are kept out of the trace, not
	// guessed at; a new llama.cpp version that renames a node shows here.
	Unmapped []string
}

// Assigned is a node that holds a slot's value.
type Assigned struct {
	Key  probes.Key
	Node int         // index into the mapped nodes
	Rows probes.Rows // which token rows the catalog says the node holds
	Note string      // how the node was identified when not by its name
}

// Derivation recovers a slot from two nodes: Key's value is
// nodes[Minuend] − nodes[Subtrahend], row by row, the subtrahend's rows
// aligned to the minuend's last rows.
type Derivation struct {
	Key                 probes.Key
	Minuend, Subtrahend int
	Note                string
}

// Missing is a slot llama.cpp does not materialise for an architecture.
type Missing struct {
	Slot   probes.Slot
	Reason string
}

// Unavailable lists the slots that llama.cpp does not hold in any node for
// arch, and that cannot be derived, with the catalog's reason: ffn_act
// (fused into SWIGLU) always, q_norm/k_norm outside qwen3.
func Unavailable(arch string) []Missing {
	var out []Missing
	for _, s := range probes.Slots() {
		g, ok := probes.LlamaCppNode(s, arch)
		if ok || derivable(s, g) {
			continue
		}
		reason := g.Note
		if reason == "" {
			reason = "no llama.cpp node for " + arch
		}
		out = append(out, Missing{s, reason})
	}
	return out
}

// derivable reports whether the catalog's unnamed node for the slot can
// be recovered: the o_proj MUL_MAT that qwen2 and qwen3 leave unnamed is
// ffn_inp-L minus the layer input, both named.
func derivable(s probes.Slot, g probes.GraphName) bool {
	return s == probes.AttnOut && g.Base == "" && slices.Contains(g.Ops, "MUL_MAT")
}

// MapNodes assigns nodes (of any number of steps, in execution order) to
// slots per the probes catalog (probes.LlamaCppNode): the slot's value is
// the first node of the step named Base-L (Base for global slots) whose op
// is one of the entry's ops; later nodes of the same name and op are
// reshapes of it.
//
// Where the catalog says llama.cpp leaves attn_out unnamed (qwen2, qwen3):
// a stock-text node_N that is the MUL_MAT of blk.L.attn_output.weight is
// assigned directly; otherwise, when ffn_inp-L and the layer input
// (l_out-(L−1), embd for layer 0) are both present, attn_out is derived as
// their difference.
func MapNodes(arch string, nodes []Node) Mapping {
	table := slotTable(arch)
	unnamedAttnOut := derivable(probes.AttnOut, mustNode(probes.AttnOut, arch))
	var m Mapping
	at := map[probes.Key]int{} // key → index in m.Slots
	unmapped := map[string]bool{}
	assign := func(k probes.Key, node int, rows probes.Rows, note string) {
		if _, dup := at[k]; dup {
			return
		}
		at[k] = len(m.Slots)
		m.Slots = append(m.Slots, Assigned{k, node, rows, note})
	}
	for i, n := range nodes {
		base, layer := SplitName(n.Name)
		matched := false
		for _, e := range table[base] {
			if e.global == (layer < 0) && slices.Contains(e.g.Ops, n.Op) {
				assign(probes.Key{Step: n.Step, Layer: layer, Slot: e.slot}, i, e.g.Rows, "")
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		if unnamedAttnOut && n.Op == "MUL_MAT" && unnamedNode.MatchString(n.Name) {
			if m := attnOutputWeight.FindStringSubmatch(n.Src0); m != nil {
				l, _ := strconv.Atoi(m[1])
				assign(probes.Key{Step: n.Step, Layer: l, Slot: probes.AttnOut}, i, probes.AllRows,
					fmt.Sprintf("unnamed %s: the MUL_MAT of %s", n.Name, n.Src0))
				continue
			}
		}
		if !knownName(n.Name) && !unmapped[n.Name] {
			unmapped[n.Name] = true
			m.Unmapped = append(m.Unmapped, n.Name)
		}
	}
	if unnamedAttnOut {
		m.Derived = deriveAttnOut(nodes, m.Slots, at)
	}
	return m
}

// deriveAttnOut pairs each layer's ffn_inp with its layer input, for the
// layers whose attn_out no node holds.
func deriveAttnOut(nodes []Node, slots []Assigned, at map[probes.Key]int) []Derivation {
	var out []Derivation
	for _, a := range slots {
		if a.Key.Slot != probes.AttnResid {
			continue
		}
		k := probes.Key{Step: a.Key.Step, Layer: a.Key.Layer, Slot: probes.AttnOut}
		if _, have := at[k]; have {
			continue
		}
		in := probes.Key{Step: k.Step, Layer: k.Layer - 1, Slot: probes.Out}
		inName := fmt.Sprintf("l_out-%d", k.Layer-1)
		if k.Layer == 0 {
			in, inName = probes.Key{Step: k.Step, Layer: -1, Slot: probes.Embed}, "embd"
		}
		j, ok := at[in]
		if !ok {
			continue
		}
		out = append(out, Derivation{Key: k, Minuend: a.Node, Subtrahend: slots[j].Node,
			Note: fmt.Sprintf("derived: %s − %s (llama.cpp leaves the o_proj MUL_MAT unnamed); equal to that node "+
				"within half an ulp of ffn_inp plus half an ulp of the value", nodes[a.Node].Name, inName)})
	}
	return out
}

type tableEntry struct {
	slot   probes.Slot
	global bool
	g      probes.GraphName
}

// slotTable indexes the catalog's llama.cpp nodes for arch by base name.
func slotTable(arch string) map[string][]tableEntry {
	t := map[string][]tableEntry{}
	for _, s := range probes.Slots() {
		if g, ok := probes.LlamaCppNode(s, arch); ok {
			t[g.Base] = append(t[g.Base], tableEntry{s, s.Global(), g})
		}
	}
	return t
}

// catalogBases holds every base name the catalog gives for any
// architecture, so that a node of another architecture's vocabulary
// counts as known.
var catalogBases = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range probes.Slots() {
		info, _ := s.Info()
		for _, g := range info.LlamaCpp {
			if g.Base != "" {
				m[g.Base] = true
			}
		}
	}
	return m
}()

func mustNode(s probes.Slot, arch string) probes.GraphName {
	g, _ := probes.LlamaCppNode(s, arch)
	return g
}

// SplitName splits a graph name into its base and layer: "Qcur-3" →
// ("Qcur", 3); names without a layer suffix ("result_norm") give layer
// −1. Derived names ("Kcur-0 (view)") are returned whole with layer −1:
// they name views and copies, never a slot's value.
func SplitName(name string) (base string, layer int) {
	if strings.Contains(name, " (") {
		return name, -1
	}
	i := strings.LastIndexByte(name, '-')
	if i < 0 {
		return name, -1
	}
	l, err := strconv.Atoi(name[i+1:])
	if err != nil || l < 0 || name[i+1] == '+' {
		return name, -1
	}
	return name[:i], l
}

var (
	unnamedNode      = regexp.MustCompile(`^node_\d+$`)
	attnOutputWeight = regexp.MustCompile(`^blk\.(\d+)\.attn_output\.weight$`)

	// auxName matches the nodes llama.cpp builds around the slots: norms
	// before their weight MUL, attention internals, the KV cache, inputs
	// and unnamed nodes (src/llama-graph.cpp at 3f545bec).
	auxName = regexp.MustCompile(`^(?:norm|norm_w|kq\w*|kqv|kqv_wo|kqv_mla|v_cont|wqkv\w*|` +
		`ffn_(?:up|gate|down)_\w+|ffn_down|ffn_silu\w*|ffn_moe_\w+|inp_\w+|attn_inp_\w+|pos_bias|` +
		`node_\d+|leaf_\d+|cache_[kv]_l\d+)(?:-\d+)?$`)
)

// knownName reports whether a node name is one llama.cpp builds around
// the slots. A derived name ("X (view)", "X (permuted)", "X (copy of Y)")
// is known when its first part is.
func knownName(name string) bool {
	head, _, _ := strings.Cut(name, " (")
	if auxName.MatchString(head) {
		return true
	}
	base, _ := SplitName(head)
	return catalogBases[base]
}
