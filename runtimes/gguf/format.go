package gguf

import "fmt"

// The GGUF file format
//
// A GGUF file is a header, a key-value (KV) block, a tensor directory and a
// data section, in that order. All integers are little-endian; floats are
// IEEE 754. (Version 3 also allows big-endian files; nothing marks them, so
// the only tell is a version number whose low 16 bits are zero. This package
// reads little-endian files only and says so when it sees such a version.)
//
//	header:
//	  magic       [4]byte   "GGUF"
//	  version     uint32    2 or 3 (1 used uint32 counts and lengths; rejected)
//	  n_tensors   int64     number of tensor infos in the directory
//	  n_kv        int64     number of key-value pairs
//
//	string:  len uint64, then len bytes (UTF-8 by convention, not NUL-terminated)
//
//	KV pair (n_kv times):
//	  key         string    non-empty, unique within the file
//	  type        uint32    a ValueType
//	  value                 encoded per type:
//	    uint8, int8, bool       1 byte (bool: 0 false, anything else true)
//	    uint16, int16           2 bytes
//	    uint32, int32, float32  4 bytes
//	    uint64, int64, float64  8 bytes
//	    string                  string
//	    array                   elem_type uint32, n uint64, then n values of
//	                            elem_type, back to back. An array of arrays
//	                            repeats (elem_type, n, values) for each
//	                            element, so inner arrays may differ in type.
//
// Versions 2 and 3 encode all of this identically (v3 only added the
// big-endian variant), which is why one reader serves both.
//
// The key "general.alignment", when present, must be a uint32 holding a
// nonzero power of two; it sets the alignment A used below. Without it A is
// 32.
//
//	tensor info (n_tensors times):
//	  name        string    unique; llama.cpp caps it at 63 bytes
//	  n_dims      uint32    at most 4
//	  ne          [n_dims]int64   ne[0] first: ne[0] is the row length, the
//	                              fastest-varying dimension
//	  type        uint32    a ggml type id (runtimes/ggml)
//	  offset      uint64    of the tensor's bytes, relative to the data section
//
//	padding:      zero bytes up to the next multiple of A (absolute file
//	              offset); only when n_tensors > 0
//	data section: each tensor's bytes at its offset, each followed by zero
//	              padding up to a multiple of A
//
// A tensor of type T with n elements takes n/blck(T)*size(T) bytes, where a
// block packs blck(T) elements into size(T) bytes. Rows never share a block,
// so ne[0] must be a multiple of blck(T); llama.cpp refuses files where it
// is not (early quantizers produced such files).
//
// llama.cpp requires each tensor's offset to be exactly where the previous
// tensor's padded bytes end (the first at 0). That implies aligned,
// non-overlapping, gap-free data in directory order, and it is what makes a
// canonical writer possible: offsets are a function of the directory. The
// file may end right after the last tensor's bytes, without the trailing
// padding; a vocab-only file (no tensors) ends right after the KV block, so
// its data section starts at the end of the KV block, unpadded, possibly
// "beyond" the last byte.

// MaxDims is the largest number of dimensions a tensor may have
// (GGML_MAX_DIMS).
const MaxDims = 4

// MaxNameLen is the longest tensor name in bytes llama.cpp accepts
// (GGML_MAX_NAME minus the terminating NUL).
const MaxNameLen = 63

// DefaultAlignment is the data alignment of a file without a
// general.alignment key.
const DefaultAlignment = 32

// AlignmentKey is the KV that overrides DefaultAlignment.
const AlignmentKey = "general.alignment"

// maxArrayDepth bounds the nesting of arrays of arrays. The format sets no
// limit (llama.cpp rejects nesting altogether); the bound keeps a hostile
// file from driving the recursive decoder arbitrarily deep.
const maxArrayDepth = 16

// magic opens every GGUF file.
const magic = "GGUF"

// ValueType is the type tag of a KV value (enum gguf_type).
type ValueType uint32

// The 13 value types. The ids are part of the format.
const (
	TypeUint8   ValueType = 0
	TypeInt8    ValueType = 1
	TypeUint16  ValueType = 2
	TypeInt16   ValueType = 3
	TypeUint32  ValueType = 4
	TypeInt32   ValueType = 5
	TypeFloat32 ValueType = 6
	TypeBool    ValueType = 7
	TypeString  ValueType = 8
	TypeArray   ValueType = 9
	TypeUint64  ValueType = 10
	TypeInt64   ValueType = 11
	TypeFloat64 ValueType = 12
)

var valueTypeNames = [...]string{
	"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32",
	"bool", "string", "array", "uint64", "int64", "float64",
}

// String returns the type's name ("uint32", "string", "array"), or
// "ValueType(N)" for an id outside the format.
func (t ValueType) String() string {
	if t.valid() {
		return valueTypeNames[t]
	}
	return fmt.Sprintf("ValueType(%d)", uint32(t))
}

func (t ValueType) valid() bool { return t <= TypeFloat64 }

// fixedSize is the encoded size of a scalar of type t, or 0 for string and
// array, whose size depends on their contents.
func (t ValueType) fixedSize() int64 {
	switch t {
	case TypeUint8, TypeInt8, TypeBool:
		return 1
	case TypeUint16, TypeInt16:
		return 2
	case TypeUint32, TypeInt32, TypeFloat32:
		return 4
	case TypeUint64, TypeInt64, TypeFloat64:
		return 8
	}
	return 0
}

// minSize is the fewest bytes one value of type t can take: a string needs
// its length, an array its element type and count. The reader multiplies an
// array's claimed count by it and compares with the bytes left, so a header
// cannot make it allocate more than the file holds.
func (t ValueType) minSize() int64 {
	switch t {
	case TypeString:
		return 8
	case TypeArray:
		return 4 + 8
	}
	return t.fixedSize()
}

// Minimal encoded sizes of a KV pair (key length + 1-byte key + type +
// 1-byte value) and of a tensor info (name length + empty name + n_dims +
// type + offset), used to bound the header's counts by the file size.
const (
	minKVSize     = 8 + 1 + 4 + 1
	minTensorSize = 8 + 4 + 4 + 8
)

func alignUp(n, a int64) int64 { return (n + a - 1) &^ (a - 1) }
