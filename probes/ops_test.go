package probes

import "testing"

// TestInputsFormADAG checks that every replayable slot's inputs come
// earlier in execution order, so a walk in order always has them recorded.
func TestInputsFormADAG(t *testing.T) {
	for _, qk := range []bool{false, true} {
		n := 0
		for _, s := range Slots() {
			in, _, ok := s.Inputs(qk)
			if !ok {
				continue
			}
			n++
			for _, x := range in {
				if CompareOrder(Key{0, 0, x}, Key{0, 0, s}) >= 0 {
					t.Errorf("qkNorm=%v: %s reads %s, which does not run before it", qk, s, x)
				}
			}
		}
		if n < 16 {
			t.Errorf("only %d replayable slots", n)
		}
	}
	if in, _, _ := QRope.Inputs(true); in[0] != QNorm {
		t.Errorf("qwen3 RoPE must read q_norm, got %v", in)
	}
	if _, li, _ := AttnNorm.Inputs(false); !li {
		t.Error("attn_norm reads the layer input")
	}
}

// TestCheckReplay: the shared input check of both engines' ReplayOp.
func TestCheckReplay(t *testing.T) {
	d := Dims{Embd: 8, Heads: 2, KVHeads: 1, HeadDim: 4, FF: 16, Vocab: 32}
	x := make([]float32, 3*8)
	need, needX, T, err := CheckReplay(Out, false, 2, 1, d, nil, map[Slot][]float32{AttnResid: x, FFNOut: x})
	if err != nil || T != 3 || needX || len(need) != 2 {
		t.Fatalf("out: need %v, x %v, T %d, %v", need, needX, T, err)
	}
	if _, needX, T, err = CheckReplay(AttnNorm, false, 2, 0, d, x, nil); err != nil || !needX || T != 3 {
		t.Fatalf("attn_norm: x %v, T %d, %v", needX, T, err)
	}
	for name, err := range map[string]error{
		"q_norm without qk-norm": second(CheckReplay(QNorm, false, 2, 0, d, nil, map[Slot][]float32{Q: x})),
		"global slot":            second(CheckReplay(Logits, false, 2, 0, d, x, nil)),
		"no such layer":          second(CheckReplay(AttnNorm, false, 2, 2, d, x, nil)),
		"missing input":          second(CheckReplay(Q, false, 2, 0, d, x, nil)),
		"short x":                second(CheckReplay(AttnNorm, false, 2, 0, d, x[:3], nil)),
		"mixed T":                second(CheckReplay(Out, false, 2, 0, d, nil, map[Slot][]float32{AttnResid: x, FFNOut: x[:16]})),
	} {
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, _, ok := QNorm.Inputs(false); ok {
		t.Error("q_norm is replayable in a graph without q/k norm")
	}
}

func second(_ []Slot, _ bool, _ int, err error) error { return err }
