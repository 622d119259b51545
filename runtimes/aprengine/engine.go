package aprengine

import (
	"context"
	"fmt"
	"runtime"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/runtimes/quant"
)

// Options configure an Engine.
type Options struct {
	// Threads for the matmuls and the attention heads; 0 means
	// runtime.NumCPU(). Results are bit-identical for every value.
	Threads int
	// MaxContext bounds the KV cache; 0 means the model's training
	// context, or 4096 when the file does not say.
	MaxContext int
	// Faults are planted bugs, for tests and parity selftest, applied as
	// ggufengine applies them. Empty: clean.
	Faults faults.Set
	// LastLogits computes the LM head for the last position of each
	// Forward batch only, and Forward returns that one row. Every other
	// value is unchanged.
	LastLogits bool
}

// layerWeights are one block's tensors: vectors decoded to f32 once,
// matrices left in the file (dequantized a tile at a time per matmul).
type layerWeights struct {
	attnNorm, ffnNorm   []float32
	qBias, kBias, vBias []float32 // nil unless the architecture has q/k/v biases
	qNorm, kNorm        []float32 // nil unless qwen3
	wq, wk, wv, wo      *model.Tensor
	wGate, wUp, wDown   *model.Tensor
}

// Engine runs one model. It is not safe for concurrent use.
type Engine struct {
	cfg     *model.Config
	opts    Options
	embd    *model.Tensor
	outNorm []float32
	lmHead  *model.Tensor
	layers  []layerWeights
	cache   []kvLayer // one per layer
	nPast   int
	maxCtx  int
	mm      *tiler
}

// New prepares an engine over w, which must stay open while the engine is
// used. Norm weights and biases are decoded to f32 here (they are vectors);
// matrices are only checked to be decodable.
func New(w *model.Weights, o Options) (*Engine, error) {
	if o.Threads <= 0 {
		o.Threads = runtime.NumCPU()
	}
	c := w.Config
	e := &Engine{cfg: c, opts: o, layers: make([]layerWeights, c.NLayer), mm: newTiler(o.Threads),
		cache: make([]kvLayer, c.NLayer)}
	e.maxCtx = o.MaxContext
	if e.maxCtx <= 0 {
		e.maxCtx = c.NCtx
	}
	if e.maxCtx <= 0 {
		e.maxCtx = 4096
	}
	var err error
	if e.embd, err = matrix(w, model.TokenEmbd, -1); err != nil {
		return nil, err
	}
	if e.outNorm, err = vector(w, model.OutputNorm, -1, true); err != nil {
		return nil, err
	}
	if e.lmHead, err = w.LMHead(); err != nil {
		return nil, err
	}
	if err := decodable(e.lmHead); err != nil {
		return nil, err
	}
	for l := range e.layers {
		lw := &e.layers[l]
		vectors := []vecRole{
			{model.AttnNorm, &lw.attnNorm, true}, {model.FFNNorm, &lw.ffnNorm, true},
			{model.AttnQBias, &lw.qBias, c.Arch.QKVBias}, {model.AttnKBias, &lw.kBias, c.Arch.QKVBias},
			{model.AttnVBias, &lw.vBias, c.Arch.QKVBias},
		}
		if c.Arch.QKNorm {
			vectors = append(vectors, vecRole{model.AttnQNorm, &lw.qNorm, true}, vecRole{model.AttnKNorm, &lw.kNorm, true})
		}
		for _, v := range vectors {
			if *v.dst, err = vector(w, v.r, l, v.required); err != nil {
				return nil, err
			}
		}
		for _, m := range []struct {
			r   model.Role
			dst **model.Tensor
		}{{model.AttnQ, &lw.wq}, {model.AttnK, &lw.wk}, {model.AttnV, &lw.wv}, {model.AttnOutput, &lw.wo},
			{model.FFNGate, &lw.wGate}, {model.FFNUp, &lw.wUp}, {model.FFNDown, &lw.wDown}} {
			if *m.dst, err = matrix(w, m.r, l); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

// vecRole names a vector tensor New decodes and where it goes.
type vecRole struct {
	r        model.Role
	dst      *[]float32
	required bool
}

// vector decodes a 1-D tensor to f32; an absent optional tensor gives nil.
func vector(w *model.Weights, r model.Role, layer int, required bool) ([]float32, error) {
	t, ok := w.Lookup(r, layer)
	if !ok {
		if required {
			_, err := w.Tensor(r, layer)
			return nil, err
		}
		return nil, nil
	}
	return t.Float32s()
}

// matrix looks a required matrix up and checks that it can be dequantized.
func matrix(w *model.Weights, r model.Role, layer int) (*model.Tensor, error) {
	t, err := w.Tensor(r, layer)
	if err != nil {
		return nil, err
	}
	return t, decodable(t)
}

func decodable(t *model.Tensor) error {
	if t.GGMLRows() && !quant.Supported(t.Type) {
		return fmt.Errorf("aprengine: %s: cannot dequantize %s weights", t.Name, t.Type)
	}
	return nil
}

// Config returns the model configuration the engine runs.
func (e *Engine) Config() *model.Config { return e.cfg }

// Reset empties the KV cache so the next Forward starts at position 0.
func (e *Engine) Reset() {
	e.nPast = 0
	e.truncate(0)
}

// Pos is the number of positions already in the KV cache.
func (e *Engine) Pos() int { return e.nPast }

// Forward runs tokens at positions Pos()..Pos()+len(tokens)−1 as one
// sequence (every query attends to the cached positions and to the batch's
// own earlier positions), appends their keys and values to the cache,
// records every slot for every position as step `step`, and returns the
// logits of every position, row-major [len(tokens) × n_vocab] (of the last
// one only with Options.LastLogits). On error
// the cache is left as it was before the call.
func (e *Engine) Forward(ctx context.Context, step int, tokens []int32, rec *probes.Recorder) ([]float32, error) {
	c := e.cfg
	T := len(tokens)
	if T == 0 {
		return nil, fmt.Errorf("aprengine: no tokens to run")
	}
	if e.nPast+T > e.maxCtx {
		return nil, fmt.Errorf("aprengine: %d tokens exceed the context of %d (already %d in the cache)", T, e.maxCtx, e.nPast)
	}
	pos0, d := e.nPast, c.NEmbd
	x := make([]float32, T*d)
	for t, id := range tokens {
		if id < 0 || int(id) >= e.embd.Rows() {
			return nil, fmt.Errorf("aprengine: token id %d at position %d is outside the vocabulary (0..%d)", id, pos0+t, e.embd.Rows()-1)
		}
		if err := e.embd.DequantizeRows(int(id), 1, x[t*d:(t+1)*d]); err != nil {
			return nil, fmt.Errorf("aprengine: %w", err)
		}
	}
	rec.Capture(step, -1, probes.Embed, pos0, d, x)

	b := newBatch(c, pos0+T, T, e.opts.Threads)
	for l := range e.layers {
		err := ctx.Err()
		if err == nil {
			err = e.layer(l, x, pos0, step, &e.cache[l], b, rec)
		}
		if err != nil {
			e.truncate(pos0)
			return nil, err
		}
	}
	rmsNorm(x, x, e.outNorm, d, c.RMSEps)
	rec.Capture(step, -1, probes.FinalNorm, pos0, d, x)
	nOut, posOut := T, pos0
	if e.opts.LastLogits {
		x, nOut, posOut = x[(T-1)*d:], 1, pos0+T-1
	}
	logits := make([]float32, nOut*c.NVocab)
	if err := e.mm.mul(logits, e.lmHead, x, nOut); err != nil {
		e.truncate(pos0)
		return nil, err
	}
	rec.Capture(step, -1, probes.Logits, posOut, c.NVocab, logits)
	e.nPast += T
	return logits, nil
}

// truncate drops cached positions from pos on (undoing a failed Forward;
// a row the StaleKV fault overwrote stays overwritten).
func (e *Engine) truncate(pos int) {
	n := pos * e.cfg.KVDim()
	for l := range e.cache {
		kv := &e.cache[l]
		kv.k, kv.v = kv.k[:min(n, len(kv.k))], kv.v[:min(n, len(kv.v))]
	}
}
