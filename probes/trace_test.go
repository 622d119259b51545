package probes

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/layerwise/parity/stats"
)

// Each rule of Record.Validate, broken on its own, is caught.
func TestRecordValidate(t *testing.T) {
	tr := richTrace(t)
	h := &tr.Header
	full := *tr.Find(Key{0, 1, Q})
	partial := *tr.Find(Key{0, 0, AttnCtx})
	for name, tc := range map[string]struct {
		base Record
		mut  func(r *Record)
	}{
		"unknown slot":       {full, func(r *Record) { r.Slot = 0 }},
		"global slot layer":  {full, func(r *Record) { r.Slot = Logits }},
		"layer past n_layer": {full, func(r *Record) { r.Layer = 2 }},
		"negative step":      {full, func(r *Record) { r.Step = -1 }},
		"step past tokens":   {full, func(r *Record) { r.Step = 3 }},
		"per_token vs dims":  {full, func(r *Record) { r.PerToken = 4; r.Count = 16 }},
		"no positions":       {full, func(r *Record) { r.Positions = nil }},
		"repeated position":  {full, func(r *Record) { r.Positions = []int{0, 1, 1, 3} }},
		"future position":    {full, func(r *Record) { r.Positions = []int{0, 1, 2, 4} }},
		"count":              {full, func(r *Record) { r.Count++ }},
		"stats count":        {full, func(r *Record) { r.Stats.Count++ }},
		"per_pos length":     {full, func(r *Record) { r.PerPos = r.PerPos[1:] }},
		"per_pos count":      {full, func(r *Record) { r.PerPos = slices.Clone(r.PerPos); r.PerPos[0].Count-- }},
		"per_pos vs stats":   {full, func(r *Record) { r.PerPos = slices.Clone(r.PerPos); r.PerPos[0] = r.PerPos[1] }},
		"sum on complete":    {full, func(r *Record) { s := 1.0; r.Sum = &s }},
		"head too long":      {full, func(r *Record) { r.Full = nil; r.Head = make([]float32, r.Count+1) }},
		"head not full":      {full, func(r *Record) { r.Head = slices.Clone(r.Head); r.Head[0]++ }},
		"full length":        {full, func(r *Record) { r.Full = r.Full[1:] }},
		"partial with stats": {partial, func(r *Record) { r.Stats.Count = r.Count }},
		"known order":        {partial, func(r *Record) { r.Known = []Known{{3, 0}, {2, 0}} }},
		"known range":        {partial, func(r *Record) { r.Known = []Known{{r.Count, 0}} }},
	} {
		r := tc.base
		if err := r.Validate(h); err != nil {
			t.Fatalf("%s: base record invalid: %v", name, err)
		}
		tc.mut(&r)
		if err := r.Validate(h); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
	for name, mut := range map[string]func(h *Header){
		"no tokens":     func(h *Header) { h.SetTokens(nil, 0) },
		"prompt_len":    func(h *Header) { h.PromptLen = len(h.Tokens) + 1 },
		"token hash":    func(h *Header) { h.Tokens = slices.Clone(h.Tokens); h.Tokens[0]++ },
		"negative dims": func(h *Header) { h.Model.Dims.FF = -1 },
		"policy":        func(h *Header) { h.Policy.Head = -1 },
	} {
		c := *h
		mut(&c)
		if err := c.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Validate = %v", name, err)
		}
	}
}

func TestRecordMean(t *testing.T) {
	tr := richTrace(t)
	full, partial := tr.Find(Key{0, 1, Q}), tr.Find(Key{0, 0, AttnCtx})
	if m, ok := full.Mean(); !ok || m != full.Stats.Mean {
		t.Errorf("complete mean %v %v", m, ok)
	}
	if m, ok := partial.Mean(); !ok || m != *partial.Sum/float64(partial.Count) {
		t.Errorf("partial mean %v %v", m, ok)
	}
	partial.Sum = nil
	if _, ok := partial.Mean(); ok {
		t.Error("partial record without a sum has a mean")
	}
	var nan stats.Summary
	nan.Add(float32(math.NaN()))
	if _, ok := (&Record{Stats: nan}).Mean(); ok {
		t.Error("record without finite values has a mean")
	}
}

func TestTraceLookupAndOrder(t *testing.T) {
	tr := richTrace(t)
	want := slices.Clone(tr.Records)
	slices.SortStableFunc(want, func(a, b Record) int { return CompareOrder(a.Key(), b.Key()) })
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(tr.Records), func(i, j int) {
		tr.Records[i], tr.Records[j] = tr.Records[j], tr.Records[i]
	})
	idx := tr.Index()
	for i := range tr.Records {
		r := &tr.Records[i]
		if tr.Find(r.Key()) != r || idx[r.Key()] != r {
			t.Fatalf("lookup of %v failed", r.Key())
		}
	}
	if tr.Find(Key{9, 9, Q}) != nil {
		t.Error("Find invented a record")
	}
	tr.SortByOrder()
	for i := range want {
		if tr.Records[i].Key() != want[i].Key() {
			t.Fatalf("order %d: %v, want %v", i, tr.Records[i].Key(), want[i].Key())
		}
	}
}
