package model

import (
	"fmt"

	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/quant"
)

// Tensor is a read-only view of one weight tensor, whatever file it came
// from. Shape is in ggml order (ne0 first): a matrix is [cols, rows] with
// rows = output features, each row of cols input features contiguous in
// Data. That is GGUF's layout, and APR's too once its [out, in] shape is
// reversed (apr import copies the bytes without transposing).
type Tensor struct {
	Name  string
	Type  ggml.Type
	Shape []int64
	Data  []byte // zero-copy view into the mapped file, or a converted copy
	// Storage names the payload's encoding when Data is not plain ggml rows
	// of Type ("APR_Q8", "APR_Q4", "Q4_K (rows padded)"); empty otherwise.
	// APR-native tensors have Type F32, the type DequantizeRows produces.
	Storage string

	// dequant decodes elements [start, start+len(dst)) for payloads that
	// are not ggml rows (see Storage). Nil for ggml rows.
	dequant func(start int64, dst []float32) error
}

// Cols is the length of one row (ne0).
func (t *Tensor) Cols() int { return int(t.Shape[0]) }

// Rows is the number of rows: the product of all dimensions after ne0.
func (t *Tensor) Rows() int {
	n := int64(1)
	for _, d := range t.Shape[1:] {
		n *= d
	}
	return int(n)
}

// NumElements is the total element count.
func (t *Tensor) NumElements() int64 { return int64(t.Cols()) * int64(t.Rows()) }

// GGMLRows reports whether Data is laid out as ggml rows of Type, so the
// quantized kernels can read it directly.
func (t *Tensor) GGMLRows() bool { return t.dequant == nil }

// RowBytes is the byte length of one row; valid when GGMLRows.
func (t *Tensor) RowBytes() int {
	n, _ := t.Type.RowSize(int64(t.Cols()))
	return int(n)
}

// Row returns the raw bytes of row r; valid when GGMLRows.
func (t *Tensor) Row(r int) []byte {
	rb := t.RowBytes()
	return t.Data[r*rb : (r+1)*rb]
}

// DequantizeRows decodes n rows starting at row r0 into dst (n·Cols floats).
func (t *Tensor) DequantizeRows(r0, n int, dst []float32) error {
	cols := t.Cols()
	if r0 < 0 || n < 0 || r0+n > t.Rows() || len(dst) < n*cols {
		return fmt.Errorf("model: %s: rows [%d,%d) out of range (%d rows)", t.Name, r0, r0+n, t.Rows())
	}
	if t.dequant != nil {
		return t.dequant(int64(r0)*int64(cols), dst[:n*cols])
	}
	rb := t.RowBytes()
	return quant.Dequantize(t.Type, t.Data[r0*rb:(r0+n)*rb], dst[:n*cols])
}

// Float32s decodes the whole tensor. Meant for vectors (norms, biases) and
// tests; the engines dequantize matrices a row block at a time.
func (t *Tensor) Float32s() ([]float32, error) {
	out := make([]float32, t.NumElements())
	return out, t.DequantizeRows(0, t.Rows(), out)
}
