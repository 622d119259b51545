package diag

import (
	"bytes"
	"slices"

	"github.com/layerwise/parity/runtimes/model"
)

// blockElems is how many elements a streaming comparison dequantizes per
// side at a time, so comparing a 150k×3584 embedding table costs two
// 256 KiB buffers rather than two 2 GiB copies.
const blockElems = 1 << 16

// maxDense caps the elements a layout check (transpose, reshape) holds in
// memory per side: such a check needs random access to the whole tensor.
// 2^25 f32 values are 128 MiB; larger tensors skip the check and say so.
const maxDense = 1 << 25

// sameBytes reports whether two tensors store the same encoding, shape
// and bytes: then every decoder gives the same values, whatever they are.
func sameBytes(a, b *model.Tensor) bool {
	return a.Type == b.Type && a.Storage == b.Storage && slices.Equal(a.Shape, b.Shape) && bytes.Equal(a.Data, b.Data)
}

// sameRowBytes reports whether row r is stored identically in a and b;
// false when either is not in ggml rows (APR-Q4 blocks straddle rows).
func sameRowBytes(a, b *model.Tensor, r int) bool {
	if !a.GGMLRows() || !b.GGMLRows() || a.Type != b.Type || a.Cols() != b.Cols() || r >= a.Rows() || r >= b.Rows() {
		return false
	}
	return bytes.Equal(a.Row(r), b.Row(r))
}

// streamRows compares rows [0, rows) of two tensors with the same row
// length, a block of rows at a time.
func streamRows(a, b *model.Tensor, rows int) (Diff, error) {
	cols := a.Cols()
	per := max(1, blockElems/cols)
	ba, bb := make([]float32, per*cols), make([]float32, per*cols)
	c := newAcc(cols)
	for r := 0; r < rows; r += per {
		n := min(per, rows-r)
		if err := a.DequantizeRows(r, n, ba); err != nil {
			return Diff{}, err
		}
		if err := b.DequantizeRows(r, n, bb); err != nil {
			return Diff{}, err
		}
		c.add(ba[:n*cols], bb[:n*cols])
	}
	return c.diff(), nil
}

// rowReader hands out single rows of a tensor along its output-feature
// axis: the rows of a matrix, the elements of a vector (a bias is
// permuted element-wise, as convert_hf_to_gguf.py permutes q_proj.bias).
type rowReader struct {
	t   *model.Tensor
	n   int       // rows
	w   int       // row width
	vec []float32 // the decoded vector, for 1-D tensors
	buf []float32
}

func newRowReader(t *model.Tensor) (*rowReader, error) {
	r := &rowReader{t: t, n: t.Rows(), w: t.Cols()}
	if len(t.Shape) == 1 {
		v, err := t.Float32s()
		if err != nil {
			return nil, err
		}
		r.vec, r.n, r.w = v, len(v), 1
	}
	r.buf = make([]float32, r.w)
	return r, nil
}

// row returns row i; the slice is reused by the next call.
func (r *rowReader) row(i int) ([]float32, error) {
	if r.vec != nil {
		return r.vec[i : i+1], nil
	}
	return r.buf, r.t.DequantizeRows(i, 1, r.buf)
}
