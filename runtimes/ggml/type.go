package ggml

import (
	"fmt"
	"strings"
)

// Type is a ggml tensor element type as stored in GGUF tensor infos
// (enum ggml_type in ggml.h). The ids are part of the file format and never
// change; removed types leave holes (4, 5, 31–33, 36–38).
type Type uint32

// The ggml types at llama.cpp commit 3f545bec (GGML_TYPE_COUNT = 43).
const (
	F32     Type = 0
	F16     Type = 1
	Q4_0    Type = 2
	Q4_1    Type = 3
	Q5_0    Type = 6
	Q5_1    Type = 7
	Q8_0    Type = 8
	Q8_1    Type = 9
	Q2_K    Type = 10
	Q3_K    Type = 11
	Q4_K    Type = 12
	Q5_K    Type = 13
	Q6_K    Type = 14
	Q8_K    Type = 15
	IQ2_XXS Type = 16
	IQ2_XS  Type = 17
	IQ3_XXS Type = 18
	IQ1_S   Type = 19
	IQ4_NL  Type = 20
	IQ3_S   Type = 21
	IQ2_S   Type = 22
	IQ4_XS  Type = 23
	I8      Type = 24
	I16     Type = 25
	I32     Type = 26
	I64     Type = 27
	F64     Type = 28
	IQ1_M   Type = 29
	BF16    Type = 30
	TQ1_0   Type = 34
	TQ2_0   Type = 35
	MXFP4   Type = 39
	NVFP4   Type = 40
	Q1_0    Type = 41
	Q2_0    Type = 42
)

// QK_K is the super-block size of the K-quants and of the IQ types.
const QK_K = 256

// traits mirrors the blck_size/type_size columns of ggml's type_traits
// table (ggml.c). Sizes are those of the packed C structs in ggml-common.h.
type traits struct {
	name      string
	blockSize int // elements per block
	typeSize  int // bytes per block
}

var table = map[Type]traits{
	F32:     {"f32", 1, 4},
	F16:     {"f16", 1, 2},
	Q4_0:    {"q4_0", 32, 2 + 16},
	Q4_1:    {"q4_1", 32, 2 + 2 + 16},
	Q5_0:    {"q5_0", 32, 2 + 4 + 16},
	Q5_1:    {"q5_1", 32, 2 + 2 + 4 + 16},
	Q8_0:    {"q8_0", 32, 2 + 32},
	Q8_1:    {"q8_1", 32, 2 + 2 + 32},
	Q2_K:    {"q2_K", QK_K, 16 + 64 + 2 + 2},
	Q3_K:    {"q3_K", QK_K, 32 + 64 + 12 + 2},
	Q4_K:    {"q4_K", QK_K, 2 + 2 + 12 + 128},
	Q5_K:    {"q5_K", QK_K, 2 + 2 + 12 + 32 + 128},
	Q6_K:    {"q6_K", QK_K, 128 + 64 + 16 + 2},
	Q8_K:    {"q8_K", QK_K, 4 + 256 + 16*2},
	IQ2_XXS: {"iq2_xxs", QK_K, 2 + 64},
	IQ2_XS:  {"iq2_xs", QK_K, 2 + 64 + 8},
	IQ3_XXS: {"iq3_xxs", QK_K, 2 + 96},
	IQ1_S:   {"iq1_s", QK_K, 2 + 32 + 16},
	IQ4_NL:  {"iq4_nl", 32, 2 + 16},
	IQ3_S:   {"iq3_s", QK_K, 2 + 64 + 8 + 32 + 4},
	IQ2_S:   {"iq2_s", QK_K, 2 + 64 + 8 + 8},
	IQ4_XS:  {"iq4_xs", QK_K, 2 + 2 + 4 + 128},
	I8:      {"i8", 1, 1},
	I16:     {"i16", 1, 2},
	I32:     {"i32", 1, 4},
	I64:     {"i64", 1, 8},
	F64:     {"f64", 1, 8},
	IQ1_M:   {"iq1_m", QK_K, 32 + 16 + 8},
	BF16:    {"bf16", 1, 2},
	TQ1_0:   {"tq1_0", QK_K, 48 + 4 + 2},
	TQ2_0:   {"tq2_0", QK_K, 64 + 2},
	MXFP4:   {"mxfp4", 32, 1 + 16},
	NVFP4:   {"nvfp4", 64, 4 + 32},
	Q1_0:    {"q1_0", 128, 2 + 16},
	Q2_0:    {"q2_0", 64, 2 + 16},
}

// Known reports whether t is a type this table describes.
func (t Type) Known() bool { _, ok := table[t]; return ok }

// String returns ggml's name for the type ("q4_K", "f32"), or "type(N)"
// for an id the table does not know.
func (t Type) String() string {
	if tr, ok := table[t]; ok {
		return tr.name
	}
	return fmt.Sprintf("type(%d)", uint32(t))
}

// BlockSize is the number of elements in one block (1 for plain types).
// It is 0 for an unknown type.
func (t Type) BlockSize() int { return table[t].blockSize }

// TypeSize is the number of bytes in one block. It is 0 for an unknown type.
func (t Type) TypeSize() int { return table[t].typeSize }

// IsQuantized reports whether the type packs several elements per block.
func (t Type) IsQuantized() bool { return t.BlockSize() > 1 }

// UnknownTypeError reports a type id absent from the table.
type UnknownTypeError struct{ ID uint32 }

func (e *UnknownTypeError) Error() string {
	return fmt.Sprintf("ggml: unknown tensor type id %d", e.ID)
}

// Check returns an *UnknownTypeError when t is not in the table.
func (t Type) Check() error {
	if !t.Known() {
		return &UnknownTypeError{ID: uint32(t)}
	}
	return nil
}

// RowSize returns the bytes taken by n elements of type t. It fails when
// the type is unknown or n is not a multiple of the block size, which is
// the condition llama.cpp's loader rejects a tensor for.
func (t Type) RowSize(n int64) (int64, error) {
	tr, ok := table[t]
	if !ok {
		return 0, &UnknownTypeError{ID: uint32(t)}
	}
	if n < 0 || n%int64(tr.blockSize) != 0 {
		return 0, fmt.Errorf("ggml: %d elements is not a multiple of the %s block size (%d)", n, tr.name, tr.blockSize)
	}
	return n / int64(tr.blockSize) * int64(tr.typeSize), nil
}

// ParseType maps a ggml type name (case-insensitive: "Q4_K", "q4_k", "f32")
// back to its Type.
func ParseType(name string) (Type, error) {
	for t, tr := range table {
		if strings.EqualFold(tr.name, name) {
			return t, nil
		}
	}
	return 0, fmt.Errorf("ggml: unknown type name %q", name)
}

// Types returns every known type in id order.
func Types() []Type {
	out := make([]Type, 0, len(table))
	for id := Type(0); id < 64; id++ {
		if _, ok := table[id]; ok {
			out = append(out, id)
		}
	}
	return out
}
