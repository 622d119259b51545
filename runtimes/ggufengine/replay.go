package ggufengine

import (
	"context"
	"fmt"

	"github.com/layerwise/parity/probes"
)

// ReplayLayer runs layer l alone over the prompt positions 0..T−1, taking
// x ([T × n_embd]) as the layer input, with a fresh cache of its own (the
// engine's cache is untouched), and records the layer's slots as step 0.
// Teacher forcing feeds it another run's recorded layer input, so what
// comes out differs from that run's layer output only by what this engine
// does differently in this one layer.
func (e *Engine) ReplayLayer(ctx context.Context, l int, x []float32, rec *probes.Recorder) error {
	T, err := e.rows(l, x, e.cfg.NEmbd)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	xx := append([]float32(nil), x...)
	return e.layer(l, xx, 0, 0, &kvLayer{}, newScratch(e.cfg, T), rec)
}

// ReplayOp computes one slot of layer l over prompt positions 0..T−1 from
// the given inputs, with exactly the code the forward pass uses for it. in
// holds the slots out.Inputs names ([T × per-token] each); x is the layer
// input, needed by attn_norm and attn_resid. The result is the slot's value.
func (e *Engine) ReplayOp(ctx context.Context, l int, out probes.Slot, x []float32, in map[probes.Slot][]float32) ([]float32, error) {
	c := e.cfg
	dims := probes.Dims{Embd: c.NEmbd, Heads: c.NHead, KVHeads: c.NHeadKV, HeadDim: c.HeadDim, FF: c.NFF, Vocab: c.NVocab}
	need, _, T, err := probes.CheckReplay(out, c.Arch.QKNorm, c.NLayer, l, dims, x, in)
	if err != nil {
		return nil, fmt.Errorf("ggufengine: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	dst := make([]float32, T*out.PerToken(dims))
	cp := func(s probes.Slot) []float32 { return append(dst[:0], in[s]...) }
	lw := &e.layers[l]
	switch out {
	case probes.AttnNorm:
		e.attnNorm(l, dst, x)
	case probes.Q, probes.K, probes.V:
		if err := e.project(l, out, dst, in[probes.AttnNorm], T); err != nil {
			return nil, err
		}
	case probes.QNorm:
		e.qkNorm(l, out, cp(probes.Q))
	case probes.KNorm:
		e.qkNorm(l, out, cp(probes.K))
	case probes.QRope, probes.KRope:
		heads := c.NHead
		if out == probes.KRope {
			heads = c.NHeadKV
		}
		cp(need[0])
		e.rope(l, dst, heads, 0, false, make([]float32, c.HeadDim))
	case probes.AttnCtx:
		s := newScratch(c, T)
		copy(s.q, in[probes.QRope])
		kv := &kvLayer{}
		e.store(l, kv, in[probes.KRope], in[probes.V], false)
		e.attention(l, s, kv, 0)
		copy(dst, s.ctx)
	case probes.AttnOut:
		return dst, e.matmul(dst, lw.wo, in[probes.AttnCtx], T)
	case probes.AttnResid:
		cp(probes.AttnOut)
		addTo(dst, x)
	case probes.FFNNorm:
		rmsNormMul(dst, in[probes.AttnResid], lw.ffnNorm, c.NEmbd, c.RMSEps)
	case probes.FFNGate:
		return dst, e.matmul(dst, lw.wGate, in[probes.FFNNorm], T)
	case probes.FFNUp:
		return dst, e.matmul(dst, lw.wUp, in[probes.FFNNorm], T)
	case probes.FFNAct:
		e.activate(l, cp(probes.FFNGate))
	case probes.FFNSwiGLU:
		mulInto(cp(probes.FFNAct), in[probes.FFNUp])
	case probes.FFNOut:
		return dst, e.matmul(dst, lw.wDown, in[probes.FFNSwiGLU], T)
	case probes.Out:
		addTo(cp(probes.AttnResid), in[probes.FFNOut])
	default:
		return nil, fmt.Errorf("ggufengine: slot %s has no replayable operation", out)
	}
	return dst, nil
}

// rows returns how many rows of width w x holds.
func (e *Engine) rows(l int, x []float32, w int) (int, error) {
	if l < 0 || l >= e.cfg.NLayer {
		return 0, fmt.Errorf("ggufengine: no layer %d", l)
	}
	if len(x) == 0 || len(x)%w != 0 {
		return 0, fmt.Errorf("ggufengine: layer input has %d values, not a multiple of n_embd %d", len(x), w)
	}
	return len(x) / w, nil
}
