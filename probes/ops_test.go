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
