package ggufengine

import (
	"unsafe"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/model"
)

// scratch holds the activations of one batch of T tokens, reused across
// layers so a forward pass allocates once.
type scratch struct {
	T                    int
	cur, attnOut, ffnOut []float32 // [T × d]
	q, ctx               []float32 // [T × n_head·hd]
	k, v                 []float32 // [T × n_kv·hd]
	gate, up             []float32 // [T × ff]
	scores, rope         []float32
}

func newScratch(c *model.Config, T int) *scratch {
	d, q, kv, ff := c.NEmbd, c.QDim(), c.KVDim(), c.NFF
	return &scratch{
		T: T, cur: make([]float32, T*d), attnOut: make([]float32, T*d), ffnOut: make([]float32, T*d),
		q: make([]float32, T*q), ctx: make([]float32, T*q), k: make([]float32, T*kv), v: make([]float32, T*kv),
		gate: make([]float32, T*ff), up: make([]float32, T*ff), rope: make([]float32, c.HeadDim),
	}
}

// kvLayer is one layer's cache: row p holds the key (value) of position p,
// all KV heads side by side. With an f16 cache the stored floats are the
// f16-rounded values, which is all the arithmetic ever sees of them.
type kvLayer struct{ k, v []float32 }

func (kv *kvLayer) reset() { kv.k, kv.v = kv.k[:0], kv.v[:0] }

// layer runs transformer block l over the batch in x ([T × d], updated in
// place to the block's output), recording every slot in execution order.
func (e *Engine) layer(l int, x []float32, pos0, step int, s *scratch, rec *probes.Recorder) error {
	c, lw, T, d := e.cfg, &e.layers[l], s.T, e.cfg.NEmbd
	hd, qd, kvd := c.HeadDim, c.QDim(), c.KVDim()

	rmsNormMul(s.cur, x, lw.attnNorm, d, c.RMSEps)
	rec.Capture(step, l, probes.AttnNorm, pos0, d, s.cur)

	if err := e.matmul(s.q, lw.wq, s.cur, T); err != nil {
		return err
	}
	addBias(s.q, lw.qBias)
	if err := e.matmul(s.k, lw.wk, s.cur, T); err != nil {
		return err
	}
	addBias(s.k, lw.kBias)
	if err := e.matmul(s.v, lw.wv, s.cur, T); err != nil {
		return err
	}
	addBias(s.v, lw.vBias)
	rec.Capture(step, l, probes.Q, pos0, qd, s.q)
	rec.Capture(step, l, probes.K, pos0, kvd, s.k)
	rec.Capture(step, l, probes.V, pos0, kvd, s.v)

	if c.Arch.QKNorm {
		// qwen3: each head is RMS-normalised on its own (a [hd] row).
		rmsNormMul(s.q, s.q, lw.qNorm, hd, c.RMSEps)
		rmsNormMul(s.k, s.k, lw.kNorm, hd, c.RMSEps)
		rec.Capture(step, l, probes.QNorm, pos0, qd, s.q)
		rec.Capture(step, l, probes.KNorm, pos0, kvd, s.k)
	}

	thetaScale := ropeThetaScale(c.RopeBase, c.RopeDim)
	neox := c.Arch.Rope == model.RopeNeox
	for t := 0; t < T; t++ {
		ropeCache(s.rope, pos0+t, thetaScale, c.RopeScale)
		for h := 0; h < c.NHead; h++ {
			ropeHead(s.q[t*qd+h*hd:t*qd+(h+1)*hd], s.rope, c.RopeDim, neox)
		}
		for h := 0; h < c.NHeadKV; h++ {
			ropeHead(s.k[t*kvd+h*hd:t*kvd+(h+1)*hd], s.rope, c.RopeDim, neox)
		}
	}
	rec.Capture(step, l, probes.QRope, pos0, qd, s.q)
	rec.Capture(step, l, probes.KRope, pos0, kvd, s.k)

	kv := &e.cache[l]
	start := len(kv.k)
	kv.k = append(kv.k, s.k...)
	kv.v = append(kv.v, s.v...)
	if e.opts.KVType == ggml.F16 {
		roundF16(kv.k[start:])
		roundF16(kv.v[start:])
		roundF16(s.q) // the f16 K·Q dot converts Q to f16 first
	}
	e.attention(s, kv, pos0)
	rec.Capture(step, l, probes.AttnCtx, pos0, qd, s.ctx)

	if err := e.matmul(s.attnOut, lw.wo, s.ctx, T); err != nil {
		return err
	}
	rec.Capture(step, l, probes.AttnOut, pos0, d, s.attnOut)
	for i := range x {
		x[i] += s.attnOut[i]
	}
	rec.Capture(step, l, probes.AttnResid, pos0, d, x)

	rmsNormMul(s.cur, x, lw.ffnNorm, d, c.RMSEps)
	rec.Capture(step, l, probes.FFNNorm, pos0, d, s.cur)
	if err := e.matmul(s.gate, lw.wGate, s.cur, T); err != nil {
		return err
	}
	if err := e.matmul(s.up, lw.wUp, s.cur, T); err != nil {
		return err
	}
	rec.Capture(step, l, probes.FFNGate, pos0, c.NFF, s.gate)
	rec.Capture(step, l, probes.FFNUp, pos0, c.NFF, s.up)
	siluRows(s.gate, c.NFF)
	rec.Capture(step, l, probes.FFNAct, pos0, c.NFF, s.gate)
	for i, u := range s.up {
		s.gate[i] *= u
	}
	rec.Capture(step, l, probes.FFNSwiGLU, pos0, c.NFF, s.gate)
	if err := e.matmul(s.ffnOut, lw.wDown, s.gate, T); err != nil {
		return err
	}
	rec.Capture(step, l, probes.FFNOut, pos0, d, s.ffnOut)
	for i := range x {
		x[i] += s.ffnOut[i]
	}
	rec.Capture(step, l, probes.Out, pos0, d, x)
	return nil
}

func addBias(x, b []float32) {
	if b == nil {
		return
	}
	for r := 0; r < len(x); r += len(b) {
		row := x[r : r+len(b)]
		for i, v := range b {
			row[i] += v
		}
	}
}

// f32Bytes reinterprets f32 values as the little-endian bytes of an F32 tensor.
func f32Bytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), len(f)*4)
}
