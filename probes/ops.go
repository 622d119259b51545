package probes

// Each per-layer slot is the output of one operation. Inputs names the
// operation's inputs: other slots of the same layer, plus — for the
// operations that read the residual stream — the layer input (the previous
// layer's Out, or Embed for layer 0). This is the data-flow graph teacher
// forcing walks: to measure the error one operation adds by itself, feed
// it the other run's recorded inputs and compare its output with the other
// run's recorded output.
//
// qkNorm selects the qwen3 graph, where RoPE reads the per-head normalised
// q and k instead of the projections. MoE slots have no replayable
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
		return []Slot{Q}, false, true
	case KNorm:
		return []Slot{K}, false, true
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
