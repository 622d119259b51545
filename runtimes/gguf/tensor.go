package gguf

import (
	"fmt"
	"math"

	"github.com/layerwise/parity/runtimes/ggml"
)

// shapeError says which field of a tensor info is wrong, so the reader can
// point at its offset and the writer can name it.
type shapeError struct {
	field int // 0..MaxDims-1: that dimension; fieldNDims; fieldType
	msg   string
	cause error
}

const (
	fieldNDims = -1
	fieldType  = MaxDims
)

// checkTensor validates a tensor's name, shape and type the way llama.cpp's
// loader does, and returns its size in bytes: at most MaxDims positive
// dimensions whose product fits an int64, a known ggml type, and a row
// length (Dims[0]) that is a whole number of blocks. Unlike llama.cpp, which
// accepts empty tensors, a zero dimension is rejected: no model has one, and
// a 0-byte tensor would make "data lies inside the file" vacuous.
func checkTensor(name string, dims []int64, typ ggml.Type) (int64, *shapeError) {
	if len(dims) > MaxDims {
		return 0, &shapeError{fieldNDims, fmt.Sprintf("tensor '%s' has %d dimensions, more than %d", name, len(dims), MaxDims), nil}
	}
	n := int64(1)
	for j, ne := range dims {
		if ne <= 0 {
			return 0, &shapeError{j, fmt.Sprintf("tensor '%s' dimension %d is %d, not positive", name, j, ne), nil}
		}
		if n > math.MaxInt64/ne {
			return 0, &shapeError{j, fmt.Sprintf("tensor '%s' shape %v: element count overflows int64", name, dims), nil}
		}
		n *= ne
	}
	if err := typ.Check(); err != nil {
		return 0, &shapeError{fieldType, fmt.Sprintf("tensor '%s' has unknown ggml type %d", name, uint32(typ)), err}
	}
	row := int64(1)
	if len(dims) > 0 {
		row = dims[0]
	}
	bs, ts := int64(typ.BlockSize()), int64(typ.TypeSize())
	if row%bs != 0 {
		return 0, &shapeError{fieldType, fmt.Sprintf("tensor '%s' has %d elements per row, not a multiple of block size (%d) of type %v", name, row, bs, typ), ErrRowNotBlockAlign}
	}
	if n/bs > math.MaxInt64/ts {
		return 0, &shapeError{fieldType, fmt.Sprintf("tensor '%s' shape %v of type %v: size in bytes overflows int64", name, dims, typ), nil}
	}
	return n / bs * ts, nil
}
