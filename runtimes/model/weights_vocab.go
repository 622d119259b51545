package model

import (
	"fmt"

	"github.com/layerwise/parity/runtimes/tokenizer"
)

// Vocab reads the tokenizer vocabulary stored in the model file.
func (w *Weights) Vocab() (*tokenizer.Vocab, error) {
	if w.gf != nil {
		return VocabFromGGUF(w.gf)
	}
	if w.af != nil {
		return VocabFromAPR(w.af)
	}
	return nil, fmt.Errorf("model: %s: no tokenizer vocabulary reader for %s files", w.Path, w.Format)
}

// Tokenizer builds the model's tokenizer.
func (w *Weights) Tokenizer() (*tokenizer.Tokenizer, error) {
	v, err := w.Vocab()
	if err != nil {
		return nil, err
	}
	return tokenizer.New(v)
}
