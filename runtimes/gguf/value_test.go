package gguf

import (
	"math"
	"testing"
)

func TestValueAccessors(t *testing.T) {
	if u, ok := Int8(-1).Uint(); ok {
		t.Errorf("Int8(-1).Uint() = %d, true", u)
	}
	if u, ok := Int16(300).Uint(); !ok || u != 300 {
		t.Errorf("Int16(300).Uint() = %d, %v", u, ok)
	}
	if i, ok := Uint64(math.MaxUint64).Int(); ok {
		t.Errorf("Uint64(max).Int() = %d, true", i)
	}
	if i, ok := Int32(-7).Int(); !ok || i != -7 {
		t.Errorf("Int32(-7).Int() = %d, %v", i, ok)
	}
	if _, ok := Uint32(1).Float(); ok {
		t.Error("Uint32.Float() succeeded")
	}
	if f, ok := Float32(0.5).Float(); !ok || f != 0.5 {
		t.Errorf("Float32(0.5).Float() = %v, %v", f, ok)
	}
	if _, ok := String("1").Uint(); ok {
		t.Error("String.Uint() succeeded")
	}
	if b, ok := Bool(true).Bool(); !ok || !b {
		t.Error("Bool(true).Bool()")
	}
	if _, ok := Uint8(1).Bool(); ok {
		t.Error("Uint8.Bool() succeeded")
	}
	if s, ok := String("x").Str(); !ok || s != "x" {
		t.Error("String.Str()")
	}

	u32 := Uint32Array([]uint32{1, math.MaxInt32})
	if et, ok := u32.ArrayType(); !ok || et != TypeUint32 || u32.Type() != TypeArray || u32.Len() != 2 {
		t.Errorf("array type %v %v, len %d", et, ok, u32.Len())
	}
	if s, ok := u32.Int32s(); !ok || s[1] != math.MaxInt32 {
		t.Errorf("Int32s of uint32s = %v, %v", s, ok)
	}
	if _, ok := Uint32Array([]uint32{math.MaxInt32 + 1}).Int32s(); ok {
		t.Error("Int32s accepted a value above MaxInt32")
	}
	if _, ok := Int8Array([]int8{-1}).Uints(); ok {
		t.Error("Uints accepted a negative element")
	}
	if u, ok := Int16Array([]int16{3}).Uints(); !ok || u[0] != 3 {
		t.Errorf("Uints = %v, %v", u, ok)
	}
	if f, ok := Float64Array([]float64{0.25}).Float32s(); !ok || f[0] != 0.25 {
		t.Errorf("Float32s of float64s = %v, %v", f, ok)
	}
	if _, ok := StringArray(nil).Float32s(); ok {
		t.Error("Float32s of strings succeeded")
	}
	if _, ok := Uint8(1).ArrayType(); ok || Uint8(1).Len() != 0 {
		t.Error("scalar reports as array")
	}
	if _, ok := Float32Array(nil).Ints(); ok {
		t.Error("Ints of floats succeeded")
	}
	if v := ArrayOf(TypeString, []Value{String("a")}); !v.Equal(StringArray([]string{"a"})) || v.Index(0).String() != `"a"` {
		t.Errorf("ArrayOf(string) = %v", v)
	}
}

func TestValueEqual(t *testing.T) {
	nan := Float32(float32(math.NaN()))
	if !nan.Equal(nan) || Float64(0).Equal(Float64(math.Copysign(0, -1))) {
		t.Error("floats must compare by bits")
	}
	if Uint32(1).Equal(Int32(1)) || Uint32Array([]uint32{1}).Equal(Uint32Array([]uint32{1, 2})) {
		t.Error("different type or length compared equal")
	}
	a := ArrayOf(TypeArray, []Value{Int8Array([]int8{1})})
	b := ArrayOf(TypeArray, []Value{Int8Array([]int8{2})})
	if a.Equal(b) || !a.Equal(a) {
		t.Error("nested arrays compared wrongly")
	}
}

func TestValueString(t *testing.T) {
	tests := []struct {
		v    Value
		want string
	}{
		{Int8(-3), "-3"},
		{Uint64(math.MaxUint64), "18446744073709551615"},
		{Float32(0.1), "0.1"},
		{Bool(false), "false"},
		{String("a\"b"), `"a\"b"`},
		{StringArray(nil), "[string×0]"},
		{Int32Array([]int32{1, 2, 3, 4, 5, 6, 7}), "[int32×7: 1, 2, 3, 4, 5, 6, …]"},
		{ArrayOf(TypeArray, []Value{BoolArray([]bool{true})}), "[array×1: [bool×1: true]]"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("String() = %s, want %s", got, tt.want)
		}
	}
	if TypeFloat64.String() != "float64" || ValueType(13).String() != "ValueType(13)" {
		t.Error("ValueType.String")
	}
}
