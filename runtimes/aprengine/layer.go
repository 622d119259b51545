package aprengine

import (
	"math"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/runtimes/quant"
)

// batch holds the activations of T positions, reused by every layer of a
// Forward call (or by one replay).
type batch struct {
	T                    int
	cur, attnOut, ffnOut []float32 // [T × d]
	q, ctx               []float32 // [T × n_head·hd]
	k, v                 []float32 // [T × n_kv·hd]
	gate, up             []float32 // [T × ff]
	rope                 ropeTable
	// per-worker attention scratch: scores over every visible position
	// (nCtx of them at most) and the float64 accumulator of one head.
	scores, acc [][]float64
}

// newBatch allocates the activations of T positions whose queries see at
// most nCtx cached positions.
func newBatch(c *model.Config, nCtx, T, threads int) *batch {
	d, q, kv, ff := c.NEmbd, c.QDim(), c.KVDim(), c.NFF
	b := &batch{
		T:   T,
		cur: make([]float32, T*d), attnOut: make([]float32, T*d), ffnOut: make([]float32, T*d),
		q: make([]float32, T*q), ctx: make([]float32, T*q), k: make([]float32, T*kv), v: make([]float32, T*kv),
		gate: make([]float32, T*ff), up: make([]float32, T*ff),
		scores: make([][]float64, threads), acc: make([][]float64, threads),
	}
	for i := range b.scores {
		b.scores[i] = make([]float64, nCtx)
		b.acc[i] = make([]float64, c.HeadDim)
	}
	return b
}

// kvLayer is one layer's cache: row p holds the key (after RoPE) and the
// value of position p, all KV heads side by side, as f32.
type kvLayer struct{ k, v []float32 }

// layer runs transformer block l over the batch's residual stream x
// ([T × d] at positions pos0.., updated in place to the block's output)
// against the layer's cache kv, recording every slot for every position in
// the order ggufengine records them. Steps after the first are decode
// steps, which is where the decode faults act. Each operation is a method
// of its own, so ReplayOp runs exactly the code the forward pass runs.
func (e *Engine) layer(l int, x []float32, pos0, step int, kv *kvLayer, b *batch, rec *probes.Recorder) error {
	c, lw, T := e.cfg, &e.layers[l], b.T
	d, qd, kvd := c.NEmbd, c.QDim(), c.KVDim()
	capture := func(slot probes.Slot, n int, data []float32) { rec.Capture(step, l, slot, pos0, n, data) }

	e.attnNorm(l, b.cur, x)
	capture(probes.AttnNorm, d, b.cur)
	for _, p := range []struct {
		slot probes.Slot
		dst  []float32
	}{{probes.Q, b.q}, {probes.K, b.k}, {probes.V, b.v}} {
		if err := e.project(l, p.slot, p.dst, b.cur, T); err != nil {
			return err
		}
	}
	capture(probes.Q, qd, b.q)
	capture(probes.K, kvd, b.k)
	capture(probes.V, kvd, b.v)
	if c.Arch.QKNorm {
		e.qkNorm(l, probes.QNorm, b.q)
		e.qkNorm(l, probes.KNorm, b.k)
		capture(probes.QNorm, qd, b.q)
		capture(probes.KNorm, kvd, b.k)
	}
	decode := step > 0
	e.rope(l, b.q, c.NHead, pos0, decode, &b.rope)
	e.rope(l, b.k, c.NHeadKV, pos0, decode, &b.rope)
	capture(probes.QRope, qd, b.q)
	capture(probes.KRope, kvd, b.k)

	e.store(l, kv, b.k, b.v, decode)
	e.attention(l, b, kv, pos0)
	capture(probes.AttnCtx, qd, b.ctx)

	if err := e.mm.mul(b.attnOut, lw.wo, b.ctx, T); err != nil {
		return err
	}
	capture(probes.AttnOut, d, b.attnOut)
	addInto(x, b.attnOut)
	capture(probes.AttnResid, d, x)

	rmsNorm(b.cur, x, lw.ffnNorm, d, c.RMSEps)
	capture(probes.FFNNorm, d, b.cur)
	if err := e.mm.mul(b.gate, lw.wGate, b.cur, T); err != nil {
		return err
	}
	if err := e.mm.mul(b.up, lw.wUp, b.cur, T); err != nil {
		return err
	}
	capture(probes.FFNGate, c.NFF, b.gate)
	capture(probes.FFNUp, c.NFF, b.up)
	e.activate(l, b.gate)
	capture(probes.FFNAct, c.NFF, b.gate)
	mulInto(b.gate, b.up)
	capture(probes.FFNSwiGLU, c.NFF, b.gate)
	if err := e.mm.mul(b.ffnOut, lw.wDown, b.gate, T); err != nil {
		return err
	}
	capture(probes.FFNOut, d, b.ffnOut)
	addInto(x, b.ffnOut)
	capture(probes.Out, d, x)
	return nil
}

// attnNorm is the attention RMSNorm of x into dst. Fault RMSEps: eps faults.WrongEps.
func (e *Engine) attnNorm(l int, dst, x []float32) {
	eps := e.cfg.RMSEps
	if e.opts.Faults.At(faults.RMSEps, l) {
		eps = faults.WrongEps
	}
	rmsNorm(dst, x, e.layers[l].attnNorm, e.cfg.NEmbd, eps)
}

// project computes the q, k or v projection of the T rows of in, plus the
// bias when the architecture has one. Fault SkipQKVBias leaves it out.
func (e *Engine) project(l int, slot probes.Slot, dst, in []float32, T int) error {
	lw := &e.layers[l]
	w, bias := lw.wq, lw.qBias
	switch slot {
	case probes.K:
		w, bias = lw.wk, lw.kBias
	case probes.V:
		w, bias = lw.wv, lw.vBias
	}
	if err := e.mm.mul(dst, w, in, T); err != nil {
		return err
	}
	if !e.opts.Faults.At(faults.SkipQKVBias, l) {
		addRows(dst, bias)
	}
	return nil
}

// qkNorm is qwen3's RMSNorm of every q or k head on its own, in place,
// before RoPE. Fault SkipQKNorm leaves x as it is.
func (e *Engine) qkNorm(l int, slot probes.Slot, x []float32) {
	if e.opts.Faults.At(faults.SkipQKNorm, l) {
		return
	}
	w := e.layers[l].qNorm
	if slot == probes.KNorm {
		w = e.layers[l].kNorm
	}
	rmsNorm(x, x, w, e.cfg.HeadDim, e.cfg.RMSEps)
}

// rope rotates the nHeads heads of every row of x in place, row t at
// position pos0+t, with the angles of tab (refilled when it holds other
// positions). Faults: RopeStyle swaps NORM and NEOX pairing; DecodeRopePos
// rotates the rows of a decode step for position p+1.
func (e *Engine) rope(l int, x []float32, nHeads, pos0 int, decode bool, tab *ropeTable) {
	c, hd := e.cfg, e.cfg.HeadDim
	neox := c.Arch.Rope == model.RopeNeox
	if e.opts.Faults.At(faults.RopeStyle, l) {
		neox = !neox
	}
	if decode && e.opts.Faults.At(faults.DecodeRopePos, l) {
		pos0++
	}
	w := nHeads * hd
	T := len(x) / w
	tab.fill(pos0, T, c.RopeDim, c.RopeBase, c.RopeScale)
	for t := 0; t < T; t++ {
		for h := 0; h < nHeads; h++ {
			tab.rotate(x[t*w+h*hd:t*w+(h+1)*hd], t, neox)
		}
	}
}

// store appends the batch's keys and values to the cache. Faults: KVF16
// rounds what is stored to f16 (every step); on decode steps only, SwapKV
// stores K in the V cache and V in the K cache, and StaleKV also writes
// the new rows over the previous positions' rows.
func (e *Engine) store(l int, kv *kvLayer, k, v []float32, decode bool) {
	if decode && e.opts.Faults.At(faults.SwapKV, l) {
		k, v = v, k
	}
	start := len(kv.k)
	kv.k = append(kv.k, k...)
	kv.v = append(kv.v, v...)
	if e.opts.Faults.At(faults.KVF16, l) {
		roundF16(kv.k[start:])
		roundF16(kv.v[start:])
	}
	if n := len(k); decode && start >= n && e.opts.Faults.At(faults.StaleKV, l) {
		copy(kv.k[start-n:start], kv.k[start:])
		copy(kv.v[start-n:start], kv.v[start:])
	}
}

// attention fills b.ctx: for batch row t (position pos0+t) and query head
// h, softmax attention over cached positions 0..pos0+t of KV head
// h/(n_head/n_head_kv), scaled by 1/√hd. The (t, h) pairs are independent
// and each is computed by one worker, so threads do not change the result.
// Faults: AttnScale scales by 1/hd; GQAMap reads KV head h mod n_head_kv.
func (e *Engine) attention(l int, b *batch, kv *kvLayer, pos0 int) {
	c := e.cfg
	hd, qd, kvd := c.HeadDim, c.QDim(), c.KVDim()
	scale := 1 / math.Sqrt(float64(hd))
	if e.opts.Faults.At(faults.AttnScale, l) {
		scale = 1 / float64(hd)
	}
	group := c.NHead / c.NHeadKV
	gqaMod := e.opts.Faults.At(faults.GQAMap, l)
	parallel(e.opts.Threads, b.T*c.NHead, func(wi, i int) {
		t, h := i/c.NHead, i%c.NHead
		kvh := h / group
		if gqaMod {
			kvh = h % c.NHeadKV
		}
		q := b.q[t*qd+h*hd : t*qd+(h+1)*hd]
		out := b.ctx[t*qd+h*hd : t*qd+(h+1)*hd]
		attendHead(out, q, kv.k, kv.v, pos0+t+1, kvd, kvh*hd, scale, b.scores[wi], b.acc[wi])
	})
}

// activate applies the FFN activation to the gate in place: SiLU, or under
// the GELU fault the tanh approximation of GELU.
func (e *Engine) activate(l int, gate []float32) {
	f := silu
	if e.opts.Faults.At(faults.GELU, l) {
		f = geluTanh
	}
	for i, g := range gate {
		gate[i] = f(g)
	}
}

// addRows adds bias to every row of x (rows of len(bias)); nil adds nothing.
func addRows(x, bias []float32) {
	if bias == nil {
		return
	}
	for r := 0; r < len(x); r += len(bias) {
		row := x[r : r+len(bias)]
		for i, v := range bias {
			row[i] += v
		}
	}
}

// addInto adds y to x element-wise (the residual connection, in f32).
func addInto(x, y []float32) {
	for i, v := range y {
		x[i] += v
	}
}

// mulInto multiplies x by y element-wise in f32 (silu(gate)·up).
func mulInto(x, y []float32) {
	for i, v := range y {
		x[i] *= v
	}
}

// roundF16 rounds every value to the nearest f16 (what an f16 KV cache
// keeps of it), in place.
func roundF16(x []float32) {
	for i, v := range x {
		x[i] = quant.FP16ToFP32(quant.FP32ToFP16(v))
	}
}
