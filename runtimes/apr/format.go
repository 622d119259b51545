package apr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"

	"github.com/layerwise/parity/runtimes/ggml"
)

const (
	// HeaderSize is the fixed length of the header at offset 0.
	HeaderSize = 64
	// Alignment is the boundary aprender pads metadata, index and every
	// tensor payload to, so that mapped tensors start 64-byte aligned.
	Alignment = 64
	// MaxNameLen is the longest tensor name aprender writes (it truncates
	// longer ones), and so the longest this package accepts.
	MaxNameLen = 256
	// MaxDims is the largest ndim aprender writes.
	MaxDims = 8

	footerSize = 4
	// minEntrySize is the smallest valid index entry: a 1-byte name and one
	// dimension. It bounds tensor_count by the index region's length before
	// anything is allocated.
	minEntrySize = 2 + 1 + 1 + 1 + 8 + 16
)

// Sentinel categories: every *FormatError wraps exactly one, for errors.Is.
var (
	ErrBadMagic   = errors.New("apr: bad magic")
	ErrV1         = errors.New("apr: APR v1 not supported") // "APR1"/"APRN": the older family
	ErrBadVersion = errors.New("apr: unsupported version")
	// ErrHeaderChecksum marks a header whose CRC32 does not match its bytes.
	ErrHeaderChecksum = errors.New("apr: header checksum mismatch")
	// ErrFooterChecksum marks a file whose trailing CRC32 does not match the
	// bytes before it.
	ErrFooterChecksum = errors.New("apr: footer checksum mismatch")
	// ErrUnsupported marks a valid feature this package refuses: compressed
	// or encrypted payloads and the column-major layout flag.
	ErrUnsupported = errors.New("apr: unsupported file feature")
	// ErrLayout marks sections or tensor payloads outside the file, out of
	// order or overlapping, and truncated files.
	ErrLayout = errors.New("apr: bad file layout")
	// ErrMetadata marks metadata that is not a UTF-8 JSON object or has a
	// typed field of the wrong type.
	ErrMetadata = errors.New("apr: bad metadata")
	// ErrBadEntry marks a malformed tensor index entry: name, ndim, dims,
	// or a size that does not match dtype and shape.
	ErrBadEntry        = errors.New("apr: bad tensor index entry")
	ErrBadDType        = errors.New("apr: unsupported tensor dtype")
	ErrUnsorted        = errors.New("apr: tensor index not sorted")
	ErrDuplicateTensor = errors.New("apr: duplicate tensor name")
)

// FormatError reports malformed or unsupported input at a byte offset of the
// file.
type FormatError struct {
	Off int64  // byte offset the problem was found at
	Msg string // what is wrong, without the "apr:" prefix
	Err error  // the sentinel category, possibly joined with an underlying cause
}

func (e *FormatError) Error() string { return fmt.Sprintf("apr: offset %d: %s", e.Off, e.Msg) }

func (e *FormatError) Unwrap() error { return e.Err }

func formatErr(off int64, cause error, format string, args ...any) *FormatError {
	return &FormatError{Off: off, Msg: fmt.Sprintf(format, args...), Err: cause}
}

// Flags is the header's feature bit set.
type Flags uint16

// Flag bits, as aprender's AprV2Flags defines them.
const (
	FlagLZ4         Flags = 0x0001 // payload after the header is one LZ4 block (refused)
	FlagZstd        Flags = 0x0002 // payload after the header is a zstd stream (refused)
	FlagEncrypted   Flags = 0x0004 // AES-GCM payload (refused)
	FlagSigned      Flags = 0x0008
	FlagSharded     Flags = 0x0010
	FlagQuantized   Flags = 0x0020
	FlagFilterbank  Flags = 0x0040
	FlagModelCard   Flags = 0x0080
	FlagStreaming   Flags = 0x0100
	FlagVocab       Flags = 0x0200
	FlagRowMajor    Flags = 0x0400 // set by every aprender writer
	FlagColumnMajor Flags = 0x0800 // aprender's "dirty import" marker (refused)
)

var flagNames = []string{"lz4", "zstd", "encrypted", "signed", "sharded", "quantized",
	"filterbank", "model_card", "streaming", "vocab", "row_major", "column_major"}

// String lists the set bits by name ("row_major|vocab"); unnamed bits print
// as hex.
func (f Flags) String() string {
	var parts []string
	for i, name := range flagNames {
		if f&(1<<i) != 0 {
			parts = append(parts, name)
		}
	}
	if rest := f &^ (1<<len(flagNames) - 1); rest != 0 {
		parts = append(parts, fmt.Sprintf("0x%04x", uint16(rest)))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// Header is the fixed 64-byte file header, field for field.
type Header struct {
	Magic          [4]byte
	Major, Minor   uint8
	Flags          Flags
	TensorCount    uint32
	MetadataOffset uint64
	MetadataSize   uint32 // unpadded JSON length
	IndexOffset    uint64
	DataOffset     uint64
	Checksum       uint32 // CRC32 of the other 60 bytes; 0 = file not checksummed
	Reserved       [20]byte
}

func decodeHeader(b []byte) Header {
	var h Header
	copy(h.Magic[:], b[0:4])
	h.Major, h.Minor = b[4], b[5]
	h.Flags = Flags(binary.LittleEndian.Uint16(b[6:]))
	h.TensorCount = binary.LittleEndian.Uint32(b[8:])
	h.MetadataOffset = binary.LittleEndian.Uint64(b[12:])
	h.MetadataSize = binary.LittleEndian.Uint32(b[20:])
	h.IndexOffset = binary.LittleEndian.Uint64(b[24:])
	h.DataOffset = binary.LittleEndian.Uint64(b[32:])
	h.Checksum = binary.LittleEndian.Uint32(b[40:])
	copy(h.Reserved[:], b[44:64])
	return h
}

// Bytes encodes the header as stored, Checksum field included as is.
func (h *Header) Bytes() [HeaderSize]byte {
	var b [HeaderSize]byte
	copy(b[0:4], h.Magic[:])
	b[4], b[5] = h.Major, h.Minor
	binary.LittleEndian.PutUint16(b[6:], uint16(h.Flags))
	binary.LittleEndian.PutUint32(b[8:], h.TensorCount)
	binary.LittleEndian.PutUint64(b[12:], h.MetadataOffset)
	binary.LittleEndian.PutUint32(b[20:], h.MetadataSize)
	binary.LittleEndian.PutUint64(b[24:], h.IndexOffset)
	binary.LittleEndian.PutUint64(b[32:], h.DataOffset)
	binary.LittleEndian.PutUint32(b[40:], h.Checksum)
	copy(b[44:], h.Reserved[:])
	return b
}

// ComputeChecksum returns the CRC32/IEEE of the header bytes 0..40 followed
// by 44..64, i.e. everything but the checksum field.
func (h *Header) ComputeChecksum() uint32 {
	b := h.Bytes()
	c := crc32.Update(0, crc32.IEEETable, b[:40])
	return crc32.Update(c, crc32.IEEETable, b[44:])
}

// DType is the tensor index's element type byte.
type DType uint8

// The dtypes this package reads and writes. The first five are ggml type ids.
const (
	F32   DType = 0
	F16   DType = 1
	Q4_K  DType = 12
	Q6_K  DType = 14
	BF16  DType = 30
	APRQ4 DType = 128 // blocks of 32: f16 scale + 16 nibble bytes, see blocks.go
	APRQ8 DType = 129 // one f32 scale for the tensor + one int8 per element

	legacyAPRQ4 DType = 8 // pre-GH-438 spelling of APRQ4; collides with ggml Q8_0
	legacyAPRQ8 DType = 9 // pre-GH-438 spelling of APRQ8; collides with ggml Q8_1
)

// String returns aprender's display name ("F32", "Q4_K", "APR_Q4"), or
// "dtype(N)" for a byte this package does not accept.
func (dt DType) String() string {
	switch dt {
	case F32:
		return "F32"
	case F16:
		return "F16"
	case BF16:
		return "BF16"
	case Q4_K:
		return "Q4_K"
	case Q6_K:
		return "Q6_K"
	case APRQ4:
		return "APR_Q4"
	case APRQ8:
		return "APR_Q8"
	}
	return fmt.Sprintf("dtype(%d)", uint8(dt))
}

// Valid reports whether dt is one of the seven dtypes above.
func (dt DType) Valid() bool {
	switch dt {
	case F32, F16, BF16, Q4_K, Q6_K, APRQ4, APRQ8:
		return true
	}
	return false
}

// GGML returns the ggml type with the same byte and block layout. It reports
// false for the APR-native types, which have no ggml counterpart.
func (dt DType) GGML() (ggml.Type, bool) {
	switch dt {
	case F32, F16, BF16, Q4_K, Q6_K:
		return ggml.Type(dt), true
	}
	return 0, false
}

// FromGGML returns the dtype storing ggml type t unchanged. Only F32, F16,
// BF16, Q4_K and Q6_K have one; other ggml types must be converted.
func FromGGML(t ggml.Type) (DType, bool) {
	switch t {
	case ggml.F32, ggml.F16, ggml.BF16, ggml.Q4_K, ggml.Q6_K:
		return DType(t), true
	}
	return 0, false
}

// PayloadSize returns the exact byte length of a tensor of type dt and the
// given shape, as aprender's writers lay it out (see the package comment).
// Every dimension must be at least 1, there must be 1..MaxDims of them, and
// at most 2^55 elements in all.
func PayloadSize(dt DType, shape []int64) (int64, error) {
	return payloadSize(dt, shape, 1<<55)
}

// payloadSize is PayloadSize with the element count capped at limit, which
// must be ≤ 2^55: that keeps every product below 2^63 (the worst case, one
// 210-byte Q6_K block per element, stays under 2^62.8) and lets the reader refuse
// shapes its file cannot hold before multiplying.
func payloadSize(dt DType, shape []int64, limit int64) (int64, error) {
	if !dt.Valid() {
		return 0, fmt.Errorf("apr: unknown dtype %d", uint8(dt))
	}
	if len(shape) == 0 || len(shape) > MaxDims {
		return 0, fmt.Errorf("apr: %d dimensions, want 1..%d", len(shape), MaxDims)
	}
	n := int64(1)
	for i, d := range shape {
		if d < 1 {
			return 0, fmt.Errorf("apr: dimension %d is %d, want ≥ 1", i, d)
		}
		if d > limit/n {
			return 0, fmt.Errorf("apr: shape %v has more than %d elements", shape, limit)
		}
		n *= d
	}
	switch dt {
	case F32:
		return 4 * n, nil
	case F16, BF16:
		return 2 * n, nil
	case Q4_K, Q6_K:
		t, _ := dt.GGML()
		inner := shape[len(shape)-1]
		perRow := (inner + ggml.QK_K - 1) / ggml.QK_K * int64(t.TypeSize())
		return n / inner * perRow, nil
	case APRQ4:
		return (n + q4Block - 1) / q4Block * q4BlockBytes, nil
	default: // APRQ8
		return 4 + n, nil
	}
}

// numElements is the product of shape, which the caller has validated.
func numElements(shape []int64) int64 {
	n := int64(1)
	for _, d := range shape {
		n *= d
	}
	return n
}

func align64(n int64) int64 { return (n + Alignment - 1) &^ (Alignment - 1) }
