package gguf

import (
	"encoding/binary"
	"io"
	"math"

	"github.com/layerwise/parity/runtimes/ggml"
)

// File is a parsed GGUF file. Its KVs and tensor infos are plain Go values;
// tensor bytes stay in the underlying image (a read-only mapping for Open)
// and are reached through TensorData.
type File struct {
	Version    uint32
	Alignment  int64
	KVs        []KV         // in file order
	Tensors    []TensorInfo // in file order
	DataOffset int64        // absolute offset of the tensor data section

	data     []byte
	size     int64
	kvIndex  map[string]int
	tenIndex map[string]int
	unmap    func() error
}

// TensorInfo is one entry of the tensor directory.
type TensorInfo struct {
	Name   string
	Dims   []int64 // ne[0] (row length) first, as stored; n_dims entries
	Type   ggml.Type
	Offset int64 // relative to File.DataOffset, as stored
	Size   int64 // bytes, computed from Dims and Type
}

// NumElements is the product of the dimensions (1 for a 0-dim scalar).
func (t *TensorInfo) NumElements() int64 {
	n := int64(1)
	for _, d := range t.Dims {
		n *= d
	}
	return n
}

// Parse reads a GGUF image held in memory. The File keeps data, and
// TensorData returns slices of it, so data must not change while the File
// is in use. Every error is a *FormatError. Close on a parsed File only
// drops its reference to data.
func Parse(data []byte) (*File, error) {
	return parse(data)
}

// Close releases the file's mapping. Tensor data views obtained before are
// invalid afterwards. Close is idempotent.
func (f *File) Close() error {
	f.data = nil
	if f.unmap == nil {
		return nil
	}
	unmap := f.unmap
	f.unmap = nil
	return unmap()
}

// Size returns the file size in bytes.
func (f *File) Size() int64 { return f.size }

// Lookup returns the value of key.
func (f *File) Lookup(key string) (Value, bool) {
	i, ok := f.kvIndex[key]
	if !ok {
		return Value{}, false
	}
	return f.KVs[i].Value, true
}

// GetString returns a string KV; ok is false when absent or of another type.
func (f *File) GetString(key string) (string, bool) { v, _ := f.Lookup(key); return v.Str() }

// GetUint returns an integer KV of any width (see Value.Uint).
func (f *File) GetUint(key string) (uint64, bool) {
	v, ok := f.Lookup(key)
	if !ok {
		return 0, false
	}
	return v.Uint()
}

// GetInt returns an integer KV of any width (see Value.Int).
func (f *File) GetInt(key string) (int64, bool) {
	v, ok := f.Lookup(key)
	if !ok {
		return 0, false
	}
	return v.Int()
}

// GetFloat returns a float32 or float64 KV.
func (f *File) GetFloat(key string) (float64, bool) { v, _ := f.Lookup(key); return v.Float() }

// GetBool returns a bool KV.
func (f *File) GetBool(key string) (bool, bool) {
	v, ok := f.Lookup(key)
	if !ok {
		return false, false
	}
	return v.Bool()
}

// GetStrings returns a string-array KV (shared storage; do not modify).
func (f *File) GetStrings(key string) ([]string, bool) { v, _ := f.Lookup(key); return v.Strings() }

// GetFloat32s returns a float array KV (see Value.Float32s).
func (f *File) GetFloat32s(key string) ([]float32, bool) { v, _ := f.Lookup(key); return v.Float32s() }

// GetInt32s returns an integer array KV (see Value.Int32s).
func (f *File) GetInt32s(key string) ([]int32, bool) { v, _ := f.Lookup(key); return v.Int32s() }

// Architecture returns general.architecture, or "" when absent.
func (f *File) Architecture() string { s, _ := f.GetString("general.architecture"); return s }

// Tensor returns the directory entry named name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.tenIndex[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// TensorData returns the bytes of t, a view into the file image (read-only
// for a mapped file: writing to it faults). It returns nil after Close or
// when t does not lie inside this file's data.
func (f *File) TensorData(t *TensorInfo) []byte {
	start := f.DataOffset + t.Offset
	if t.Offset < 0 || t.Size < 0 || start > int64(len(f.data)) || t.Size > int64(len(f.data))-start {
		return nil
	}
	end := start + t.Size
	return f.data[start:end:end]
}

// decoder walks a GGUF image. Every read checks the bytes left first, so a
// truncated file yields io.ErrUnexpectedEOF at the offset of the field that
// does not fit.
type decoder struct {
	data []byte
	off  int64
}

func (d *decoder) remaining() int64 { return int64(len(d.data)) - d.off }

func (d *decoder) take(n int64, what string) ([]byte, error) {
	if n > d.remaining() {
		return nil, formatErr(d.off, io.ErrUnexpectedEOF, "unexpected end of file reading %s (%d bytes needed, %d left)", what, n, d.remaining())
	}
	b := d.data[d.off : d.off+n]
	d.off += n
	return b, nil
}

func (d *decoder) u32(what string) (uint32, error) {
	b, err := d.take(4, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u64(what string) (uint64, error) {
	b, err := d.take(8, what)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (d *decoder) str(what string) (string, error) {
	start := d.off
	n, err := d.u64(what + " length")
	if err != nil {
		return "", err
	}
	if n > uint64(d.remaining()) {
		return "", formatErr(start, io.ErrUnexpectedEOF, "%s length %d exceeds the %d bytes left in the file", what, n, d.remaining())
	}
	b, _ := d.take(int64(n), what)
	return string(b), nil
}

func parse(data []byte) (*File, error) {
	d := &decoder{data: data}
	f := &File{data: data, size: int64(len(data)), Alignment: DefaultAlignment}

	mag, err := d.take(4, "magic")
	if err != nil {
		return nil, err
	}
	if string(mag) != magic {
		return nil, formatErr(0, ErrBadMagic, "bad magic %q, want %q", mag, magic)
	}
	if f.Version, err = d.u32("version"); err != nil {
		return nil, err
	}
	switch v := f.Version; {
	case v == 1:
		return nil, formatErr(4, ErrV1Unsupported, "GGUF v1 is not supported")
	case v == 0:
		return nil, formatErr(4, ErrBadVersion, "bad version 0")
	case v&0xFFFF == 0:
		// llama.cpp's tell for a file of the other byte order.
		return nil, formatErr(4, ErrBadVersion, "version %#x: a big-endian file? only little-endian files are supported", v)
	case v > 3:
		return nil, formatErr(4, ErrBadVersion, "version %d not supported (only 2 and 3)", v)
	}

	nTensors, err := d.u64("tensor count")
	if err != nil {
		return nil, err
	}
	nKV, err := d.u64("KV count")
	if err != nil {
		return nil, err
	}
	// Bound the counts by the bytes left before looping over them: every
	// entry takes a minimum number of bytes. The slices below still grow
	// by append rather than by the claimed counts, so memory follows the
	// bytes actually parsed, not what the header promises.
	rem := uint64(d.remaining())
	if nKV > rem/minKVSize || nTensors > rem/minTensorSize || nKV*minKVSize+nTensors*minTensorSize > rem {
		return nil, formatErr(8, io.ErrUnexpectedEOF, "header claims %d tensors and %d KVs, more than the %d bytes left can hold", nTensors, nKV, rem)
	}

	f.kvIndex = make(map[string]int)
	var alignOff int64 // where general.alignment's type tag sits, for errors
	for i := uint64(0); i < nKV; i++ {
		start := d.off
		key, err := d.str("key")
		if err != nil {
			return nil, err
		}
		if key == "" {
			return nil, formatErr(start, nil, "KV %d has an empty key", i)
		}
		if j, dup := f.kvIndex[key]; dup {
			return nil, formatErr(start, ErrDuplicateKey, "duplicate key %q (KVs %d and %d)", key, j, i)
		}
		typOff := d.off
		typ, err := d.u32("value type")
		if err != nil {
			return nil, err
		}
		if key == AlignmentKey {
			alignOff = typOff
		}
		v, err := d.value(typOff, ValueType(typ), key, 0)
		if err != nil {
			return nil, err
		}
		f.kvIndex[key] = len(f.KVs)
		f.KVs = append(f.KVs, KV{key, v})
	}

	if v, ok := f.Lookup(AlignmentKey); ok {
		if v.Type() != TypeUint32 {
			return nil, formatErr(alignOff, ErrBadAlignment, "%s must be a uint32, not %v", AlignmentKey, v.Type())
		}
		a, _ := v.Uint()
		if a == 0 || a&(a-1) != 0 {
			return nil, formatErr(alignOff, ErrBadAlignment, "%s %d is not a power of 2", AlignmentKey, a)
		}
		f.Alignment = int64(a)
	}

	f.tenIndex = make(map[string]int)
	var (
		offFields []int64  // where each tensor's offset is stored, for errors
		rawOffs   []uint64 // the offsets as stored, checked by checkLayout
	)
	for i := uint64(0); i < nTensors; i++ {
		t, offField, raw, err := d.tensorInfo(f, i)
		if err != nil {
			return nil, err
		}
		f.tenIndex[t.Name] = len(f.Tensors)
		f.Tensors = append(f.Tensors, t)
		offFields = append(offFields, offField)
		rawOffs = append(rawOffs, raw)
	}

	// A vocab-only file ends after its KV block: there is no padding to
	// demand, and llama.cpp does not seek past it.
	f.DataOffset = d.off
	if nTensors > 0 {
		f.DataOffset = alignUp(d.off, f.Alignment)
	}
	if err := f.checkLayout(offFields, rawOffs); err != nil {
		return nil, err
	}
	return f, nil
}

// value decodes one value of type typ; typOff is where its type tag sits.
func (d *decoder) value(typOff int64, typ ValueType, key string, depth int) (Value, error) {
	switch typ {
	case TypeString:
		s, err := d.str("string value")
		return Value{typ: TypeString, str: s}, err
	case TypeArray:
		return d.array(key, depth)
	case TypeBool:
		b, err := d.take(1, "bool value")
		if err != nil {
			return Value{}, err
		}
		return Bool(b[0] != 0), nil
	}
	size := typ.fixedSize()
	if size == 0 {
		return Value{}, formatErr(typOff, nil, "key %q has bad value type %d", key, uint32(typ))
	}
	b, err := d.take(size, typ.String()+" value")
	if err != nil {
		return Value{}, err
	}
	v := Value{typ: typ}
	switch size {
	case 1:
		v.num = uint64(b[0])
	case 2:
		v.num = uint64(binary.LittleEndian.Uint16(b))
	case 4:
		v.num = uint64(binary.LittleEndian.Uint32(b))
	case 8:
		v.num = binary.LittleEndian.Uint64(b)
	}
	if typ.isSigned() { // sign-extend, as the constructors store it
		shift := 64 - 8*size
		v.num = uint64(int64(v.num<<shift) >> shift)
	}
	return v, nil
}

// array decodes an array body: element type, count, elements.
func (d *decoder) array(key string, depth int) (Value, error) {
	start := d.off
	if depth >= maxArrayDepth {
		return Value{}, formatErr(start, nil, "key %q: arrays nested deeper than %d", key, maxArrayDepth)
	}
	et, err := d.u32("array element type")
	if err != nil {
		return Value{}, err
	}
	elem := ValueType(et)
	if !elem.valid() {
		return Value{}, formatErr(start, nil, "key %q: bad array element type %d", key, et)
	}
	n, err := d.u64("array length")
	if err != nil {
		return Value{}, err
	}
	if min := uint64(elem.minSize()); n > uint64(d.remaining())/min {
		return Value{}, formatErr(start+4, io.ErrUnexpectedEOF, "key %q: array of %d %v needs at least %d bytes per element, only %d bytes left", key, n, elem, min, d.remaining())
	}
	v := Value{typ: TypeArray, elem: elem}
	count := int(n)
	switch elem {
	case TypeString:
		s := make([]string, count)
		for i := range s {
			if s[i], err = d.str("string element"); err != nil {
				return Value{}, err
			}
		}
		v.arr = s
	case TypeArray:
		s := make([]Value, count)
		for i := range s {
			if s[i], err = d.array(key, depth+1); err != nil {
				return Value{}, err
			}
		}
		v.arr = s
	default:
		b, _ := d.take(int64(count)*elem.fixedSize(), "array") // bounded above
		v.arr = decodeFixed(elem, b, count)
	}
	return v, nil
}

// decodeFixed converts n packed little-endian scalars of type t.
func decodeFixed(t ValueType, b []byte, n int) any {
	le := binary.LittleEndian
	switch t {
	case TypeUint8:
		return append([]uint8(nil), b...)
	case TypeInt8:
		return fill(n, func(i int) int8 { return int8(b[i]) })
	case TypeBool:
		return fill(n, func(i int) bool { return b[i] != 0 })
	case TypeUint16:
		return fill(n, func(i int) uint16 { return le.Uint16(b[2*i:]) })
	case TypeInt16:
		return fill(n, func(i int) int16 { return int16(le.Uint16(b[2*i:])) })
	case TypeUint32:
		return fill(n, func(i int) uint32 { return le.Uint32(b[4*i:]) })
	case TypeInt32:
		return fill(n, func(i int) int32 { return int32(le.Uint32(b[4*i:])) })
	case TypeFloat32:
		return fill(n, func(i int) float32 { return math.Float32frombits(le.Uint32(b[4*i:])) })
	case TypeUint64:
		return fill(n, func(i int) uint64 { return le.Uint64(b[8*i:]) })
	case TypeInt64:
		return fill(n, func(i int) int64 { return int64(le.Uint64(b[8*i:])) })
	case TypeFloat64:
		return fill(n, func(i int) float64 { return math.Float64frombits(le.Uint64(b[8*i:])) })
	}
	panic("unreachable: decodeFixed of " + t.String())
}

func fill[T any](n int, at func(int) T) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = at(i)
	}
	return out
}

// tensorInfo decodes directory entry i and checks it on its own: name,
// shape, type, row length. The offset is checked later, against the whole
// directory, by checkLayout; tensorInfo returns where the offset is stored
// and its raw value.
func (d *decoder) tensorInfo(f *File, i uint64) (TensorInfo, int64, uint64, error) {
	var t TensorInfo
	start := d.off
	name, err := d.str("tensor name")
	if err != nil {
		return t, 0, 0, err
	}
	if len(name) > MaxNameLen {
		return t, 0, 0, formatErr(start, nil, "tensor %d name is %d bytes long, the limit is %d", i, len(name), MaxNameLen)
	}
	if j, dup := f.tenIndex[name]; dup {
		return t, 0, 0, formatErr(start, ErrDuplicateTensor, "duplicate tensor name '%s' (tensors %d and %d)", name, j, i)
	}
	t.Name = name
	ndOff := d.off
	nd, err := d.u32("tensor n_dims")
	if err != nil {
		return t, 0, 0, err
	}
	if nd > MaxDims { // before allocating Dims
		return t, 0, 0, formatErr(ndOff, nil, "tensor '%s' has %d dimensions, more than %d", name, nd, MaxDims)
	}
	t.Dims = make([]int64, nd)
	for j := range t.Dims {
		u, err := d.u64("tensor dimension")
		if err != nil {
			return t, 0, 0, err
		}
		t.Dims[j] = int64(u)
	}
	typOff := d.off
	typ, err := d.u32("tensor type")
	if err != nil {
		return t, 0, 0, err
	}
	t.Type = ggml.Type(typ)
	size, serr := checkTensor(name, t.Dims, t.Type)
	if serr != nil {
		off := typOff
		if serr.field >= 0 && serr.field < MaxDims {
			off = ndOff + 4 + 8*int64(serr.field)
		}
		return t, 0, 0, &FormatError{Off: off, Msg: serr.msg, Err: serr.cause}
	}
	t.Size = size
	offField := d.off
	raw, err := d.u64("tensor offset")
	return t, offField, raw, err
}

// checkLayout holds each tensor to llama.cpp's rule: its offset is a
// multiple of the alignment and exactly where the previous tensor's padded
// bytes end, and its bytes lie inside the file.
func (f *File) checkLayout(offFields []int64, raw []uint64) error {
	var want int64 // where the next tensor must start, relative to DataOffset
	for i := range f.Tensors {
		t := &f.Tensors[i]
		off := raw[i]
		if off > uint64(f.size) {
			return formatErr(offFields[i], ErrTensorLayout, "tensor '%s' offset %d lies beyond the end of the file (%d bytes)", t.Name, off, f.size)
		}
		t.Offset = int64(off)
		switch {
		case t.Offset%f.Alignment != 0:
			return formatErr(offFields[i], ErrTensorLayout, "tensor '%s' offset %d is not a multiple of the alignment %d", t.Name, t.Offset, f.Alignment)
		case t.Offset < want:
			return formatErr(offFields[i], ErrTensorLayout, "tensor '%s' at offset %d overlaps tensor '%s', which ends at %d", t.Name, t.Offset, f.Tensors[i-1].Name, f.Tensors[i-1].Offset+f.Tensors[i-1].Size)
		case t.Offset > want:
			return formatErr(offFields[i], ErrTensorLayout, "tensor '%s' has offset %d, expected %d (tensors must follow each other without gaps)", t.Name, t.Offset, want)
		}
		start := f.DataOffset + t.Offset
		if start > f.size || t.Size > f.size-start {
			return formatErr(offFields[i], ErrTensorLayout, "tensor '%s' data [%d, %d) extends past the end of the file (%d bytes)", t.Name, start, start+t.Size, f.size)
		}
		want = t.Offset + alignUp(t.Size, f.Alignment)
	}
	return nil
}
