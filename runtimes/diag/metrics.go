package diag

import (
	"math"

	"github.com/layerwise/parity/stats"
)

// Float is a float64 that survives JSON: encoding/json refuses NaN and
// ±Inf, and a diagnostic tool must be able to report exactly those, so
// they are written as the strings "NaN", "+Inf" and "-Inf" (stats'
// convention); finite values as the shortest number that reads back to the
// same bits.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) { return stats.AppendFloat(nil, float64(f), 64), nil }

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	v, err := stats.ParseFloat(b, 64)
	*f = Float(v)
	return err
}

// Diff compares B's values with A's, A being the reference, over N
// elements. Sums are accumulated in float64 in element order, so the
// numbers depend only on the data.
type Diff struct {
	N int64 `json:"n"`
	// MaxAbs is the largest |b−a|; Row and Col locate its first
	// occurrence (row-major over the compared rows) and A and B are the
	// two values there. A NaN on exactly one side counts as +Inf, equal
	// non-finite values on both sides as 0.
	MaxAbs Float `json:"max_abs"`
	Row    int64 `json:"row"`
	Col    int64 `json:"col"`
	A      Float `json:"a"`
	B      Float `json:"b"`
	// RMS is sqrt(Σ(b−a)²/N).
	RMS Float `json:"rms"`
	// NMSE is Σ(b−a)²/Σa² (0/0 = 0, e/0 = +Inf), stats.Comparison's NMSE.
	NMSE Float `json:"nmse"`
	// Rel is the relative L2 difference ‖b−a‖/‖a‖ = sqrt(NMSE): the
	// "relative difference" a float rounding error of one ulp puts near
	// 6e-8 and the seed's rmsnorm check reports.
	Rel Float `json:"rel"`
}

// Zero reports whether every compared element is equal.
func (d *Diff) Zero() bool { return d.MaxAbs == 0 }

// acc accumulates a Diff over blocks of rows of width cols.
type acc struct {
	cols         int64
	n            int64
	errSq, refSq float64
	maxAbs       float64
	maxAt        int64
	aAt, bAt     float32
}

func newAcc(cols int) *acc { return &acc{cols: int64(max(cols, 1))} }

// add compares the next len(a) elements (b is as long).
func (c *acc) add(a, b []float32) {
	for i, av := range a {
		x, y := float64(av), float64(b[i])
		d := y - x
		c.errSq += float64(d * d)
		c.refSq += float64(x * x)
		if ad := absDiff(x, y); ad > c.maxAbs {
			c.maxAbs, c.maxAt, c.aAt, c.bAt = ad, c.n+int64(i), av, b[i]
		}
	}
	if c.n == 0 && len(a) > 0 && c.maxAbs == 0 {
		c.aAt, c.bAt = a[0], b[0]
	}
	c.n += int64(len(a))
}

func (c *acc) diff() Diff {
	d := Diff{N: c.n, MaxAbs: Float(c.maxAbs), Row: c.maxAt / c.cols, Col: c.maxAt % c.cols, A: Float(c.aAt), B: Float(c.bAt)}
	if c.n > 0 {
		d.RMS = Float(math.Sqrt(c.errSq / float64(c.n)))
	}
	switch {
	case c.errSq == 0 && c.refSq == 0:
		d.NMSE = 0
	default:
		d.NMSE = Float(c.errSq / c.refSq)
	}
	d.Rel = Float(math.Sqrt(float64(d.NMSE)))
	return d
}

// absDiff is |a−b| with stats.Comparison's rule for non-finite values.
func absDiff(a, b float64) float64 {
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an || bn:
		return math.Inf(1)
	case a == b: // equal infinities included
		return 0
	}
	return math.Abs(a - b)
}

// compare is the Diff of two equally long slices laid out as rows of cols.
func compare(a, b []float32, cols int) Diff {
	c := newAcc(cols)
	c.add(a, b)
	return c.diff()
}
