package probes

import (
	"math"

	"github.com/layerwise/parity/stats"
)

// summariseRows sets per[j] to the summary of rows[j] that stats'
// AddSlice computes (into an empty Summary), bit for bit, four rows at a
// time. AddSlice's float64 sums run in element order, so one row is a
// chain of dependent adds; interleaving four rows' chains keeps the CPU
// busy, which makes tracing a prefill several times cheaper. All rows have
// the same length.
func summariseRows(per []stats.Summary, rows [][]float32) {
	j := 0
	for ; j+4 <= len(rows); j += 4 {
		summarise4((*[4]stats.Summary)(per[j:]), rows[j], rows[j+1], rows[j+2], rows[j+3])
	}
	for ; j < len(rows); j++ {
		per[j].AddSlice(rows[j])
	}
}

// rowAcc is AddSlice's first-pass state for one row.
type rowAcc struct {
	nan, inf, zero int64
	sum, sumSq     float64
	lo, hi         float32
}

func (a *rowAcc) add(x float32) {
	if x != x {
		a.nan++
		return
	}
	if x > math.MaxFloat32 || x < -math.MaxFloat32 {
		a.inf++
		return
	}
	if x == 0 {
		a.zero++
	}
	a.lo = min32(a.lo, x)
	a.hi = max32(a.hi, x)
	v := float64(x)
	a.sum += v
	a.sumSq += float64(v * v)
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// min32 and max32 are AddSlice's "if x < lo { lo = x }" on finite x.
func min32(lo, x float32) float32 {
	if x < lo {
		return x
	}
	return lo
}

func max32(hi, x float32) float32 {
	if x > hi {
		return x
	}
	return hi
}

func summarise4(out *[4]stats.Summary, r0, r1, r2, r3 []float32) {
	n := len(r0)
	r1, r2, r3 = r1[:n], r2[:n], r3[:n]
	inf32 := float32(math.Inf(1))
	var a [4]rowAcc
	for k := range a {
		a[k].lo, a[k].hi = inf32, -inf32
	}
	// Two rows per loop, their running sums in locals (registers): the
	// finite case is one compare per value, the rest goes through add.
	for k := 0; k < 4; k += 2 {
		ra, rb := [4][]float32{r0, r1, r2, r3}[k], [4][]float32{r0, r1, r2, r3}[k+1]
		rb = rb[:len(ra)]
		aa, ab := &a[k], &a[k+1]
		sa, qa, la, ha := aa.sum, aa.sumSq, aa.lo, aa.hi
		sb, qb, lb, hb := ab.sum, ab.sumSq, ab.lo, ab.hi
		for i, x := range ra {
			y := rb[i]
			if abs32(x) <= math.MaxFloat32 && x != 0 {
				la, ha = min32(la, x), max32(ha, x)
				v := float64(x)
				sa += v
				qa += float64(v * v)
			} else {
				aa.sum, aa.sumSq, aa.lo, aa.hi = sa, qa, la, ha
				aa.add(x)
				sa, qa, la, ha = aa.sum, aa.sumSq, aa.lo, aa.hi
			}
			if abs32(y) <= math.MaxFloat32 && y != 0 {
				lb, hb = min32(lb, y), max32(hb, y)
				v := float64(y)
				sb += v
				qb += float64(v * v)
			} else {
				ab.sum, ab.sumSq, ab.lo, ab.hi = sb, qb, lb, hb
				ab.add(y)
				sb, qb, lb, hb = ab.sum, ab.sumSq, ab.lo, ab.hi
			}
		}
		aa.sum, aa.sumSq, aa.lo, aa.hi = sa, qa, la, ha
		ab.sum, ab.sumSq, ab.lo, ab.hi = sb, qb, lb, hb
	}
	rows := [4][]float32{r0, r1, r2, r3}
	var mean, m2 [4]float64
	clean := true
	for k := range a {
		if f := int64(n) - a[k].nan - a[k].inf; f > 0 {
			mean[k] = a[k].sum / float64(f)
		}
		clean = clean && a[k].nan+a[k].inf == 0
	}
	if clean {
		for i := 0; i < n; i++ {
			d0 := float64(r0[i]) - mean[0]
			d1 := float64(r1[i]) - mean[1]
			d2 := float64(r2[i]) - mean[2]
			d3 := float64(r3[i]) - mean[3]
			m2[0] += float64(d0 * d0)
			m2[1] += float64(d1 * d1)
			m2[2] += float64(d2 * d2)
			m2[3] += float64(d3 * d3)
		}
	} else {
		for k, row := range rows {
			if a[k].nan+a[k].inf == 0 {
				for _, x := range row {
					d := float64(x) - mean[k]
					m2[k] += float64(d * d)
				}
				continue
			}
			for _, x := range row {
				if x == x && x <= math.MaxFloat32 && x >= -math.MaxFloat32 {
					d := float64(x) - mean[k]
					m2[k] += float64(d * d)
				}
			}
		}
	}
	for k := range out {
		b := stats.Summary{Count: int64(n), NaN: a[k].nan, Inf: a[k].inf, Zero: a[k].zero,
			SumSq: a[k].sumSq, Min: a[k].lo, Max: a[k].hi}
		if b.Finite() > 0 {
			b.Mean, b.M2 = mean[k], m2[k]
		}
		out[k] = b
	}
}
