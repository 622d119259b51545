package gguf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// KV is one key-value pair of the metadata block.
type KV struct {
	Key   string
	Value Value
}

// Value is one KV value: a scalar of one of the 12 scalar types or an array.
// An array holds its element type and its elements; elements of an array of
// arrays are themselves array Values, each with its own element type.
//
// The zero Value is the uint8 0. Values are immutable; the slices returned
// by the array accessors share the Value's storage and must not be modified.
type Value struct {
	typ  ValueType
	elem ValueType // element type when typ == TypeArray
	num  uint64    // integers (signed ones sign-extended), float bits, bool as 0/1
	str  string
	arr  any // []uint8 … []float64, []bool, []string, or []Value for nested arrays
}

// Uint8 returns a uint8 Value.
func Uint8(v uint8) Value { return Value{typ: TypeUint8, num: uint64(v)} }

// Int8 returns an int8 Value.
func Int8(v int8) Value { return Value{typ: TypeInt8, num: uint64(int64(v))} }

// Uint16 returns a uint16 Value.
func Uint16(v uint16) Value { return Value{typ: TypeUint16, num: uint64(v)} }

// Int16 returns an int16 Value.
func Int16(v int16) Value { return Value{typ: TypeInt16, num: uint64(int64(v))} }

// Uint32 returns a uint32 Value.
func Uint32(v uint32) Value { return Value{typ: TypeUint32, num: uint64(v)} }

// Int32 returns an int32 Value.
func Int32(v int32) Value { return Value{typ: TypeInt32, num: uint64(int64(v))} }

// Uint64 returns a uint64 Value.
func Uint64(v uint64) Value { return Value{typ: TypeUint64, num: v} }

// Int64 returns an int64 Value.
func Int64(v int64) Value { return Value{typ: TypeInt64, num: uint64(v)} }

// Float32 returns a float32 Value.
func Float32(v float32) Value { return Value{typ: TypeFloat32, num: uint64(math.Float32bits(v))} }

// Float64 returns a float64 Value.
func Float64(v float64) Value { return Value{typ: TypeFloat64, num: math.Float64bits(v)} }

// String returns a string Value.
func String(s string) Value { return Value{typ: TypeString, str: s} }

// Bool returns a bool Value.
func Bool(b bool) Value {
	v := Value{typ: TypeBool}
	if b {
		v.num = 1
	}
	return v
}

// Uint8Array returns an array of uint8 holding a copy of s.
func Uint8Array(s []uint8) Value { return array(TypeUint8, s) }

// Int8Array returns an array of int8 holding a copy of s.
func Int8Array(s []int8) Value { return array(TypeInt8, s) }

// Uint16Array returns an array of uint16 holding a copy of s.
func Uint16Array(s []uint16) Value { return array(TypeUint16, s) }

// Int16Array returns an array of int16 holding a copy of s.
func Int16Array(s []int16) Value { return array(TypeInt16, s) }

// Uint32Array returns an array of uint32 holding a copy of s.
func Uint32Array(s []uint32) Value { return array(TypeUint32, s) }

// Int32Array returns an array of int32 holding a copy of s.
func Int32Array(s []int32) Value { return array(TypeInt32, s) }

// Uint64Array returns an array of uint64 holding a copy of s.
func Uint64Array(s []uint64) Value { return array(TypeUint64, s) }

// Int64Array returns an array of int64 holding a copy of s.
func Int64Array(s []int64) Value { return array(TypeInt64, s) }

// Float32Array returns an array of float32 holding a copy of s.
func Float32Array(s []float32) Value { return array(TypeFloat32, s) }

// Float64Array returns an array of float64 holding a copy of s.
func Float64Array(s []float64) Value { return array(TypeFloat64, s) }

// BoolArray returns an array of bool holding a copy of s.
func BoolArray(s []bool) Value { return array(TypeBool, s) }

// StringArray returns an array of string holding a copy of s.
func StringArray(s []string) Value { return array(TypeString, s) }

func array[T any](elem ValueType, s []T) Value {
	return Value{typ: TypeArray, elem: elem, arr: append([]T(nil), s...)}
}

// ArrayOf returns an array of elem whose elements are vals. Every element
// must have type elem (for elem == TypeArray: be an array of any element
// type); ArrayOf panics otherwise, as that is a programming error.
func ArrayOf(elem ValueType, vals []Value) Value {
	for i, v := range vals {
		if v.typ != elem {
			panic(fmt.Sprintf("gguf: ArrayOf(%v): element %d has type %v", elem, i, v.typ))
		}
	}
	var arr any
	switch elem {
	case TypeUint8:
		arr = mapVals(vals, func(v Value) uint8 { return uint8(v.num) })
	case TypeInt8:
		arr = mapVals(vals, func(v Value) int8 { return int8(v.num) })
	case TypeUint16:
		arr = mapVals(vals, func(v Value) uint16 { return uint16(v.num) })
	case TypeInt16:
		arr = mapVals(vals, func(v Value) int16 { return int16(v.num) })
	case TypeUint32:
		arr = mapVals(vals, func(v Value) uint32 { return uint32(v.num) })
	case TypeInt32:
		arr = mapVals(vals, func(v Value) int32 { return int32(v.num) })
	case TypeUint64:
		arr = mapVals(vals, func(v Value) uint64 { return v.num })
	case TypeInt64:
		arr = mapVals(vals, func(v Value) int64 { return int64(v.num) })
	case TypeFloat32:
		arr = mapVals(vals, func(v Value) float32 { return math.Float32frombits(uint32(v.num)) })
	case TypeFloat64:
		arr = mapVals(vals, func(v Value) float64 { return math.Float64frombits(v.num) })
	case TypeBool:
		arr = mapVals(vals, func(v Value) bool { return v.num != 0 })
	case TypeString:
		arr = mapVals(vals, func(v Value) string { return v.str })
	case TypeArray:
		arr = append([]Value(nil), vals...)
	default:
		panic(fmt.Sprintf("gguf: ArrayOf: invalid element type %v", elem))
	}
	return Value{typ: TypeArray, elem: elem, arr: arr}
}

func mapVals[T any](vals []Value, f func(Value) T) []T {
	out := make([]T, len(vals))
	for i, v := range vals {
		out[i] = f(v)
	}
	return out
}

// Type returns the value's type; TypeArray for any array.
func (v Value) Type() ValueType { return v.typ }

// ArrayType returns the element type of an array; ok is false for a scalar.
func (v Value) ArrayType() (ValueType, bool) { return v.elem, v.typ == TypeArray }

// Len returns the number of elements of an array, and 0 for a scalar.
func (v Value) Len() int {
	switch a := v.arr.(type) {
	case nil:
		return 0
	case []uint8:
		return len(a)
	case []int8:
		return len(a)
	case []uint16:
		return len(a)
	case []int16:
		return len(a)
	case []uint32:
		return len(a)
	case []int32:
		return len(a)
	case []uint64:
		return len(a)
	case []int64:
		return len(a)
	case []float32:
		return len(a)
	case []float64:
		return len(a)
	case []bool:
		return len(a)
	case []string:
		return len(a)
	case []Value:
		return len(a)
	}
	panic("unreachable")
}

// Index returns element i of an array as a Value. It panics if v is not an
// array or i is out of range.
func (v Value) Index(i int) Value {
	switch a := v.arr.(type) {
	case []uint8:
		return Uint8(a[i])
	case []int8:
		return Int8(a[i])
	case []uint16:
		return Uint16(a[i])
	case []int16:
		return Int16(a[i])
	case []uint32:
		return Uint32(a[i])
	case []int32:
		return Int32(a[i])
	case []uint64:
		return Uint64(a[i])
	case []int64:
		return Int64(a[i])
	case []float32:
		return Float32(a[i])
	case []float64:
		return Float64(a[i])
	case []bool:
		return Bool(a[i])
	case []string:
		return String(a[i])
	case []Value:
		return a[i]
	}
	panic("gguf: Index of a scalar Value")
}

func (t ValueType) isSigned() bool {
	return t == TypeInt8 || t == TypeInt16 || t == TypeInt32 || t == TypeInt64
}

func (t ValueType) isUnsigned() bool {
	return t == TypeUint8 || t == TypeUint16 || t == TypeUint32 || t == TypeUint64
}

// Uint returns a scalar integer of any width or signedness as a uint64; ok
// is false for other types and for negative values.
func (v Value) Uint() (uint64, bool) {
	switch {
	case v.typ.isUnsigned():
		return v.num, true
	case v.typ.isSigned():
		return v.num, int64(v.num) >= 0
	}
	return 0, false
}

// Int returns a scalar integer of any width or signedness as an int64; ok
// is false for other types and for a uint64 above math.MaxInt64.
func (v Value) Int() (int64, bool) {
	switch {
	case v.typ.isSigned():
		return int64(v.num), true
	case v.typ.isUnsigned():
		return int64(v.num), v.num <= math.MaxInt64
	}
	return 0, false
}

// Float returns a float32 or float64 scalar as a float64; ok is false for
// every other type, integers included.
func (v Value) Float() (float64, bool) {
	switch v.typ {
	case TypeFloat32:
		return float64(math.Float32frombits(uint32(v.num))), true
	case TypeFloat64:
		return math.Float64frombits(v.num), true
	}
	return 0, false
}

// Bool returns a bool scalar.
func (v Value) Bool() (bool, bool) { return v.num != 0, v.typ == TypeBool }

// Str returns a string scalar.
func (v Value) Str() (string, bool) { return v.str, v.typ == TypeString }

// Strings returns the elements of a string array.
func (v Value) Strings() ([]string, bool) {
	s, ok := v.arr.([]string)
	return s, ok
}

// Float32s returns the elements of a float32 array, or those of a float64
// array converted to float32 (in a new slice).
func (v Value) Float32s() ([]float32, bool) {
	switch a := v.arr.(type) {
	case []float32:
		return a, true
	case []float64:
		out := make([]float32, len(a))
		for i, x := range a {
			out[i] = float32(x)
		}
		return out, true
	}
	return nil, false
}

// Int32s returns the elements of an int32 array, or those of any other
// integer array (in a new slice) when every element fits in an int32.
func (v Value) Int32s() ([]int32, bool) {
	if a, ok := v.arr.([]int32); ok {
		return a, true
	}
	ints, ok := v.Ints()
	if !ok {
		return nil, false
	}
	out := make([]int32, len(ints))
	for i, x := range ints {
		if x < math.MinInt32 || x > math.MaxInt32 {
			return nil, false
		}
		out[i] = int32(x)
	}
	return out, true
}

// Ints returns the elements of an integer array of any width as int64s (in
// a new slice); ok is false when a uint64 element exceeds math.MaxInt64.
func (v Value) Ints() ([]int64, bool) {
	if v.typ != TypeArray || !(v.elem.isSigned() || v.elem.isUnsigned()) {
		return nil, false
	}
	out := make([]int64, v.Len())
	for i := range out {
		x, ok := v.Index(i).Int()
		if !ok {
			return nil, false
		}
		out[i] = x
	}
	return out, true
}

// Uints returns the elements of an integer array of any width as uint64s
// (in a new slice); ok is false when an element is negative.
func (v Value) Uints() ([]uint64, bool) {
	if v.typ != TypeArray || !(v.elem.isSigned() || v.elem.isUnsigned()) {
		return nil, false
	}
	out := make([]uint64, v.Len())
	for i := range out {
		x, ok := v.Index(i).Uint()
		if !ok {
			return nil, false
		}
		out[i] = x
	}
	return out, true
}

// Equal reports whether v and w have the same type and contents. Floats
// compare by bit pattern, so a NaN equals itself and 0 differs from -0:
// Equal means "encodes to the same bytes".
func (v Value) Equal(w Value) bool {
	if v.typ != w.typ || v.elem != w.elem || v.num != w.num || v.str != w.str {
		return false
	}
	if v.typ != TypeArray {
		return true
	}
	n := v.Len()
	if w.Len() != n {
		return false
	}
	for i := 0; i < n; i++ {
		if !v.Index(i).Equal(w.Index(i)) {
			return false
		}
	}
	return true
}

// displayElems is how many array elements String shows.
const displayElems = 6

// String formats the value for display: scalars as Go literals (strings
// quoted), arrays as "[type×n: e0, e1, …]" with at most a few elements.
func (v Value) String() string {
	switch v.typ {
	case TypeString:
		return strconv.Quote(v.str)
	case TypeBool:
		return strconv.FormatBool(v.num != 0)
	case TypeFloat32:
		f, _ := v.Float()
		return strconv.FormatFloat(f, 'g', -1, 32)
	case TypeFloat64:
		f, _ := v.Float()
		return strconv.FormatFloat(f, 'g', -1, 64)
	case TypeArray:
		var b strings.Builder
		n := v.Len()
		fmt.Fprintf(&b, "[%v×%d", v.elem, n)
		for i := 0; i < n && i < displayElems; i++ {
			if i == 0 {
				b.WriteString(": ")
			} else {
				b.WriteString(", ")
			}
			b.WriteString(v.Index(i).String())
		}
		if n > displayElems {
			b.WriteString(", …")
		}
		b.WriteString("]")
		return b.String()
	}
	if v.typ.isSigned() {
		return strconv.FormatInt(int64(v.num), 10)
	}
	return strconv.FormatUint(v.num, 10)
}
