package aprengine

import (
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/model"
)

// batch holds the activations of one Forward call (T positions from pos0),
// reused by every layer.
type batch struct {
	pos0, T              int
	cur, attnOut, ffnOut []float32 // [T × d]
	q, ctx               []float32 // [T × n_head·hd]
	k, v                 []float32 // [T × n_kv·hd]
	gate, up             []float32 // [T × ff]
	rope                 *ropeTable
	// per-worker attention scratch: scores over every visible position
	// and the float64 accumulator of one head's output.
	scores, acc [][]float64
}

func newBatch(c *model.Config, pos0, T, threads int) *batch {
	d, q, kv, ff := c.NEmbd, c.QDim(), c.KVDim(), c.NFF
	b := &batch{
		pos0: pos0, T: T,
		cur: make([]float32, T*d), attnOut: make([]float32, T*d), ffnOut: make([]float32, T*d),
		q: make([]float32, T*q), ctx: make([]float32, T*q), k: make([]float32, T*kv), v: make([]float32, T*kv),
		gate: make([]float32, T*ff), up: make([]float32, T*ff),
		rope:   newRopeTable(pos0, T, c.RopeDim, c.RopeBase, c.RopeScale),
		scores: make([][]float64, threads), acc: make([][]float64, threads),
	}
	for i := range b.scores {
		b.scores[i] = make([]float64, pos0+T)
		b.acc[i] = make([]float64, c.HeadDim)
	}
	return b
}

// layer runs transformer block l over the batch's residual stream x
// ([T × d], updated in place to the block's output), recording every slot
// for every position in the order ggufengine records them.
func (e *Engine) layer(l int, x []float32, b *batch, step int, rec *probes.Recorder) error {
	c, lw, T, pos0 := e.cfg, &e.layers[l], b.T, b.pos0
	d, hd, qd, kvd := c.NEmbd, c.HeadDim, c.QDim(), c.KVDim()

	rmsNorm(b.cur, x, lw.attnNorm, d, c.RMSEps)
	rec.Capture(step, l, probes.AttnNorm, pos0, d, b.cur)

	for _, p := range []struct {
		dst  []float32
		w    *model.Tensor
		bias []float32
	}{{b.q, lw.wq, lw.qBias}, {b.k, lw.wk, lw.kBias}, {b.v, lw.wv, lw.vBias}} {
		if err := e.mm.mul(p.dst, p.w, b.cur, T); err != nil {
			return err
		}
		addRows(p.dst, p.bias)
	}
	rec.Capture(step, l, probes.Q, pos0, qd, b.q)
	rec.Capture(step, l, probes.K, pos0, kvd, b.k)
	rec.Capture(step, l, probes.V, pos0, kvd, b.v)

	if c.Arch.QKNorm {
		// qwen3: every head is RMS-normalised on its own, before RoPE.
		rmsNorm(b.q, b.q, lw.qNorm, hd, c.RMSEps)
		rmsNorm(b.k, b.k, lw.kNorm, hd, c.RMSEps)
		rec.Capture(step, l, probes.QNorm, pos0, qd, b.q)
		rec.Capture(step, l, probes.KNorm, pos0, kvd, b.k)
	}

	neox := c.Arch.Rope == model.RopeNeox
	for t := 0; t < T; t++ {
		for h := 0; h < c.NHead; h++ {
			b.rope.rotate(b.q[t*qd+h*hd:t*qd+(h+1)*hd], t, neox)
		}
		for h := 0; h < c.NHeadKV; h++ {
			b.rope.rotate(b.k[t*kvd+h*hd:t*kvd+(h+1)*hd], t, neox)
		}
	}
	rec.Capture(step, l, probes.QRope, pos0, qd, b.q)
	rec.Capture(step, l, probes.KRope, pos0, kvd, b.k)

	e.kCache[l] = append(e.kCache[l], b.k...)
	e.vCache[l] = append(e.vCache[l], b.v...)
	e.attention(l, b)
	rec.Capture(step, l, probes.AttnCtx, pos0, qd, b.ctx)

	if err := e.mm.mul(b.attnOut, lw.wo, b.ctx, T); err != nil {
		return err
	}
	rec.Capture(step, l, probes.AttnOut, pos0, d, b.attnOut)
	addInto(x, b.attnOut)
	rec.Capture(step, l, probes.AttnResid, pos0, d, x)

	rmsNorm(b.cur, x, lw.ffnNorm, d, c.RMSEps)
	rec.Capture(step, l, probes.FFNNorm, pos0, d, b.cur)
	if err := e.mm.mul(b.gate, lw.wGate, b.cur, T); err != nil {
		return err
	}
	if err := e.mm.mul(b.up, lw.wUp, b.cur, T); err != nil {
		return err
	}
	rec.Capture(step, l, probes.FFNGate, pos0, c.NFF, b.gate)
	rec.Capture(step, l, probes.FFNUp, pos0, c.NFF, b.up)
	for i, g := range b.gate {
		b.gate[i] = silu(g)
	}
	rec.Capture(step, l, probes.FFNAct, pos0, c.NFF, b.gate)
	for i, u := range b.up {
		b.gate[i] *= u
	}
	rec.Capture(step, l, probes.FFNSwiGLU, pos0, c.NFF, b.gate)
	if err := e.mm.mul(b.ffnOut, lw.wDown, b.gate, T); err != nil {
		return err
	}
	rec.Capture(step, l, probes.FFNOut, pos0, d, b.ffnOut)
	addInto(x, b.ffnOut)
	rec.Capture(step, l, probes.Out, pos0, d, x)
	return nil
}

// attention fills b.ctx: for batch row t (position pos0+t) and query head
// h, softmax attention over cached positions 0..pos0+t of KV head
// h/(n_head/n_head_kv). The (t, h) pairs are independent and each is
// computed by one worker, so threads do not change the result.
func (e *Engine) attention(l int, b *batch) {
	c := e.cfg
	hd, qd, kvd := c.HeadDim, c.QDim(), c.KVDim()
	group := c.NHead / c.NHeadKV
	keys, values := e.kCache[l], e.vCache[l]
	parallel(e.opts.Threads, b.T*c.NHead, func(wi, i int) {
		t, h := i/c.NHead, i%c.NHead
		q := b.q[t*qd+h*hd : t*qd+(h+1)*hd]
		out := b.ctx[t*qd+h*hd : t*qd+(h+1)*hd]
		attendHead(out, q, keys, values, b.pos0+t+1, kvd, (h/group)*hd, b.scores[wi], b.acc[wi])
	})
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
