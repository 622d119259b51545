package probes

import "fmt"

// Each per-layer slot is the output of one operation. Inputs names the
// operation's inputs: other slots of the same layer, plus — for the
// operations that read the residual stream — the layer input (the previous
// layer's Out, or Embed for layer 0). This is the data-flow graph teacher
// forcing walks: to measure the error one operation adds by itself, feed
// it the other run's recorded inputs and compare its output with the other
// run's recorded output.
//
// qkNorm selects the qwen3 graph, where RoPE reads the per-head normalised
// q and k instead of the projections; without it q_norm and k_norm are not
// in the graph and have no operation (ok == false). MoE slots have no replayable
// operation yet and return ok == false, as do global slots (Embed is a
// table lookup; FinalNorm and Logits read the last layer's Out and are
// replayed by ReplayOp with layer -1 in a later version).
func (s Slot) Inputs(qkNorm bool) (in []Slot, layerInput, ok bool) {
	switch s {
	case AttnNorm:
		return nil, true, true
	case Q, K, V:
		return []Slot{AttnNorm}, false, true
	case QNorm:
		return []Slot{Q}, false, qkNorm
	case KNorm:
		return []Slot{K}, false, qkNorm
	case QRope:
		if qkNorm {
			return []Slot{QNorm}, false, true
		}
		return []Slot{Q}, false, true
	case KRope:
		if qkNorm {
			return []Slot{KNorm}, false, true
		}
		return []Slot{K}, false, true
	case AttnCtx:
		return []Slot{QRope, KRope, V}, false, true
	case AttnOut:
		return []Slot{AttnCtx}, false, true
	case AttnResid:
		return []Slot{AttnOut}, true, true
	case FFNNorm:
		return []Slot{AttnResid}, false, true
	case FFNGate, FFNUp:
		return []Slot{FFNNorm}, false, true
	case FFNAct:
		return []Slot{FFNGate}, false, true
	case FFNSwiGLU:
		return []Slot{FFNAct, FFNUp}, false, true
	case FFNOut:
		return []Slot{FFNSwiGLU}, false, true
	case Out:
		return []Slot{AttnResid, FFNOut}, false, true
	}
	return nil, false, false
}

// CheckReplay checks what an engine's ReplayOp is asked to do: replay
// slot out of layer l (of nLayer) in the graph qkNorm selects, from the
// input slots in and, where the operation reads it, the layer input x.
// Every input must hold T whole rows of its slot's width (x: d.Embd), the
// same T for all. It returns the input slots the operation reads, whether
// it reads x, and T. The errors name the slot and the offending input;
// engines prefix their package name.
func CheckReplay(out Slot, qkNorm bool, nLayer, l int, d Dims, x []float32, in map[Slot][]float32) (need []Slot, needX bool, T int, err error) {
	need, needX, ok := out.Inputs(qkNorm)
	if !ok {
		return nil, false, 0, fmt.Errorf("slot %s has no replayable operation in this graph", out)
	}
	if l < 0 || l >= nLayer {
		return nil, false, 0, fmt.Errorf("no layer %d", l)
	}
	T = -1
	check := func(name string, v []float32, perToken int) error {
		if perToken <= 0 || len(v) == 0 || len(v)%perToken != 0 || (T >= 0 && len(v)/perToken != T) {
			return fmt.Errorf("replay %s: input %s has %d values, not T×%d", out, name, len(v), perToken)
		}
		T = len(v) / perToken
		return nil
	}
	for _, s := range need {
		if err := check(s.String(), in[s], s.PerToken(d)); err != nil {
			return nil, false, 0, err
		}
	}
	if needX {
		if err := check("layer input", x, d.Embd); err != nil {
			return nil, false, 0, err
		}
	}
	return need, needX, T, nil
}
