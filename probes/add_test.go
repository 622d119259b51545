package probes

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// A complete record added with Add is summarised exactly as CaptureAt
// would, under the same policy, and keeps Derived and Note.
func TestAddCompleteMatchesCapture(t *testing.T) {
	e := fakeEngine{prompt: 5, steps: 1}
	per := AttnOut.PerToken(testDims)
	rows := e.rows(Key{0, 1, AttnOut}, 0, 5, per)
	for _, pol := range []Policy{
		{Mode: ModeFull, Head: 3},
		{Positions: Positions{Last: true}},
		{Positions: Positions{List: []int{1, 3}}, Mode: ModeFull},
		{Slots: []Slot{Q}},
	} {
		want, _ := NewRecorder(pol)
		want.CaptureAt(0, 1, AttnOut, seq(0, 5), per, rows)
		got, _ := NewRecorder(pol)
		got.Add(Record{Step: 0, Layer: 1, Slot: AttnOut, Positions: seq(0, 5), PerToken: per, Count: int64(5 * per),
			Full: rows, Derived: true, Note: "ffn_inp minus the layer input"})
		if got.Err() != nil {
			t.Fatal(got.Err())
		}
		w, g := want.Records(), got.Records()
		if len(w) != len(g) {
			t.Fatalf("policy %+v: %d records, want %d", pol, len(g), len(w))
		}
		for i := range g {
			if !g[i].Derived || g[i].Note == "" {
				t.Errorf("policy %+v: Derived/Note lost", pol)
			}
			g[i].Derived, g[i].Note = false, ""
			if !reflect.DeepEqual(g[i], w[i]) {
				t.Errorf("policy %+v: Add gave %+v, CaptureAt %+v", pol, g[i], w[i])
			}
		}
		if _, err := got.Trace(testHeader(e)); err != nil {
			t.Errorf("policy %+v: %v", pol, err)
		}
	}
}

// A partial record keeps the known elements of the kept rows, re-indexed,
// and its sum only when no row was dropped.
func TestAddPartialPositions(t *testing.T) {
	const per = 8 // Embd of testDims
	sum := 12.5
	in := Record{Step: 0, Layer: 0, Slot: AttnNorm, Positions: []int{2, 3, 4}, PerToken: per, Count: 3 * per,
		Partial: true, Sum: &sum, Note: "printed",
		Known: []Known{{0, 1}, {7, 2}, {8, 3}, {15, 4}, {16, 5}, {23, 6}}}
	cases := []struct {
		pos       Positions
		positions []int
		known     []Known
		sum       bool
	}{
		{Positions{}, []int{2, 3, 4}, in.Known, true},
		{Positions{Last: true}, []int{4}, []Known{{0, 5}, {7, 6}}, false},
		{Positions{List: []int{2, 4}}, []int{2, 4}, []Known{{0, 1}, {7, 2}, {8, 5}, {15, 6}}, false},
		{Positions{List: []int{0, 1}}, nil, nil, false},
	}
	for _, c := range cases {
		rec, _ := NewRecorder(Policy{Positions: c.pos, Head: 4})
		rec.Add(in)
		if err := rec.Err(); err != nil {
			t.Fatal(err)
		}
		got := rec.Records()
		if c.positions == nil {
			if len(got) != 0 {
				t.Errorf("%v: recorded %+v, want nothing", c.pos, got)
			}
			continue
		}
		if len(got) != 1 {
			t.Fatalf("%v: %d records", c.pos, len(got))
		}
		r := got[0]
		if !slices.Equal(r.Positions, c.positions) || !reflect.DeepEqual(r.Known, c.known) ||
			(r.Sum != nil) != c.sum || r.Count != int64(len(c.positions)*per) || !r.Partial || r.Head != nil || r.Note != "printed" {
			t.Errorf("%v: got %+v", c.pos, r)
		}
		if c.sum && *r.Sum != sum {
			t.Errorf("%v: sum %v", c.pos, *r.Sum)
		}
		h := testHeader(fakeEngine{prompt: 5})
		if _, err := rec.Trace(h); err != nil {
			t.Errorf("%v: %v", c.pos, err)
		}
	}
}

func TestAddMisuse(t *testing.T) {
	sum := 1.0
	ok := Record{Step: 0, Layer: -1, Slot: Logits, Positions: []int{0}, PerToken: 20, Count: 20, Partial: true, Sum: &sum}
	bad := map[string]func(r *Record){
		"complete without full": func(r *Record) { r.Partial = false },
		"stats on partial":      func(r *Record) { r.Stats.Count = 20 },
		"wrong count":           func(r *Record) { r.Count = 19 },
		"layer on global":       func(r *Record) { r.Layer = 0 },
		"repeated position":     func(r *Record) { r.Positions, r.Count = []int{0, 0}, 40 },
		"known out of range":    func(r *Record) { r.Known = []Known{{20, 1}} },
		"known not increasing":  func(r *Record) { r.Known = []Known{{3, 1}, {3, 2}} },
	}
	for name, mutate := range bad {
		r := ok
		mutate(&r)
		rec, _ := NewRecorder(Policy{})
		rec.Add(r)
		if rec.Err() == nil || len(rec.Records()) != 0 {
			t.Errorf("%s: err %v, %d records", name, rec.Err(), len(rec.Records()))
		}
	}
	rec, _ := NewRecorder(Policy{})
	rec.Add(ok)
	rec.Add(ok)
	if err := rec.Err(); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("adding a partial record twice: %v", err)
	}
	var nilRec *Recorder
	nilRec.Add(ok) // records nothing, no panic
}
