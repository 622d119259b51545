package apr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The metadata writer spells JSON the way serde_json does, so a model
// written here and the same model written by aprender carry the same bytes:
// compact, strings escaped minimally (only '"', '\\' and control characters;
// '<', '>', '&', U+2028 and non-ASCII are left as is, unlike encoding/json),
// f32 values in Rust's ryu notation. Custom values, which serde holds as
// serde_json::Value, are re-emitted with object keys sorted (serde_json's
// default BTreeMap) and numbers kept as written.

// appendString appends s as a serde_json string literal. s must be UTF-8:
// a Rust String cannot hold anything else.
func appendString(b []byte, s string) ([]byte, error) {
	if !utf8.ValidString(s) {
		return b, fmt.Errorf("apr: string %q is not valid UTF-8", s)
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	b = append(b, s[start:]...)
	return append(b, '"'), nil
}

// appendF32 appends f as serde_json writes an f32 (ryu's format32): the
// shortest digits that round-trip, in plain notation ("1000000.0",
// "0.000001") while the decimal exponent allows, scientific ("1e-7",
// "1.5e20") beyond. serde writes non-finite values as null, which would not
// read back; they are refused.
func appendF32(b []byte, f float32) ([]byte, error) {
	if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
		return b, fmt.Errorf("apr: non-finite float %v cannot be stored", f)
	}
	if math.Signbit(float64(f)) {
		b = append(b, '-')
		f = -f
	}
	if f == 0 {
		return append(b, "0.0"...), nil
	}
	// Shortest round-trip digits d1.d2d3…e±X, as ryu computes them.
	s := strconv.FormatFloat(float64(f), 'e', -1, 32)
	mant, exp, _ := strings.Cut(s, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	length := len(digits)
	kk := x + 1      // 10^(kk-1) <= f < 10^kk
	k := kk - length // f = digits · 10^k
	switch {
	case k >= 0 && kk <= 13:
		b = append(b, digits...)
		for range k {
			b = append(b, '0')
		}
		return append(b, '.', '0'), nil
	case kk > 0 && kk <= 13:
		b = append(b, digits[:kk]...)
		b = append(b, '.')
		return append(b, digits[kk:]...), nil
	case kk > -6 && kk <= 0:
		b = append(b, '0', '.')
		for range -kk {
			b = append(b, '0')
		}
		return append(b, digits...), nil
	}
	b = append(b, digits[0])
	if length > 1 {
		b = append(b, '.')
		b = append(b, digits[1:]...)
	}
	b = append(b, 'e')
	return strconv.AppendInt(b, int64(kk-1), 10), nil
}

// canonicalJSON re-emits one JSON value in the form described above. It
// fails on anything that is not exactly one valid JSON value.
func canonicalJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if rest := bytes.Trim(raw[dec.InputOffset():], " \t\r\n"); len(rest) > 0 {
		return nil, errors.New("trailing data after JSON value")
	}
	return appendValue(nil, v)
}

func appendValue(b []byte, v any) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case json.Number:
		return append(b, v...), nil
	case string:
		return appendString(b, v)
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendValue(b, e); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case map[string]any:
		b = append(b, '{')
		for i, k := range slices.Sorted(maps.Keys(v)) {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendString(b, k); err != nil {
				return b, err
			}
			b = append(b, ':')
			if b, err = appendValue(b, v[k]); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	return b, fmt.Errorf("apr: unexpected JSON value %T", v)
}
