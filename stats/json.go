package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// JSON form of a Summary, with stable snake_case keys in this order:
//
//	{"count":N,"nan":N,"inf":N,"zero":N,"mean":F,"m2":F,"min":F,"max":F,"sum_sq":F}
//
// Integers are JSON integers. Floats are JSON numbers in the shortest form
// that parses back to the same bits (float32 precision for min and max).
// JSON has no NaN or infinity, so a non-finite float is written as one of
// the strings "NaN", "+Inf" or "-Inf"; in practice only min and max of a
// summary without finite values take that form. Unknown keys are ignored
// on input, so a later version may add fields.

// MarshalJSON implements json.Marshaler.
func (s Summary) MarshalJSON() ([]byte, error) {
	return s.AppendJSON(make([]byte, 0, 160)), nil
}

// AppendJSON appends the JSON form of s to b. Encoders of large traces use
// it to avoid reflection.
func (s Summary) AppendJSON(b []byte) []byte {
	b = append(b, `{"count":`...)
	b = strconv.AppendInt(b, s.Count, 10)
	b = append(b, `,"nan":`...)
	b = strconv.AppendInt(b, s.NaN, 10)
	b = append(b, `,"inf":`...)
	b = strconv.AppendInt(b, s.Inf, 10)
	b = append(b, `,"zero":`...)
	b = strconv.AppendInt(b, s.Zero, 10)
	b = append(b, `,"mean":`...)
	b = AppendFloat(b, s.Mean, 64)
	b = append(b, `,"m2":`...)
	b = AppendFloat(b, s.M2, 64)
	b = append(b, `,"min":`...)
	b = AppendFloat(b, float64(s.Min), 32)
	b = append(b, `,"max":`...)
	b = AppendFloat(b, float64(s.Max), 32)
	b = append(b, `,"sum_sq":`...)
	b = AppendFloat(b, s.SumSq, 64)
	return append(b, '}')
}

// UnmarshalJSON implements json.Unmarshaler. It checks syntax only; call
// Validate for the semantic invariants.
func (s *Summary) UnmarshalJSON(data []byte) error {
	var w struct {
		Count int64    `json:"count"`
		NaN   int64    `json:"nan"`
		Inf   int64    `json:"inf"`
		Zero  int64    `json:"zero"`
		Mean  jFloat   `json:"mean"`
		M2    jFloat   `json:"m2"`
		Min   jFloat32 `json:"min"`
		Max   jFloat32 `json:"max"`
		SumSq jFloat   `json:"sum_sq"`
	}
	if err := json.Unmarshal(data, &w); err != nil {
		return fmt.Errorf("stats: summary: %w", err)
	}
	*s = Summary{
		Count: w.Count, NaN: w.NaN, Inf: w.Inf, Zero: w.Zero,
		Mean: float64(w.Mean), M2: float64(w.M2),
		Min: float32(w.Min), Max: float32(w.Max),
		SumSq: float64(w.SumSq),
	}
	return nil
}

// AppendFloat appends v as a JSON value: the shortest decimal that parses
// back to the same bits at the given precision (32 or 64), or the string
// "NaN", "+Inf" or "-Inf".
func AppendFloat(b []byte, v float64, bitSize int) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(b, `"+Inf"`...)
	case math.IsInf(v, -1):
		return append(b, `"-Inf"`...)
	}
	return strconv.AppendFloat(b, v, 'g', -1, bitSize)
}

// ParseFloat parses the JSON value written by AppendFloat, rounding once to
// the given precision (32 or 64). A finite number too large for that
// precision is an error, not an infinity.
func ParseFloat(data []byte, bitSize int) (float64, error) {
	switch string(data) {
	case `"NaN"`:
		return math.NaN(), nil
	case `"+Inf"`:
		return math.Inf(1), nil
	case `"-Inf"`:
		return math.Inf(-1), nil
	}
	if len(data) == 0 || data[0] == '"' {
		return 0, fmt.Errorf("stats: bad float %q", data)
	}
	// json.Number checks the JSON number grammar, which strconv alone
	// would not ("inf", "0x1p3" and "1_0" parse there).
	var n json.Number
	if err := json.Unmarshal(data, &n); err != nil {
		return 0, fmt.Errorf("stats: bad float %q: %w", data, err)
	}
	v, err := strconv.ParseFloat(string(n), bitSize)
	if err != nil {
		return 0, fmt.Errorf("stats: bad float %q: %w", data, err)
	}
	return v, nil
}

// jFloat is a float64 in the AppendFloat encoding.
type jFloat float64

func (f *jFloat) UnmarshalJSON(data []byte) error {
	v, err := ParseFloat(data, 64)
	*f = jFloat(v)
	return err
}

// jFloat32 is a float32 in the AppendFloat encoding.
type jFloat32 float32

func (f *jFloat32) UnmarshalJSON(data []byte) error {
	v, err := ParseFloat(data, 32)
	*f = jFloat32(v)
	return err
}
