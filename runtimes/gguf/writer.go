package gguf

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/layerwise/parity/runtimes/ggml"
)

// Writer collects KVs and tensors and writes them as one GGUF file laid out
// as llama.cpp's writer does: header, KVs in the order added, tensor infos
// in the order added with offsets assigned back to back (each tensor padded
// to the alignment), zero padding up to the data section (omitted when there
// are no tensors), then each tensor's bytes followed by zero padding. The
// layout is a function of the KVs and tensors, so a File read and written
// back reproduces a file llama.cpp or gguf-py wrote byte for byte.
type Writer struct {
	version uint32
	kvs     []KV
	tensors []writerTensor
}

type writerTensor struct {
	name string
	typ  ggml.Type
	dims []int64
	data []byte
	gen  func() ([]byte, error) // AddTensorFunc: data made when written
}

// NewWriter returns an empty Writer for GGUF version 2 or 3 (the two encode
// identically; anything else fails at WriteTo). The alignment is taken from
// a general.alignment KV if one is added, else DefaultAlignment.
func NewWriter(version uint32) *Writer { return &Writer{version: version} }

// NewWriterFrom returns a Writer holding f's version, KVs and tensors, in
// f's order. Tensor data is referenced, not copied, so f must stay open
// until the Writer has written.
func NewWriterFrom(f *File) *Writer {
	w := NewWriter(f.Version)
	w.kvs = append(w.kvs, f.KVs...)
	for i := range f.Tensors {
		t := &f.Tensors[i]
		w.AddTensor(t.Name, t.Type, t.Dims, f.TensorData(t))
	}
	return w
}

// AddKV appends a KV. A duplicate or empty key is reported by WriteTo.
func (w *Writer) AddKV(key string, v Value) { w.kvs = append(w.kvs, KV{key, v}) }

// AddTensor appends a tensor with dims ne[0] first. data is referenced, not
// copied, and must hold exactly the tensor's size in bytes; WriteTo checks
// it along with the name and shape rules the reader enforces.
func (w *Writer) AddTensor(name string, typ ggml.Type, dims []int64, data []byte) {
	w.tensors = append(w.tensors, writerTensor{name: name, typ: typ, dims: append([]int64(nil), dims...), data: data})
}

// AddTensorFunc appends a tensor whose bytes gen produces when WriteTo
// reaches it, so that a writer of a large model holds one tensor's data at
// a time rather than all of them. gen may be called once per WriteTo and
// must return exactly the tensor's size in bytes. Its errors, and a wrong
// length, surface from WriteTo after the bytes before the tensor have been
// written (WriteFile then removes the partial file).
func (w *Writer) AddTensorFunc(name string, typ ggml.Type, dims []int64, gen func() ([]byte, error)) {
	w.tensors = append(w.tensors, writerTensor{name: name, typ: typ, dims: append([]int64(nil), dims...), gen: gen})
}

// alignment validates the KVs and returns the data alignment they set.
func (w *Writer) alignment() (int64, error) {
	if w.version != 2 && w.version != 3 {
		return 0, fmt.Errorf("gguf: cannot write version %d (only 2 and 3)", w.version)
	}
	align := int64(DefaultAlignment)
	seen := make(map[string]bool, len(w.kvs))
	for _, kv := range w.kvs {
		if kv.Key == "" {
			return 0, errors.New("gguf: empty key")
		}
		if seen[kv.Key] {
			return 0, fmt.Errorf("%w %q", ErrDuplicateKey, kv.Key)
		}
		seen[kv.Key] = true
		if err := checkValue(kv.Key, kv.Value, 0); err != nil {
			return 0, err
		}
		if kv.Key == AlignmentKey {
			a, _ := kv.Value.Uint()
			if kv.Value.Type() != TypeUint32 || a == 0 || a&(a-1) != 0 {
				return 0, fmt.Errorf("%w: %s must be a uint32 power of 2, not %v %v", ErrBadAlignment, AlignmentKey, kv.Value.Type(), kv.Value)
			}
			align = int64(a)
		}
	}
	return align, nil
}

// checkValue rejects what the reader would: bad types and over-deep
// nesting. Values built by this package's constructors are otherwise valid.
func checkValue(key string, v Value, depth int) error {
	if !v.typ.valid() {
		return fmt.Errorf("gguf: key %q: bad value type %v", key, v.typ)
	}
	if v.typ != TypeArray {
		return nil
	}
	if depth >= maxArrayDepth {
		return fmt.Errorf("gguf: key %q: arrays nested deeper than %d", key, maxArrayDepth)
	}
	if nested, ok := v.arr.([]Value); ok {
		for _, e := range nested {
			if err := checkValue(key, e, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkTensors validates the directory and returns each tensor's offset.
func (w *Writer) checkTensors(align int64) ([]int64, error) {
	offs := make([]int64, len(w.tensors))
	seen := make(map[string]bool, len(w.tensors))
	var off int64
	for i, t := range w.tensors {
		if len(t.name) > MaxNameLen {
			return nil, fmt.Errorf("gguf: tensor name %q is %d bytes long, the limit is %d", t.name, len(t.name), MaxNameLen)
		}
		if seen[t.name] {
			return nil, fmt.Errorf("%w '%s'", ErrDuplicateTensor, t.name)
		}
		seen[t.name] = true
		size, serr := checkTensor(t.name, t.dims, t.typ)
		if serr != nil {
			if serr.cause != nil {
				return nil, fmt.Errorf("gguf: %s: %w", serr.msg, serr.cause)
			}
			return nil, errors.New("gguf: " + serr.msg)
		}
		if t.gen == nil && int64(len(t.data)) != size {
			return nil, fmt.Errorf("gguf: tensor '%s' has %d bytes of data, its shape %v of type %v needs %d", t.name, len(t.data), t.dims, t.typ, size)
		}
		offs[i] = off
		off += alignUp(size, align)
	}
	return offs, nil
}

// WriteTo writes the file to out. It validates everything before writing
// the first byte, so an invalid Writer leaves out untouched.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	align, err := w.alignment()
	if err != nil {
		return 0, err
	}
	offs, err := w.checkTensors(align)
	if err != nil {
		return 0, err
	}
	e := &encoder{w: bufio.NewWriterSize(out, 1<<16)}
	e.write([]byte(magic))
	e.u32(w.version)
	e.u64(uint64(len(w.tensors)))
	e.u64(uint64(len(w.kvs)))
	for _, kv := range w.kvs {
		e.str(kv.Key)
		e.u32(uint32(kv.Value.typ))
		e.value(kv.Value)
	}
	for i, t := range w.tensors {
		e.str(t.name)
		e.u32(uint32(len(t.dims)))
		for _, d := range t.dims {
			e.u64(uint64(d))
		}
		e.u32(uint32(t.typ))
		e.u64(uint64(offs[i]))
	}
	if len(w.tensors) > 0 {
		e.pad(align)
	}
	for _, t := range w.tensors {
		data := t.data
		if t.gen != nil && e.err == nil {
			var err error
			if data, err = t.gen(); err != nil {
				return e.n, fmt.Errorf("gguf: tensor '%s': %w", t.name, err)
			}
			if want, _ := checkTensor(t.name, t.dims, t.typ); int64(len(data)) != want {
				return e.n, fmt.Errorf("gguf: tensor '%s': generated %d bytes, its shape %v of type %v needs %d", t.name, len(data), t.dims, t.typ, want)
			}
		}
		e.write(data)
		e.pad(align)
	}
	if e.err == nil {
		e.err = e.w.Flush()
	}
	if e.err != nil {
		return e.n, fmt.Errorf("gguf: write: %w", e.err)
	}
	return e.n, nil
}

// WriteFile writes w to path through a temporary file in the same
// directory, renamed into place only once complete, so a failure never
// leaves a partial file at path.
func WriteFile(path string, w *Writer) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = w.WriteTo(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("gguf: %w", err)
	}
	return nil
}

// encoder writes little-endian fields, counting bytes and keeping the first
// error so the layout code reads straight through.
type encoder struct {
	w   *bufio.Writer
	n   int64
	err error
	buf [8]byte
}

func (e *encoder) write(b []byte) {
	if e.err != nil {
		return
	}
	n, err := e.w.Write(b)
	e.n += int64(n)
	e.err = err
}

func (e *encoder) u8(v uint8) { e.buf[0] = v; e.write(e.buf[:1]) }
func (e *encoder) u16(v uint16) {
	binary.LittleEndian.PutUint16(e.buf[:], v)
	e.write(e.buf[:2])
}
func (e *encoder) u32(v uint32) {
	binary.LittleEndian.PutUint32(e.buf[:], v)
	e.write(e.buf[:4])
}
func (e *encoder) u64(v uint64) {
	binary.LittleEndian.PutUint64(e.buf[:], v)
	e.write(e.buf[:8])
}
func (e *encoder) str(s string) {
	e.u64(uint64(len(s)))
	if e.err == nil {
		n, err := e.w.WriteString(s)
		e.n += int64(n)
		e.err = err
	}
}

var zeros [256]byte

// pad writes zeros up to the next multiple of align (a power of two) of the
// absolute file offset.
func (e *encoder) pad(align int64) {
	for n := alignUp(e.n, align) - e.n; n > 0; {
		k := min(n, int64(len(zeros)))
		e.write(zeros[:k])
		n -= k
	}
}

// value writes a value's payload (its type tag is the caller's business).
func (e *encoder) value(v Value) {
	switch v.typ {
	case TypeString:
		e.str(v.str)
		return
	case TypeArray:
		e.array(v)
		return
	}
	switch v.typ.fixedSize() {
	case 1:
		e.u8(uint8(v.num))
	case 2:
		e.u16(uint16(v.num))
	case 4:
		e.u32(uint32(v.num))
	case 8:
		e.u64(v.num)
	}
}

func (e *encoder) array(v Value) {
	e.u32(uint32(v.elem))
	e.u64(uint64(v.Len()))
	switch a := v.arr.(type) {
	case []uint8:
		e.write(a)
	case []int8:
		each(a, func(x int8) { e.u8(uint8(x)) })
	case []bool:
		each(a, func(x bool) {
			if x {
				e.u8(1)
			} else {
				e.u8(0)
			}
		})
	case []uint16:
		each(a, e.u16)
	case []int16:
		each(a, func(x int16) { e.u16(uint16(x)) })
	case []uint32:
		each(a, e.u32)
	case []int32:
		each(a, func(x int32) { e.u32(uint32(x)) })
	case []float32:
		each(a, func(x float32) { e.u32(math.Float32bits(x)) })
	case []uint64:
		each(a, e.u64)
	case []int64:
		each(a, func(x int64) { e.u64(uint64(x)) })
	case []float64:
		each(a, func(x float64) { e.u64(math.Float64bits(x)) })
	case []string:
		each(a, e.str)
	case []Value:
		each(a, e.array)
	}
}

func each[T any](s []T, f func(T)) {
	for _, x := range s {
		f(x)
	}
}
