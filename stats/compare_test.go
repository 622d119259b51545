package stats

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat"
)

func f64(xs []float32) []float64 {
	out := make([]float64, len(xs))
	for i, x := range xs {
		out[i] = float64(x)
	}
	return out
}

// Compare against the textbook formulas evaluated separately, each with
// its own loop, on random data.
func TestCompareMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	for range 20 {
		n := 1 + r.IntN(3000)
		ref := randData(r, n, false)
		x := make([]float32, n)
		for i := range x {
			x[i] = ref[i] + float32(r.NormFloat64()*0.01)
		}
		c, err := Compare(ref, x)
		if err != nil {
			t.Fatal(err)
		}
		rf, xf := f64(ref), f64(x)
		var num, den, xx, dot float64
		maxAbs, idx := -1.0, -1
		for i := range rf {
			d := xf[i] - rf[i]
			num += d * d
			den += rf[i] * rf[i]
			xx += xf[i] * xf[i]
			dot += xf[i] * rf[i]
			if math.Abs(d) > maxAbs {
				maxAbs, idx = math.Abs(d), i
			}
		}
		_, vr := stat.PopMeanVariance(rf, nil)
		checks := []struct {
			name      string
			got, want float64
		}{
			{"NMSE", c.NMSE, num / den},
			{"NMSEVar", c.NMSEVar, num / float64(n) / vr},
			{"Cosine", c.Cosine, dot / math.Sqrt(den*xx)},
			{"SQNR", c.SQNR, 10 * math.Log10(den/num)},
			{"RelDiff", c.RelDiff, 1 - 2*dot/(xx+den)},
			{"MaxAbsDiff", c.MaxAbsDiff, maxAbs},
		}
		for _, ck := range checks {
			// RelDiff's literal form cancels; allow for that.
			if !closeRel(ck.got, ck.want, 1e-9) && !(ck.name == "RelDiff" && math.Abs(ck.got-ck.want) < 1e-12) {
				t.Errorf("n=%d %s = %v, want %v", n, ck.name, ck.got, ck.want)
			}
		}
		if c.MaxAbsIndex != idx || c.N != n {
			t.Errorf("index %d n %d, want %d %d", c.MaxAbsIndex, c.N, idx, n)
		}
	}
}

func TestCompareKnownVectors(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		name                                 string
		ref, x                               []float32
		nmse, nmseVar, cos, sqnr, maxAbs, rd float64
		idx                                  int
	}{
		{"equal", []float32{1, -2, 3}, []float32{1, -2, 3}, 0, 0, 1, inf, 0, 0, 0},
		{"negated", []float32{1, -2}, []float32{-1, 2}, 4, 10 / 2.25, -1, 10 * math.Log10(0.25), 4, 2, 1},
		{"orthogonal", []float32{1, 0}, []float32{0, 1}, 2, 4, 0, 10 * math.Log10(0.5), 1, 1, 0},
		{"doubled", []float32{1, 2, 2}, []float32{2, 4, 4}, 1, 9.0 / 3 / (2.0 / 9), 1, 0, 2, 1 - 2*18.0/45, 1},
		// check-nmse.py's definition: mse 0.25 over var(ref) 1.25.
		{"check-nmse", []float32{1, 2, 3, 4}, []float32{1.5, 1.5, 3.5, 3.5}, 1.0 / 30, 0.2, 29 / math.Sqrt(30*29), 10 * math.Log10(30), 0.5, 1.0 / 59, 0},
		{"both zero", []float32{0, 0}, []float32{0, 0}, 0, 0, 1, inf, 0, 0, 0},
		{"ref zero", []float32{0, 0}, []float32{0, 3}, inf, inf, 0, math.Inf(-1), 3, 1, 1},
		{"x zero", []float32{0, 3}, []float32{0, 0}, 1, 9.0 / 2 / 2.25, 0, 0, 3, 1, 1},
	} {
		c, err := Compare(tc.ref, tc.x)
		if err != nil {
			t.Fatal(err)
		}
		got := []float64{c.NMSE, c.NMSEVar, c.Cosine, c.SQNR, c.MaxAbsDiff, c.RelDiff}
		want := []float64{tc.nmse, tc.nmseVar, tc.cos, tc.sqnr, tc.maxAbs, tc.rd}
		names := []string{"NMSE", "NMSEVar", "Cosine", "SQNR", "MaxAbsDiff", "RelDiff"}
		for i := range got {
			if got[i] != want[i] && !closeRel(got[i], want[i], 1e-12) {
				t.Errorf("%s: %s = %v, want %v", tc.name, names[i], got[i], want[i])
			}
		}
		if c.MaxAbsIndex != tc.idx {
			t.Errorf("%s: index %d, want %d", tc.name, c.MaxAbsIndex, tc.idx)
		}
	}
}

func TestCompareNonFinite(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	c, err := Compare([]float32{1, nan, inf, 2, 5}, []float32{1, nan, inf, nan, 5})
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(c.NMSE) || !math.IsNaN(c.Cosine) || !math.IsNaN(c.RelDiff) {
		t.Errorf("NaN must propagate into sums: %+v", c)
	}
	if !math.IsInf(c.MaxAbsDiff, 1) || c.MaxAbsIndex != 3 {
		t.Errorf("one-sided NaN at 3 must be the max: %v at %d", c.MaxAbsDiff, c.MaxAbsIndex)
	}
	c, _ = Compare([]float32{nan, inf, 1}, []float32{nan, inf, 1.5})
	if c.MaxAbsDiff != 0.5 || c.MaxAbsIndex != 2 {
		t.Errorf("matching NaN/Inf must not count: %v at %d", c.MaxAbsDiff, c.MaxAbsIndex)
	}
}

func TestCompareErrors(t *testing.T) {
	if _, err := Compare([]float32{1}, []float32{1, 2}); !errors.Is(err, ErrLength) {
		t.Errorf("length mismatch: %v", err)
	}
	if _, err := Compare(nil, []float32{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
}

func TestStdRatioMeanShift(t *testing.T) {
	var ref, x, short, flat, flat2 Summary
	ref.AddSlice([]float32{1, 3, 1, 3})   // mean 2, std 1
	x.AddSlice([]float32{3, 7, 3, 7})     // mean 5, std 2
	short.AddSlice([]float32{3, 7})       // same shape, fewer elements
	flat.AddSlice([]float32{2, 2, 2, 2})  // std 0
	flat2.AddSlice([]float32{4, 4, 4, 4}) // std 0, other mean
	if r, err := StdRatio(ref, x); err != nil || r != 2 {
		t.Errorf("StdRatio = %v, %v", r, err)
	}
	if m, err := MeanShift(ref, x); err != nil || m != 3 {
		t.Errorf("MeanShift = %v, %v", m, err)
	}
	if _, err := StdRatio(ref, short); !errors.Is(err, ErrCount) {
		t.Errorf("count mismatch must refuse, got %v", err)
	}
	if _, err := MeanShift(short, ref); !errors.Is(err, ErrCount) {
		t.Errorf("count mismatch must refuse, got %v", err)
	}
	if _, err := StdRatio(Summary{}, Summary{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
	if r, _ := StdRatio(flat, flat2); r != 1 {
		t.Errorf("0/0 std ratio = %v, want 1", r)
	}
	if r, _ := StdRatio(flat, x); !math.IsInf(r, 1) {
		t.Errorf("x/0 std ratio = %v, want +Inf", r)
	}
	if m, _ := MeanShift(flat, flat); m != 0 {
		t.Errorf("equal means over zero std = %v, want 0", m)
	}
	if m, _ := MeanShift(flat, flat2); !math.IsInf(m, 1) {
		t.Errorf("shift over zero std = %v, want +Inf", m)
	}
}
