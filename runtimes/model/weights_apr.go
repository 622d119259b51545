package model

import (
	"fmt"
	"slices"

	"github.com/layerwise/parity/runtimes/apr"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/quant"
)

// OpenAPR opens an APR v2 model file as Weights. The file stays mapped until
// Close. Tensors are looked up by their Hugging Face names first and their
// GGUF names second (realizar's order), so both conventions `apr import`
// writes work, and the same shape validation as for GGUF runs on open.
//
// Shapes are turned back into ggml order so that Cols and Rows mean what
// they mean for a GGUF file: `apr import` reverses a 2-D GGUF shape
// [ne0, ne1] to [ne1, ne0] and copies the bytes unchanged, so reversing it
// again gives the GGUF shape over the same bytes. It keeps 1-D and ≥ 3-D
// shapes as they are, and so does this.
//
// F32, F16, BF16, Q4_K and Q6_K payloads are ggml rows and stay zero-copy
// views for the quantized kernels. Three layouts are not, and get a decoder
// instead (GGMLRows reports false):
//
//   - APR-Q8: one f32 scale for the whole tensor, then one int8 per element;
//   - APR-Q4: blocks of 32 elements of the flattened tensor, so a block can
//     straddle two rows;
//   - Q4_K/Q6_K whose rows are not a multiple of 256 elements: aprender's
//     quantizer zero-pads every row to whole super-blocks, which ggml cannot
//     express.
func OpenAPR(path string) (*Weights, error) {
	f, err := apr.Open(path)
	if err != nil {
		return nil, err
	}
	w, err := fromAPR(f, path)
	if err != nil {
		f.Close()
		return nil, err
	}
	return w, nil
}

func fromAPR(f *apr.File, path string) (*Weights, error) {
	cfg, err := ConfigFromAPR(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	w := &Weights{Path: path, Format: "apr", Config: cfg, tensors: map[string]*Tensor{}, hfFirst: true, closer: f, af: f}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		w.tensors[ti.Name] = tensorFromAPR(ti, f.TensorData(ti))
		w.names = append(w.names, ti.Name)
	}
	if err := w.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return w, nil
}

// tensorFromAPR builds the view of one APR tensor whose payload is data
// (exactly ti.Size bytes, as the apr reader guarantees).
func tensorFromAPR(ti *apr.TensorInfo, data []byte) *Tensor {
	shape := slices.Clone(ti.Shape)
	if len(shape) == 2 {
		shape[0], shape[1] = shape[1], shape[0]
	}
	t := &Tensor{Name: ti.Name, Shape: shape, Data: data}
	if gt, ok := ti.DType.GGML(); ok {
		t.Type = gt
		if cols := shape[0]; cols%int64(gt.BlockSize()) != 0 {
			t.Storage = gt.String() + " (rows padded)"
			t.dequant = paddedRows(gt, data, cols)
		}
		return t
	}
	// APR-Q4 and APR-Q8 decode to f32.
	t.Type, t.Storage = ggml.F32, ti.DType.String()
	dt := ti.DType
	t.dequant = func(start int64, dst []float32) error { return apr.DequantizeRow(dt, data, start, dst) }
	return t
}

// paddedRows decodes a block-quantized tensor whose rows of cols elements
// were each zero-padded to whole blocks (aprender's quantize_q4_k_matrix and
// quantize_q6_k_matrix): a row occupies ⌈cols/bs⌉ blocks and only its first
// cols decoded values are elements. The element range may start and end
// inside rows.
func paddedRows(t ggml.Type, data []byte, cols int64) func(start int64, dst []float32) error {
	bs := int64(t.BlockSize())
	padded := (cols + bs - 1) / bs * bs
	rowBytes := padded / bs * int64(t.TypeSize())
	return func(start int64, dst []float32) error {
		if len(dst) == 0 {
			return nil
		}
		if start < 0 || (start+int64(len(dst))+cols-1)/cols*rowBytes > int64(len(data)) {
			return fmt.Errorf("model: elements [%d,%d) lie outside a padded %v tensor of %d bytes", start, start+int64(len(dst)), t, len(data))
		}
		row := make([]float32, padded)
		for len(dst) > 0 {
			r, c := start/cols, start%cols
			if err := quant.Dequantize(t, data[r*rowBytes:(r+1)*rowBytes], row); err != nil {
				return err
			}
			n := copy(dst, row[c:cols])
			dst, start = dst[n:], start+int64(n)
		}
		return nil
	}
}
