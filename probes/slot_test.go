package probes

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestCatalogConsistent(t *testing.T) {
	names := map[string]bool{}
	all := Slots()
	if len(all) != int(numSlots)-1 {
		t.Fatalf("Slots() has %d slots, catalog %d", len(all), numSlots-1)
	}
	for _, s := range all {
		info, ok := s.Info()
		if !ok || info.Slot != s {
			t.Fatalf("%d: missing catalog entry", s)
		}
		if info.Name == "" || names[info.Name] || strings.ToLower(info.Name) != info.Name {
			t.Errorf("%d: bad or duplicate name %q", s, info.Name)
		}
		names[info.Name] = true
		if got, ok := SlotByName(info.Name); !ok || got != s {
			t.Errorf("%s: SlotByName = %v", info.Name, got)
		}
		if info.Size < SizeEmbd || info.Size > SizeExpertsUsed || strings.HasPrefix(info.Size.String(), "Size(") {
			t.Errorf("%s: no size rule", info.Name)
		}
		if (info.Scope == Global) != (info.Stage != 1) {
			t.Errorf("%s: scope %v but stage %d", info.Name, info.Scope, info.Stage)
		}
		if len(info.LlamaCpp) == 0 {
			t.Errorf("%s: no llama.cpp mapping", info.Name)
		}
		defaults := 0
		for _, g := range info.LlamaCpp {
			if g.Archs == nil {
				defaults++
			}
			if g.Base != "" && len(g.Ops) == 0 || g.Base == "" && g.Note == "" {
				t.Errorf("%s: mapping %+v lacks ops or an explanation", info.Name, g)
			}
		}
		if defaults > 1 {
			t.Errorf("%s: %d default mappings", info.Name, defaults)
		}
		if info.Seed != "" && info.Scope == PerLayer {
			if seed, ok := SeedSlot(info.Seed); !ok || !slices.Contains(seed, s) {
				t.Errorf("%s: seed %q does not list it", info.Name, info.Seed)
			}
		}
	}
	// Per token sizes follow the dims.
	d := Dims{Embd: 10, Heads: 4, KVHeads: 2, HeadDim: 3, FF: 20, Vocab: 50, Experts: 8, ExpertsUsed: 2}
	for s, want := range map[Slot]int{Embed: 10, Q: 12, K: 6, V: 6, QRope: 12, AttnCtx: 12, FFNSwiGLU: 20,
		Logits: 50, RouterLogits: 8, ExpertIDs: 2, Out: 10} {
		if got := s.PerToken(d); got != want {
			t.Errorf("%v.PerToken = %d, want %d", s, got, want)
		}
	}
}

func TestSeedSlots(t *testing.T) {
	want := []string{"attn_norm", "qkv", "attn_out", "ffn_norm", "ffn_gate", "ffn_up",
		"ffn_silu_gate", "ffn_swiglu_inner", "ffn_out", "output"}
	if got := SeedSlotNames(); !slices.Equal(got, want) {
		t.Fatalf("seed slots %v, want %v", got, want)
	}
	for name, slots := range map[string][]Slot{"qkv": {Q, K, V}, "ffn_silu_gate": {FFNAct},
		"ffn_swiglu_inner": {FFNSwiGLU}, "output": {Out}} {
		if got, ok := SeedSlot(name); !ok || !slices.Equal(got, slots) {
			t.Errorf("SeedSlot(%q) = %v, want %v", name, got, slots)
		}
	}
	// Every seed slot points back: each canonical slot it covers names it.
	for _, name := range want {
		slots, _ := SeedSlot(name)
		for _, s := range slots {
			if info, _ := s.Info(); info.Seed != name {
				t.Errorf("%v.Seed = %q, want %q", s, info.Seed, name)
			}
		}
	}
}

func TestLlamaCppNode(t *testing.T) {
	for _, tc := range []struct {
		slot  Slot
		arch  string
		layer int
		name  string
		op    string
		ok    bool
	}{
		{Q, "llama", 3, "Qcur-3", "MUL_MAT", true},
		{Q, "qwen2", 0, "Qcur-0", "ADD", true},
		{Q, "qwen3", 1, "Qcur-1", "MUL_MAT", true},
		{QRope, "qwen2", 2, "Qcur-2", "ROPE", true},
		{QNorm, "qwen3", 0, "Qcur_normed-0", "MUL", true},
		{QNorm, "llama", 0, "", "", false},
		{AttnOut, "llama", 5, "attn_out-5", "MUL_MAT", true},
		{AttnOut, "qwen2", 5, "", "MUL_MAT", false},
		{AttnCtx, "qwen2", 1, "kqv_out-1", "RESHAPE", true},
		{AttnResid, "qwen2", 1, "ffn_inp-1", "ADD", true},
		{FFNAct, "qwen2", 1, "", "", false},
		{FFNSwiGLU, "llama", 0, "ffn_swiglu-0", "SWIGLU", true},
		{Out, "qwen2", 1, "l_out-1", "ADD", true},
		{Embed, "qwen2", -1, "embd", "GET_ROWS", true},
		{FinalNorm, "qwen2", -1, "result_norm", "MUL", true},
		{Logits, "llama", -1, "result_output", "MUL_MAT", true},
	} {
		g, ok := LlamaCppNode(tc.slot, tc.arch)
		var op string
		if len(g.Ops) > 0 {
			op = g.Ops[0]
		}
		name := ""
		if g.Base != "" {
			name = g.Name(tc.layer)
		}
		if ok != tc.ok || name != tc.name || op != tc.op {
			t.Errorf("LlamaCppNode(%v, %s) = %q %q %v, want %q %q %v", tc.slot, tc.arch, name, op, ok, tc.name, tc.op, tc.ok)
		}
		if !ok && g.Note == "" {
			t.Errorf("%v %s: no node and no note why", tc.slot, tc.arch)
		}
	}
}

func TestCompareOrder(t *testing.T) {
	// The execution order of a two-layer, two-step run, written out.
	var want []Key
	for step := range 2 {
		want = append(want, Key{step, -1, Embed})
		for layer := range 2 {
			for _, s := range Slots() {
				if !s.Global() {
					want = append(want, Key{step, layer, s})
				}
			}
		}
		want = append(want, Key{step, -1, FinalNorm}, Key{step, -1, Logits})
	}
	got := slices.Clone(want)
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(got), func(i, j int) { got[i], got[j] = got[j], got[i] })
	slices.SortFunc(got, CompareOrder)
	if !slices.Equal(got, want) {
		t.Fatalf("sorted order differs:\n%v\nwant\n%v", got, want)
	}
	if Slots()[0] != Embed || Slots()[len(Slots())-1] != Logits {
		t.Errorf("Slots() = %v", Slots())
	}
}

func TestSlotText(t *testing.T) {
	for _, s := range Slots() {
		b, err := s.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Slot
		if err := back.UnmarshalText(b); err != nil || back != s {
			t.Errorf("%v → %s → %v, %v", s, b, back, err)
		}
	}
	if _, err := Slot(0).MarshalText(); err == nil {
		t.Error("slot 0 marshalled")
	}
	var s Slot
	if err := s.UnmarshalText([]byte("qkv")); err == nil {
		t.Error("seed name accepted as a canonical slot name")
	}
}
