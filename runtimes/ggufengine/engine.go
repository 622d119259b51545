package ggufengine

import (
	"context"
	"fmt"
	"runtime"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/runtimes/quant"
)

// Options configure an Engine.
type Options struct {
	// Threads for the matmuls; 0 means runtime.NumCPU(). Results do not
	// depend on it.
	Threads int
	// KVType is the KV cache element type: ggml.F32 (default, llama.cpp's
	// exact mode) or ggml.F16 (llama.cpp's default cache).
	KVType ggml.Type
	// FlashAttn computes attention as ggml-cpu's flash attention kernels
	// do (flashattn.go), which read K and V as f16 whatever KVType says.
	// With KVType F16 it is llama.cpp's default mode (-fa auto, which is
	// on for CPU, with the f16 cache); without it attention is the
	// non-flash path (-fa off).
	FlashAttn bool
	// MaxContext bounds the KV cache; 0 means the model's training context,
	// or 4096 when the file does not say.
	MaxContext int
	// Faults are planted bugs, for tests and parity selftest. Empty: clean.
	Faults faults.Set
	// F32Activations multiplies the dequantized weights with the f32
	// activations instead of quantizing the activations first. It is not
	// what llama.cpp does: parity runs the engine both ways on the same
	// weights to measure the noise floor that activation quantization alone
	// causes, and derives its tolerance budgets from it.
	F32Activations bool
	// GenericMatMul sums matmuls in ggml's generic scalar order
	// (quant.KernelGeneric) instead of the order of the build that made
	// the llama.cpp recordings (quant.KernelX86AVX512: AVX-512, llamafile,
	// CPU_REPACK). An AVX2-only build of llama.cpp differs from both in
	// the last bits.
	GenericMatMul bool
	// LastLogits computes the LM head for the last position of each
	// Forward batch only, and Forward returns that one row: what llama.cpp
	// computes when only the last token's logits are asked for, as
	// llama-bench does. The LM head then multiplies a batch of one row,
	// as llama.cpp's does, so a repacked Q4_K head takes the GEMV order
	// even where the full batch would have put the last row in a GEMM
	// group; every other value is unchanged.
	LastLogits bool
}

// matrix is a weight matrix in a form the quant kernels take directly.
type matrix struct {
	name       string
	typ        ggml.Type
	data       []byte
	rows, cols int
}

type layerWeights struct {
	attnNorm, ffnNorm   []float32
	qBias, kBias, vBias []float32 // nil when the architecture has none
	qNorm, kNorm        []float32 // nil unless qwen3
	wq, wk, wv, wo      matrix
	wGate, wUp, wDown   matrix
}

// Engine runs one model. It is not safe for concurrent use.
type Engine struct {
	cfg     *model.Config
	opts    Options
	embd    *model.Tensor
	outNorm []float32
	lmHead  matrix
	layers  []layerWeights
	cache   []kvLayer
	scr     *scratch // the last Forward's activations, reused by the next of as many tokens
	nPast   int
	maxCtx  int
}

// New prepares an engine over w. Norm and bias vectors are decoded to f32
// once; matrices stay in their stored type (tensors in an APR-only block
// format, which ggml cannot multiply, are decoded to f32 here).
func New(w *model.Weights, o Options) (*Engine, error) {
	if o.Threads <= 0 {
		o.Threads = runtime.NumCPU()
	}
	if o.KVType == 0 {
		o.KVType = ggml.F32
	}
	if o.KVType != ggml.F32 && o.KVType != ggml.F16 {
		return nil, fmt.Errorf("ggufengine: KV cache type %s is not supported (f32 or f16)", o.KVType)
	}
	c := w.Config
	e := &Engine{cfg: c, opts: o, layers: make([]layerWeights, c.NLayer)}
	e.maxCtx = o.MaxContext
	if e.maxCtx <= 0 {
		e.maxCtx = c.NCtx
	}
	if e.maxCtx <= 0 {
		e.maxCtx = 4096
	}
	var err error
	if e.embd, err = w.Tensor(model.TokenEmbd, -1); err != nil {
		return nil, err
	}
	if e.outNorm, err = vector(w, model.OutputNorm, -1, true); err != nil {
		return nil, err
	}
	head, err := w.LMHead()
	if err != nil {
		return nil, err
	}
	if e.lmHead, err = asMatrix(head); err != nil {
		return nil, err
	}
	for l := range e.layers {
		lw := &e.layers[l]
		if lw.attnNorm, err = vector(w, model.AttnNorm, l, true); err != nil {
			return nil, err
		}
		if lw.ffnNorm, err = vector(w, model.FFNNorm, l, true); err != nil {
			return nil, err
		}
		for _, b := range []struct {
			r   model.Role
			dst *[]float32
		}{{model.AttnQBias, &lw.qBias}, {model.AttnKBias, &lw.kBias}, {model.AttnVBias, &lw.vBias}} {
			if *b.dst, err = vector(w, b.r, l, c.Arch.QKVBias); err != nil {
				return nil, err
			}
		}
		if c.Arch.QKNorm {
			if lw.qNorm, err = vector(w, model.AttnQNorm, l, true); err != nil {
				return nil, err
			}
			if lw.kNorm, err = vector(w, model.AttnKNorm, l, true); err != nil {
				return nil, err
			}
		}
		for _, m := range []struct {
			r   model.Role
			dst *matrix
		}{{model.AttnQ, &lw.wq}, {model.AttnK, &lw.wk}, {model.AttnV, &lw.wv}, {model.AttnOutput, &lw.wo},
			{model.FFNGate, &lw.wGate}, {model.FFNUp, &lw.wUp}, {model.FFNDown, &lw.wDown}} {
			t, err := w.Tensor(m.r, l)
			if err != nil {
				return nil, err
			}
			if *m.dst, err = asMatrix(t); err != nil {
				return nil, err
			}
		}
	}
	e.cache = make([]kvLayer, c.NLayer)
	return e, nil
}

// vector decodes a 1-D tensor to f32; absent optional tensors give nil.
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

func asMatrix(t *model.Tensor) (matrix, error) {
	m := matrix{name: t.Name, typ: t.Type, data: t.Data, rows: t.Rows(), cols: t.Cols()}
	if t.GGMLRows() {
		if _, ok := quant.VecDotType(t.Type); !ok {
			return m, fmt.Errorf("ggufengine: %s: no matmul kernel for %s weights", t.Name, t.Type)
		}
		return m, nil
	}
	f, err := t.Float32s()
	if err != nil {
		return m, err
	}
	m.typ, m.data = ggml.F32, f32Bytes(f)
	return m, nil
}

// Config returns the model configuration the engine runs.
func (e *Engine) Config() *model.Config { return e.cfg }

// Reset empties the KV cache so the next Forward starts at position 0.
func (e *Engine) Reset() {
	e.nPast = 0
	for i := range e.cache {
		e.cache[i].reset()
	}
}

// Pos is the number of tokens already in the KV cache.
func (e *Engine) Pos() int { return e.nPast }

// Forward runs tokens at positions Pos()..Pos()+len(tokens)-1 as one batch,
// appends their keys and values to the cache, records every slot as step
// `step`, and returns the logits of every position, row-major
// [len(tokens) × n_vocab] (of the last one only with Options.LastLogits).
func (e *Engine) Forward(ctx context.Context, step int, tokens []int32, rec *probes.Recorder) ([]float32, error) {
	c := e.cfg
	T := len(tokens)
	if T == 0 {
		return nil, fmt.Errorf("ggufengine: no tokens to run")
	}
	if e.nPast+T > e.maxCtx {
		return nil, fmt.Errorf("ggufengine: %d tokens exceed the context of %d (already %d in the cache)", T, e.maxCtx, e.nPast)
	}
	pos0 := e.nPast
	d := c.NEmbd
	s := e.scratchFor(T)
	x := s.resid
	for t, id := range tokens {
		if id < 0 || int(id) >= e.embd.Rows() {
			return nil, fmt.Errorf("ggufengine: token id %d at position %d is outside the vocabulary (0..%d)", id, pos0+t, e.embd.Rows()-1)
		}
		if err := e.embd.DequantizeRows(int(id), 1, x[t*d:(t+1)*d]); err != nil {
			return nil, err
		}
	}
	rec.Capture(step, -1, probes.Embed, pos0, d, x)
	for l := range e.layers {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := e.layer(l, x, pos0, step, &e.cache[l], s, rec); err != nil {
			return nil, err
		}
	}
	rmsNormMul(x, x, e.outNorm, d, c.RMSEps)
	rec.Capture(step, -1, probes.FinalNorm, pos0, d, x)
	nOut, posOut := T, pos0
	if e.opts.LastLogits {
		x, nOut, posOut = x[(T-1)*d:], 1, pos0+T-1
	}
	logits := make([]float32, nOut*c.NVocab)
	if err := e.matmul(logits, e.lmHead, x, nOut); err != nil {
		return nil, err
	}
	rec.Capture(step, -1, probes.Logits, posOut, c.NVocab, logits)
	e.nPast += T
	return logits, nil
}

// matmul computes dst[t·rows + r] = W[r] · x[t] for the T rows of x, in
// the summation order of the recording build unless Options.GenericMatMul.
// llama.cpp keeps token_embd out of the CPU_REPACK buffer (it is read with
// GET_ROWS), so a tied LM head is multiplied unrepacked.
func (e *Engine) matmul(dst []float32, w matrix, x []float32, T int) error {
	if e.opts.F32Activations {
		return e.matmulF32Act(dst, w, x, T)
	}
	k := quant.KernelX86AVX512
	switch {
	case e.opts.GenericMatMul:
		k = quant.KernelGeneric
	case w.name == e.embd.Name:
		k = quant.KernelX86AVX512NoRepack
	}
	if err := k.MatMul(dst, w.data, w.typ, w.rows, w.cols, x, T, e.opts.Threads); err != nil {
		return fmt.Errorf("ggufengine: %s: %w", w.name, err)
	}
	return nil
}
