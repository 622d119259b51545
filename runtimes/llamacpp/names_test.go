package llamacpp

import (
	"regexp"
	"slices"
	"testing"

	"github.com/layerwise/parity/probes"
)

func TestSplitName(t *testing.T) {
	for name, want := range map[string]struct {
		base  string
		layer int
	}{
		"Qcur-3":            {"Qcur", 3},
		"l_out-12":          {"l_out", 12},
		"result_norm":       {"result_norm", -1},
		"Kcur-0 (view)":     {"Kcur-0 (view)", -1},
		"ffn_moe_logits-1":  {"ffn_moe_logits", 1},
		"x-+1":              {"x-+1", -1},
		"x-":                {"x-", -1},
		"cache_k_l0":        {"cache_k_l0", -1},
		"Qcur_normed-0-bad": {"Qcur_normed-0-bad", -1},
	} {
		if b, l := SplitName(name); b != want.base || l != want.layer {
			t.Errorf("SplitName(%q) = %q, %d; want %q, %d", name, b, l, want.base, want.layer)
		}
	}
}

// The slot's value is picked by op among the nodes sharing its name, per
// architecture.
func TestMapNodesByOp(t *testing.T) {
	nodes := []Node{
		{Name: "Qcur-0", Op: "MUL_MAT"}, {Name: "Qcur-0", Op: "ADD"}, {Name: "Qcur-0", Op: "RESHAPE"},
		{Name: "Qcur-0", Op: "ROPE"}, {Name: "Qcur-0 (view)", Op: "VIEW"}, {Name: "norm-0", Op: "RMS_NORM"},
		{Name: "result_norm", Op: "MUL"}, {Name: "result_norm-0", Op: "MUL"},
	}
	for arch, want := range map[string]map[probes.Slot]int{
		"qwen2": {probes.Q: 1, probes.QRope: 3, probes.FinalNorm: 6},
		"llama": {probes.Q: 0, probes.QRope: 3, probes.FinalNorm: 6},
	} {
		m := MapNodes(arch, nodes)
		got := map[probes.Slot]int{}
		for _, a := range m.Slots {
			got[a.Key.Slot] = a.Node
		}
		if len(got) != len(want) || !mapsEqual(got, want) {
			t.Errorf("%s: slots %v, want %v", arch, got, want)
		}
		// result_norm-0 is a name of the catalog used with a layer suffix
		// it never has: known, not a slot, not unmapped.
		if len(m.Unmapped) != 0 {
			t.Errorf("%s: unmapped %v", arch, m.Unmapped)
		}
	}
}

func mapsEqual(a, b map[probes.Slot]int) bool {
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return len(a) == len(b)
}

func TestMapNodesUnmapped(t *testing.T) {
	nodes := []Node{
		{Name: "mystery-0", Op: "ADD"}, {Name: "cache_k_l0 (view) (permuted)", Op: "PERMUTE"}, {Name: "node_12", Op: "GET_ROWS"},
		{Name: "leaf_3", Op: "NONE"}, {Name: "kq_soft_max-1", Op: "SOFT_MAX"}, {Name: "mystery-0", Op: "MUL"},
		{Name: "Vcur-0 (reshaped) (reshaped)", Op: "RESHAPE"}, {Name: "weird (view)", Op: "VIEW"},
	}
	m := MapNodes("qwen3", nodes)
	if want := []string{"mystery-0", "weird (view)"}; !slices.Equal(m.Unmapped, want) {
		t.Errorf("unmapped %v, want %v", m.Unmapped, want)
	}
	if len(m.Slots) != 0 {
		t.Errorf("slots %v", m.Slots)
	}
}

// Stock text prints qwen's unnamed o_proj MUL_MAT; it is recognised by its
// weight. Where both ffn_inp and the layer input are named instead, the
// slot is derived.
func TestMapNodesAttnOut(t *testing.T) {
	stock := []Node{
		{Name: "embd", Op: "GET_ROWS"}, {Name: "node_26", Op: "MUL_MAT", Src0: "blk.0.attn_output.weight"},
		{Name: "ffn_inp-0", Op: "ADD"}, {Name: "l_out-0", Op: "ADD"},
		{Name: "node_60", Op: "MUL_MAT", Src0: "blk.1.attn_output.weight"}, {Name: "ffn_inp-1", Op: "ADD"},
	}
	m := MapNodes("qwen2", stock)
	var got []probes.Key
	for _, a := range m.Slots {
		if a.Key.Slot == probes.AttnOut {
			got = append(got, a.Key)
			if a.Note == "" {
				t.Errorf("%v: no note", a.Key)
			}
		}
	}
	if want := []probes.Key{{Layer: 0, Slot: probes.AttnOut}, {Layer: 1, Slot: probes.AttnOut}}; !slices.Equal(got, want) || len(m.Derived) != 0 {
		t.Errorf("attn_out %v, derived %v", got, m.Derived)
	}

	dump := slices.DeleteFunc(slices.Clone(stock), func(n Node) bool { return n.Op == "MUL_MAT" })
	m = MapNodes("qwen3", dump)
	if len(m.Derived) != 2 || m.Derived[0].Minuend != 1 || m.Derived[0].Subtrahend != 0 ||
		m.Derived[1].Minuend != 3 || m.Derived[1].Subtrahend != 2 {
		t.Errorf("derived %+v", m.Derived)
	}
	if m = MapNodes("llama", stock); len(m.Derived) != 0 || slices.ContainsFunc(m.Slots, func(a Assigned) bool { return a.Key.Slot == probes.AttnOut }) {
		t.Errorf("llama names attn_out; got %+v", m)
	}
}

func TestUnavailable(t *testing.T) {
	has := func(arch string, s probes.Slot) bool {
		return slices.ContainsFunc(Unavailable(arch), func(m Missing) bool { return m.Slot == s && m.Reason != "" })
	}
	for _, arch := range []string{"llama", "qwen2", "qwen3"} {
		if !has(arch, probes.FFNAct) || has(arch, probes.AttnOut) || has(arch, probes.Q) {
			t.Errorf("%s: unavailable %v", arch, Unavailable(arch))
		}
	}
	if !has("llama", probes.QNorm) || has("qwen3", probes.QNorm) {
		t.Errorf("q_norm: llama %v, qwen3 %v", Unavailable("llama"), Unavailable("qwen3"))
	}
}

func TestRowPositions(t *testing.T) {
	cases := []struct {
		step, prompt int
		count        int64
		per          int
		rows         probes.Rows
		want         []int
	}{
		{0, 5, 5 * 8, 8, probes.AllRows, []int{0, 1, 2, 3, 4}},
		{0, 5, 8, 8, probes.OutputRowsInLastLayer, []int{4}},
		{0, 5, 2 * 8, 8, probes.OutputRows, []int{3, 4}},
		{3, 5, 8, 8, probes.AllRows, []int{7}},
		{0, 5, 8, 8, probes.AllRows, nil},        // all rows promised, one given
		{0, 5, 6 * 8, 8, probes.OutputRows, nil}, // more rows than tokens
		{1, 5, 2 * 8, 8, probes.OutputRows, nil}, // a decode step has one token
		{0, 5, 12, 8, probes.AllRows, nil},       // not whole rows
		{0, 5, 0, 8, probes.AllRows, nil},
	}
	for _, c := range cases {
		got, err := RowPositions(c.step, c.prompt, c.count, c.per, c.rows)
		if (err != nil) != (c.want == nil) || !slices.Equal(got, c.want) {
			t.Errorf("%+v: %v, %v", c, got, err)
		}
	}
}

// The dumper's filter keeps every node a slot is read from (or derived
// from) and no view.
func TestDumpFilter(t *testing.T) {
	for _, dir := range dumpDirs(t) {
		d, err := ReadDump(dir)
		if err != nil {
			t.Fatal(err)
		}
		arch, _ := modelDims(t, dumpModel(t, dir))
		re := regexp.MustCompile(DumpFilter(arch))
		m := MapNodes(arch, d.Nodes())
		need := map[int]bool{}
		for _, a := range m.Slots {
			need[a.Node] = true
		}
		for _, dv := range m.Derived {
			need[dv.Minuend], need[dv.Subtrahend] = true, true
		}
		for i, e := range d.Entries {
			if need[i] && !re.MatchString(e.Name) {
				t.Errorf("%s: filter %s drops %s", dir, re, e.Name)
			}
			if _, layer := SplitName(e.Name); layer < 0 && re.MatchString(e.Name) && !need[i] {
				t.Errorf("%s: filter keeps %q", dir, e.Name)
			}
		}
	}
}
