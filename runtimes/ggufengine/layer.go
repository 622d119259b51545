package ggufengine

import (
	"math"
	"unsafe"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/model"
)

// scratch holds the activations of one batch of T tokens, reused across
// layers so a forward pass allocates once.
type scratch struct {
	T                    int
	resid                []float32 // [T × d] the residual stream (Forward only)
	cur, attnOut, ffnOut []float32 // [T × d]
	q, ctx               []float32 // [T × n_head·hd]
	k, v                 []float32 // [T × n_kv·hd]
	gate, up             []float32 // [T × ff]
	scores, rope         []float32
}

func newScratch(c *model.Config, T int) *scratch {
	d, q, kv, ff := c.NEmbd, c.QDim(), c.KVDim(), c.NFF
	return &scratch{
		T: T, resid: make([]float32, T*d), cur: make([]float32, T*d), attnOut: make([]float32, T*d), ffnOut: make([]float32, T*d),
		q: make([]float32, T*q), ctx: make([]float32, T*q), k: make([]float32, T*kv), v: make([]float32, T*kv),
		gate: make([]float32, T*ff), up: make([]float32, T*ff), rope: make([]float32, c.HeadDim),
	}
}

// scratchFor returns the engine's scratch for a batch of T tokens, reusing
// the previous one when it has the same size: a decode step allocates no
// activations (only the logits it returns).
func (e *Engine) scratchFor(T int) *scratch {
	if e.scr == nil || e.scr.T != T {
		e.scr = newScratch(e.cfg, T)
	}
	return e.scr
}

// kvLayer is one layer's cache: row p holds the key (value) of position p,
// all KV heads side by side. With an f16 cache the stored floats are the
// f16-rounded values, which is all the arithmetic ever sees of them.
type kvLayer struct{ k, v []float32 }

func (kv *kvLayer) reset() { kv.k, kv.v = kv.k[:0], kv.v[:0] }

// layer runs transformer block l over the batch in x ([T × d], updated in
// place to the block's output) against the layer's cache kv, recording
// every slot in execution order. Each operation is a method of its own, so
// ReplayOp can run exactly the same code on another run's inputs.
func (e *Engine) layer(l int, x []float32, pos0, step int, kv *kvLayer, s *scratch, rec *probes.Recorder) error {
	c, T, d, ff := e.cfg, s.T, e.cfg.NEmbd, e.cfg.NFF
	qd, kvd := c.QDim(), c.KVDim()
	capture := func(slot probes.Slot, n int, data []float32) { rec.Capture(step, l, slot, pos0, n, data) }

	e.attnNorm(l, s.cur, x)
	capture(probes.AttnNorm, d, s.cur)
	for _, p := range []struct {
		slot probes.Slot
		dst  []float32
	}{{probes.Q, s.q}, {probes.K, s.k}, {probes.V, s.v}} {
		if err := e.project(l, p.slot, p.dst, s.cur, T); err != nil {
			return err
		}
	}
	capture(probes.Q, qd, s.q)
	capture(probes.K, kvd, s.k)
	capture(probes.V, kvd, s.v)
	if c.Arch.QKNorm {
		e.qkNorm(l, probes.QNorm, s.q)
		e.qkNorm(l, probes.KNorm, s.k)
		capture(probes.QNorm, qd, s.q)
		capture(probes.KNorm, kvd, s.k)
	}
	decode := step > 0
	e.rope(l, s.q, c.NHead, pos0, decode, s.rope)
	e.rope(l, s.k, c.NHeadKV, pos0, decode, s.rope)
	capture(probes.QRope, qd, s.q)
	capture(probes.KRope, kvd, s.k)

	e.store(l, kv, s.k, s.v, decode)
	e.attention(l, s, kv, pos0)
	capture(probes.AttnCtx, qd, s.ctx)

	if err := e.matmul(s.attnOut, e.layers[l].wo, s.ctx, T); err != nil {
		return err
	}
	capture(probes.AttnOut, d, s.attnOut)
	addTo(x, s.attnOut)
	capture(probes.AttnResid, d, x)

	rmsNormMul(s.cur, x, e.layers[l].ffnNorm, d, c.RMSEps)
	capture(probes.FFNNorm, d, s.cur)
	if err := e.matmul(s.gate, e.layers[l].wGate, s.cur, T); err != nil {
		return err
	}
	if err := e.matmul(s.up, e.layers[l].wUp, s.cur, T); err != nil {
		return err
	}
	capture(probes.FFNGate, ff, s.gate)
	capture(probes.FFNUp, ff, s.up)
	e.activate(l, s.gate)
	capture(probes.FFNAct, ff, s.gate)
	mulInto(s.gate, s.up)
	capture(probes.FFNSwiGLU, ff, s.gate)
	if err := e.matmul(s.ffnOut, e.layers[l].wDown, s.gate, T); err != nil {
		return err
	}
	capture(probes.FFNOut, d, s.ffnOut)
	addTo(x, s.ffnOut)
	capture(probes.Out, d, x)
	return nil
}

// attnNorm is RMS_NORM then MUL by attn_norm.weight. Fault RMSEps: eps faults.WrongEps.
func (e *Engine) attnNorm(l int, dst, x []float32) {
	eps := e.cfg.RMSEps
	if e.opts.Faults.At(faults.RMSEps, l) {
		eps = faults.WrongEps
	}
	rmsNormMul(dst, x, e.layers[l].attnNorm, e.cfg.NEmbd, eps)
}

// project computes the q, k or v projection (MUL_MAT, then the bias ADD
// when the architecture has one). Fault SkipQKVBias leaves the bias out.
func (e *Engine) project(l int, slot probes.Slot, dst, in []float32, T int) error {
	lw := &e.layers[l]
	w, b := lw.wq, lw.qBias
	switch slot {
	case probes.K:
		w, b = lw.wk, lw.kBias
	case probes.V:
		w, b = lw.wv, lw.vBias
	}
	if err := e.matmul(dst, w, in, T); err != nil {
		return err
	}
	if !e.opts.Faults.At(faults.SkipQKVBias, l) {
		addBias(dst, b)
	}
	return nil
}

// qkNorm is qwen3's per-head RMSNorm of q or k, in place: each [hd] row is
// one RMS_NORM row. Fault SkipQKNorm leaves the input as it is.
func (e *Engine) qkNorm(l int, slot probes.Slot, x []float32) {
	if e.opts.Faults.At(faults.SkipQKNorm, l) {
		return
	}
	w := e.layers[l].qNorm
	if slot == probes.KNorm {
		w = e.layers[l].kNorm
	}
	rmsNormMul(x, x, w, e.cfg.HeadDim, e.cfg.RMSEps)
}

// rope rotates the nHeads heads of every row of x in place, row t at
// position pos0+t. Faults: RopeStyle swaps NORM and NEOX pairing;
// DecodeRopePos rotates single-token steps for position p+1.
func (e *Engine) rope(l int, x []float32, nHeads, pos0 int, decode bool, cache []float32) {
	c, hd := e.cfg, e.cfg.HeadDim
	neox := c.Arch.Rope == model.RopeNeox
	if e.opts.Faults.At(faults.RopeStyle, l) {
		neox = !neox
	}
	if decode && e.opts.Faults.At(faults.DecodeRopePos, l) {
		pos0++
	}
	thetaScale := ropeThetaScale(c.RopeBase, c.RopeDim)
	w := nHeads * hd
	for t := 0; t*w < len(x); t++ {
		ropeCache(cache, pos0+t, thetaScale, c.RopeScale)
		for h := 0; h < nHeads; h++ {
			ropeHead(x[t*w+h*hd:t*w+(h+1)*hd], cache, c.RopeDim, neox)
		}
	}
}

// store appends the batch's keys and values to the cache (SET_ROWS), rounded
// to f16 for an f16 cache, and with flash attention, which casts an f32
// cache to f16 before reading it. Faults (decode steps only): SwapKV stores K in
// the V cache and V in the K cache; StaleKV also writes the new row over the
// previous position's. KVF16 rounds on store whatever the cache type.
func (e *Engine) store(l int, kv *kvLayer, k, v []float32, decode bool) {
	if decode && e.opts.Faults.At(faults.SwapKV, l) {
		k, v = v, k
	}
	start := len(kv.k)
	kv.k = append(kv.k, k...)
	kv.v = append(kv.v, v...)
	if e.opts.KVType == ggml.F16 || e.opts.FlashAttn || e.opts.Faults.At(faults.KVF16, l) {
		roundF16(kv.k[start:])
		roundF16(kv.v[start:])
	}
	if n := len(k); decode && start >= n && e.opts.Faults.At(faults.StaleKV, l) {
		copy(kv.k[start-n:start], kv.k[start:])
		copy(kv.v[start-n:start], kv.v[start:])
	}
}

// activate applies the FFN activation to the gate in place: SiLU, or GELU
// (tanh approximation, ggml_gelu_f32) under the GELU fault.
func (e *Engine) activate(l int, gate []float32) {
	if !e.opts.Faults.At(faults.GELU, l) {
		siluRows(gate, e.cfg.NFF)
		return
	}
	for i, x := range gate {
		gate[i] = float32(0.5 * float64(x) * (1 + math.Tanh(0.7978845608028654*(float64(x)+0.044715*float64(x)*float64(x)*float64(x)))))
	}
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

// addTo is ggml's f32 ADD into x (the residual connections).
func addTo(x, y []float32) {
	for i := range x {
		x[i] += y[i]
	}
}

// mulInto multiplies x by y element-wise: silu(gate)·up, the product half
// of ggml_vec_swiglu_f32.
func mulInto(x, y []float32) {
	for i := range x {
		x[i] *= y[i]
	}
}

// f32Bytes reinterprets f32 values as the little-endian bytes of an F32 tensor.
func f32Bytes(f []float32) []byte {
	if len(f) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), len(f)*4)
}
