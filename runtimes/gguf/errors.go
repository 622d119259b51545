package gguf

import (
	"errors"
	"fmt"
)

// FormatError reports a malformed file: what is wrong and the byte offset
// of the field that is wrong. Err, when set, is the underlying cause or
// category (io.ErrUnexpectedEOF for truncation, one of the sentinels below,
// a *ggml.UnknownTypeError) and is what errors.Is/As see through Unwrap.
type FormatError struct {
	Off int64
	Msg string
	Err error
}

func (e *FormatError) Error() string { return fmt.Sprintf("gguf: offset %d: %s", e.Off, e.Msg) }

func (e *FormatError) Unwrap() error { return e.Err }

// Sentinel categories, reachable with errors.Is through a *FormatError.
var (
	ErrBadMagic         = errors.New("gguf: bad magic")
	ErrV1Unsupported    = errors.New("gguf: GGUF v1 is not supported")
	ErrBadVersion       = errors.New("gguf: unsupported version")
	ErrDuplicateKey     = errors.New("gguf: duplicate key")
	ErrDuplicateTensor  = errors.New("gguf: duplicate tensor name")
	ErrBadAlignment     = errors.New("gguf: bad alignment")
	ErrTensorLayout     = errors.New("gguf: bad tensor data layout")
	ErrRowNotBlockAlign = errors.New("gguf: row length not a multiple of the block size")
)

func formatErr(off int64, cause error, format string, args ...any) *FormatError {
	return &FormatError{Off: off, Msg: fmt.Sprintf(format, args...), Err: cause}
}
