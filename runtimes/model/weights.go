package model

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/layerwise/parity/runtimes/apr"
	"github.com/layerwise/parity/runtimes/gguf"
)

// Weights is what an engine reads a model through: the configuration, the
// tensors by role and layer, and the tokenizer vocabulary. It hides the file
// format, which is what lets either engine run either file.
type Weights struct {
	Path   string
	Format string // "gguf" or "apr"
	Config *Config

	tensors map[string]*Tensor
	names   []string // file order
	// hfFirst makes lookups try Hugging Face names before GGUF names (APR).
	hfFirst bool
	closer  io.Closer
	gf      *gguf.File // set for GGUF files: the tokenizer vocabulary is read from it
	af      *apr.File  // set for APR files, likewise
}

// ErrMissingTensor is wrapped by lookups of a required tensor that is absent.
var ErrMissingTensor = errors.New("model: missing tensor")

// ErrShape is wrapped when a tensor's shape disagrees with the dimensions
// the file's metadata declares.
var ErrShape = errors.New("model: tensor shape does not match the metadata")

// Close releases the file mapping. Tensors must not be used afterwards.
func (w *Weights) Close() error {
	if w.closer == nil {
		return nil
	}
	return w.closer.Close()
}

// Names lists the tensors in file order.
func (w *Weights) Names() []string { return w.names }

// ByName returns a tensor by its name in the file.
func (w *Weights) ByName(name string) (*Tensor, bool) {
	t, ok := w.tensors[name]
	return t, ok
}

// Lookup returns the tensor for a role, trying the file's own naming
// convention first and the other one second (realizar's get_hf_or_gguf).
func (w *Weights) Lookup(r Role, layer int) (*Tensor, bool) {
	first, second := r.GGUFName(layer), r.HFName(layer)
	if w.hfFirst {
		first, second = second, first
	}
	if t, ok := w.tensors[first]; ok {
		return t, true
	}
	t, ok := w.tensors[second]
	return t, ok
}

// Tensor returns the tensor for a role and fails if it is absent.
func (w *Weights) Tensor(r Role, layer int) (*Tensor, error) {
	if t, ok := w.Lookup(r, layer); ok {
		return t, nil
	}
	name := r.GGUFName(layer)
	if w.hfFirst {
		name = r.HFName(layer)
	}
	return nil, fmt.Errorf("%w %s in %s", ErrMissingTensor, name, w.Path)
}

// LMHead is the output projection: output.weight, or token_embd when the
// embeddings are tied (llama.cpp falls back the same way).
func (w *Weights) LMHead() (*Tensor, error) {
	if t, ok := w.Lookup(Output, -1); ok {
		return t, nil
	}
	return w.Tensor(TokenEmbd, -1)
}

// OpenGGUF opens a GGUF model file as Weights. The file stays mapped until Close.
func OpenGGUF(path string) (*Weights, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	w, err := fromGGUF(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func fromGGUF(f *gguf.File, path string) (*Weights, error) {
	cfg, err := ConfigFromGGUF(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w := &Weights{Path: path, Format: "gguf", Config: cfg, tensors: map[string]*Tensor{}, closer: f, gf: f}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		w.tensors[ti.Name] = &Tensor{Name: ti.Name, Type: ti.Type, Shape: ti.Dims, Data: f.TensorData(ti)}
		w.names = append(w.names, ti.Name)
	}
	if err := w.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// check validates the configuration and that every tensor the forward pass
// needs is present with the shape the configuration implies, so a bad file
// is an error at open time rather than an index panic in a kernel.
func (w *Weights) check() error {
	c := w.Config
	if err := c.Validate(); err != nil {
		return err
	}
	d, q, kv, ff := int64(c.NEmbd), int64(c.QDim()), int64(c.KVDim()), int64(c.NFF)
	type want struct {
		r     Role
		shape []int64
		need  bool
	}
	global := []want{
		{TokenEmbd, []int64{d, int64(c.NVocab)}, true},
		{OutputNorm, []int64{d}, true},
		{Output, []int64{d, int64(c.NVocab)}, !c.TiedEmbeddings},
	}
	perLayer := []want{
		{AttnNorm, []int64{d}, true},
		{AttnQ, []int64{d, q}, true},
		{AttnK, []int64{d, kv}, true},
		{AttnV, []int64{d, kv}, true},
		{AttnOutput, []int64{q, d}, true},
		{AttnQBias, []int64{q}, c.Arch.QKVBias},
		{AttnKBias, []int64{kv}, c.Arch.QKVBias},
		{AttnVBias, []int64{kv}, c.Arch.QKVBias},
		{AttnQNorm, []int64{int64(c.HeadDim)}, c.Arch.QKNorm},
		{AttnKNorm, []int64{int64(c.HeadDim)}, c.Arch.QKNorm},
		{FFNNorm, []int64{d}, true},
		{FFNGate, []int64{d, ff}, true},
		{FFNUp, []int64{d, ff}, true},
		{FFNDown, []int64{ff, d}, true},
	}
	verify := func(x want, layer int) error {
		t, ok := w.Lookup(x.r, layer)
		if !ok {
			if x.need {
				_, err := w.Tensor(x.r, layer)
				return err
			}
			return nil
		}
		if !slices.Equal(t.Shape, x.shape) {
			return fmt.Errorf("%w: %s has shape %v, the configuration implies %v", ErrShape, t.Name, t.Shape, x.shape)
		}
		return nil
	}
	for _, x := range global {
		if err := verify(x, -1); err != nil {
			return err
		}
	}
	for l := 0; l < c.NLayer; l++ {
		for _, x := range perLayer {
			if err := verify(x, l); err != nil {
				return err
			}
		}
	}
	return nil
}
