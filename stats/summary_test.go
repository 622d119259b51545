package stats

import (
	"encoding/json"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"

	"gonum.org/v1/gonum/stat"
)

// randData returns n float32 values with a non-zero mean, a spread over
// several magnitudes, some exact zeros, and (if special) NaN and ±Inf.
func randData(r *rand.Rand, n int, special bool) []float32 {
	xs := make([]float32, n)
	for i := range xs {
		switch k := r.IntN(20); {
		case k == 0:
			xs[i] = 0
		case special && k == 1:
			xs[i] = float32(math.NaN())
		case special && k == 2:
			xs[i] = float32(math.Inf(1 - 2*r.IntN(2)))
		default:
			xs[i] = float32(3 + r.NormFloat64()*math.Pow(10, float64(r.IntN(5)-2)))
		}
	}
	return xs
}

// twoPass is the independent reference: finite values collected into
// float64 and handed to gonum.
func twoPass(xs []float32) (fin []float64, nan, inf, zero int64) {
	for _, x := range xs {
		switch v := float64(x); {
		case math.IsNaN(v):
			nan++
		case math.IsInf(v, 0):
			inf++
		default:
			if v == 0 {
				zero++
			}
			fin = append(fin, v)
		}
	}
	return
}

func closeRel(a, b, tol float64) bool {
	return math.Abs(a-b) <= tol*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func TestSummaryMatchesTwoPass(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 2, 3, 17, 1000, 100000} {
		for _, special := range []bool{false, true} {
			xs := randData(r, n, special)
			var s Summary
			s.AddSlice(xs)
			fin, nan, inf, zero := twoPass(xs)
			if s.Count != int64(n) || s.NaN != nan || s.Inf != inf || s.Zero != zero {
				t.Fatalf("n=%d: counts %+v, want nan %d inf %d zero %d", n, s, nan, inf, zero)
			}
			if s.Finite() != int64(len(fin)) {
				t.Fatalf("n=%d: Finite %d, want %d", n, s.Finite(), len(fin))
			}
			if len(fin) == 0 {
				continue
			}
			mean, pvar := stat.PopMeanVariance(fin, nil)
			svar := stat.Variance(fin, nil)
			var ss float64
			for _, v := range fin {
				ss += v * v
			}
			lo, hi := slices.Min(fin), slices.Max(fin)
			if !closeRel(s.Mean, mean, 1e-12) || !closeRel(s.Var(), pvar, 1e-10) || !closeRel(s.SumSq, ss, 1e-12) {
				t.Errorf("n=%d: mean %v var %v sumsq %v, want %v %v %v", n, s.Mean, s.Var(), s.SumSq, mean, pvar, ss)
			}
			if len(fin) > 1 && !closeRel(s.SampleVar(), svar, 1e-10) {
				t.Errorf("n=%d: sample var %v, want %v", n, s.SampleVar(), svar)
			}
			if float64(s.Min) != lo || float64(s.Max) != hi {
				t.Errorf("n=%d: min/max %v %v, want %v %v", n, s.Min, s.Max, lo, hi)
			}
			if got, want := float64(s.AbsMax()), math.Max(-lo, hi); got != want {
				t.Errorf("n=%d: AbsMax %v, want %v", n, got, want)
			}
			if !closeRel(s.L2(), math.Sqrt(ss), 1e-12) || !closeRel(s.RMS(), math.Sqrt(ss/float64(len(fin))), 1e-12) {
				t.Errorf("n=%d: L2 %v RMS %v", n, s.L2(), s.RMS())
			}
			if err := s.Validate(); err != nil {
				t.Errorf("n=%d: %v", n, err)
			}
		}
	}
}

// AddSlice is a pure function of its inputs: it equals summarising the
// slice alone and merging, and agrees with element-wise Add up to rounding.
func TestAddSliceIsMergeOfSlice(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	xs := randData(r, 5000, true)
	var a, b, c Summary
	for _, x := range xs {
		a.Add(x)
	}
	b.AddSlice(xs[:1234])
	b.AddSlice(xs[1234:])
	var tail Summary
	tail.AddSlice(xs[1234:])
	c.AddSlice(xs[:1234])
	c.Merge(tail)
	if b != c {
		t.Fatalf("AddSlice %+v\nMerge    %+v", b, c)
	}
	if a.Count != b.Count || a.NaN != b.NaN || a.Inf != b.Inf || a.Zero != b.Zero || a.Min != b.Min || a.Max != b.Max ||
		!closeRel(a.Mean, b.Mean, 1e-12) || !closeRel(a.M2, b.M2, 1e-12) || !closeRel(a.SumSq, b.SumSq, 1e-12) {
		t.Fatalf("Add %+v\nAddSlice %+v", a, b)
	}
}

func TestMergeVsSinglePass(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	xs := randData(r, 300, true)
	var one Summary
	one.AddSlice(xs)
	for cut := 0; cut <= len(xs); cut += 7 {
		var a, b Summary
		a.AddSlice(xs[:cut])
		b.AddSlice(xs[cut:])
		a.Merge(b)
		if a.Count != one.Count || a.NaN != one.NaN || a.Inf != one.Inf || a.Zero != one.Zero ||
			a.Min != one.Min || a.Max != one.Max {
			t.Fatalf("cut %d: exact fields %+v, want %+v", cut, a, one)
		}
		if !closeRel(a.Mean, one.Mean, 1e-13) || !closeRel(a.M2, one.M2, 1e-12) || !closeRel(a.SumSq, one.SumSq, 1e-13) {
			t.Fatalf("cut %d: moments %+v, want %+v", cut, a, one)
		}
		if err := a.Validate(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMergeEmptyAndNonFinite(t *testing.T) {
	var data Summary
	data.AddSlice([]float32{1, 2, 3})
	nan := float32(math.NaN())
	var bad Summary
	bad.AddSlice([]float32{nan, float32(math.Inf(1))})
	if !math.IsInf(float64(bad.Min), 1) || !math.IsInf(float64(bad.Max), -1) || bad.Finite() != 0 {
		t.Fatalf("no finite values: %+v", bad)
	}
	if err := bad.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, order := range [][2]Summary{{data, bad}, {bad, data}, {data, {}}, {{}, data}} {
		s := order[0]
		s.Merge(order[1])
		if s.Mean != 2 || s.Min != 1 || s.Max != 3 || s.M2 != 2 || s.SumSq != 14 {
			t.Errorf("merge %+v + %+v = %+v", order[0], order[1], s)
		}
	}
	s := bad
	s.Merge(bad)
	if s.Count != 4 || s.NaN != 2 || s.Inf != 2 || s.Finite() != 0 || s.Validate() != nil {
		t.Errorf("bad+bad = %+v", s)
	}
	var z Summary
	if z.Var() != 0 || z.SampleVar() != 0 || z.Std() != 0 || z.RMS() != 0 || z.AbsMax() != 0 || z.Validate() != nil {
		t.Errorf("zero value: %+v", z)
	}
}

// Per-position summaries computed by any number of goroutines, in any
// order, fold to the same aggregate bits.
func TestMergeAllThreadIndependent(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	const nPos, width = 64, 257
	xs := randData(r, nPos*width, true)
	run := func(workers int) Summary {
		per := make([]Summary, nPos)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				for p := nPos - 1 - w; p >= 0; p -= workers {
					per[p].AddSlice(xs[p*width : (p+1)*width])
				}
			})
		}
		wg.Wait()
		return MergeAll(per)
	}
	want := run(1)
	for _, w := range []int{2, 3, 8} {
		if got := run(w); got != want {
			t.Fatalf("%d workers: %+v, want %+v", w, got, want)
		}
	}
}

// Properties on random inputs: Min ≤ Mean ≤ Max, Var ≥ 0, counts add up,
// and merging preserves them.
func TestSummaryProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for range 500 {
		var parts []Summary
		var all []float32
		for range 1 + r.IntN(5) {
			xs := randData(r, r.IntN(40), r.IntN(2) == 0)
			all = append(all, xs...)
			var s Summary
			s.AddSlice(xs)
			parts = append(parts, s)
		}
		m := MergeAll(parts)
		var one Summary
		one.AddSlice(all)
		if err := m.Validate(); err != nil {
			t.Fatalf("%v: %+v", err, m)
		}
		if m.Count != int64(len(all)) || m.Count != one.Count || m.Zero != one.Zero || m.Min != one.Min || m.Max != one.Max {
			t.Fatalf("merged %+v, single pass %+v", m, one)
		}
		if m.Var() < 0 || !closeRel(m.Var(), one.Var(), 1e-9) {
			t.Fatalf("var %v vs %v", m.Var(), one.Var())
		}
	}
}

func TestValidateRejects(t *testing.T) {
	var good Summary
	good.AddSlice([]float32{-1, 0, 2, float32(math.NaN())})
	inf32 := float32(math.Inf(1))
	for name, mut := range map[string]func(*Summary){
		"negative count":  func(s *Summary) { s.Count = -1 },
		"nan over count":  func(s *Summary) { s.NaN = 10 },
		"inf over count":  func(s *Summary) { s.Inf = 4 },
		"zero over fin":   func(s *Summary) { s.Zero = 4 },
		"nan mean":        func(s *Summary) { s.Mean = math.NaN() },
		"negative m2":     func(s *Summary) { s.M2 = -1 },
		"inf sumsq":       func(s *Summary) { s.SumSq = math.Inf(1) },
		"min above max":   func(s *Summary) { s.Min, s.Max = 3, 2 },
		"inf min":         func(s *Summary) { s.Min = -inf32 },
		"mean above max":  func(s *Summary) { s.Mean = 5 },
		"empty with mean": func(s *Summary) { *s = Summary{Count: 1, NaN: 1, Mean: 1, Min: inf32, Max: -inf32} },
		"empty with min":  func(s *Summary) { *s = Summary{Count: 1, NaN: 1, Min: 1, Max: 1} },
	} {
		s := good
		mut(&s)
		if err := s.Validate(); err == nil {
			t.Errorf("%s: %+v accepted", name, s)
		}
	}
}

func TestSummaryJSONRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	var empty Summary
	empty.Add(float32(math.NaN()))
	cases := []Summary{{}, empty}
	for range 50 {
		var s Summary
		s.AddSlice(randData(r, 1+r.IntN(100), true))
		cases = append(cases, s)
	}
	for _, s := range cases {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var got Summary
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		// Compare bits: NaN-free, but ±Inf and −0 must survive too.
		if !reflect.DeepEqual(got, s) || math.Float32bits(got.Min) != math.Float32bits(s.Min) {
			t.Fatalf("round trip of %s: %+v, want %+v", b, got, s)
		}
		var keys map[string]any
		if err := json.Unmarshal(b, &keys); err != nil {
			t.Fatal(err)
		}
		want := []string{"count", "inf", "m2", "max", "mean", "min", "nan", "sum_sq", "zero"}
		if got := slices.Sorted(maps.Keys(keys)); !slices.Equal(got, want) {
			t.Fatalf("keys %v, want %v", got, want)
		}
	}
	b, _ := json.Marshal(empty)
	if want := `{"count":1,"nan":1,"inf":0,"zero":0,"mean":0,"m2":0,"min":"+Inf","max":"-Inf","sum_sq":0}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestSummaryJSONRejects(t *testing.T) {
	for _, in := range []string{
		`[]`,
		`{"count":"1"}`,
		`{"mean":"inf"}`,
		`{"mean":"1"}`,
		`{"min":1e39}`,
		`{"mean":1e400}`,
		`{"max":Infinity}`,
		`{"count":1.5}`,
	} {
		var s Summary
		if err := json.Unmarshal([]byte(in), &s); err == nil {
			t.Errorf("%s accepted as %+v", in, s)
		}
	}
}

func TestParseFloatRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for range 10000 {
		f := math.Float32frombits(r.Uint32())
		if f != f {
			continue
		}
		b := AppendFloat(nil, float64(f), 32)
		v, err := ParseFloat(b, 32)
		if err != nil || float32(v) != f || math.Signbit(v) != math.Signbit(float64(f)) {
			t.Fatalf("%v → %s → %v, %v", f, b, v, err)
		}
	}
}

func BenchmarkAddSlice(b *testing.B) {
	xs := randData(rand.New(rand.NewPCG(1, 1)), 18944, false)
	b.SetBytes(int64(4 * len(xs)))
	for b.Loop() {
		var s Summary
		s.AddSlice(xs)
	}
}
