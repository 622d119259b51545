package probes

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/layerwise/parity/stats"
)

func TestNilRecorder(t *testing.T) {
	var r *Recorder
	if r.Wants(0, 0, Q) {
		t.Error("nil recorder wants")
	}
	r.Capture(0, 0, Q, 0, 1, []float32{1})
	r.CaptureAt(0, 0, Q, []int{0}, 1, []float32{1})
	if r.Records() != nil || r.Err() != nil || !reflect.DeepEqual(r.Policy(), Policy{}) {
		t.Error("nil recorder recorded something")
	}
}

// Every record's aggregate is the ordered merge of its per-position
// summaries, each of which summarises exactly its row; Full and Head hold
// the rows even though the engine overwrote its buffer after each call.
func TestRecorderPerPositionConsistency(t *testing.T) {
	e := fakeEngine{prompt: 5, steps: 2, special: true}
	tr := record(t, e, Policy{Mode: ModeFull, Head: 5})
	if want := (1 + 2*(int(numSlots)-4) + 2) * 3; len(tr.Records) != want {
		t.Fatalf("%d records, want %d", len(tr.Records), want)
	}
	if !slices.IsSortedFunc(tr.Records, func(a, b Record) int { return CompareOrder(a.Key(), b.Key()) }) {
		t.Error("records not in execution order")
	}
	for _, r := range tr.Records {
		pos0, n := 0, e.prompt
		if r.Step > 0 {
			pos0, n = e.prompt+r.Step-1, 1
		}
		rows := e.rows(r.Key(), pos0, n, r.PerToken)
		if !slices.Equal(r.Positions, seq(pos0, n)) || r.Count != int64(len(rows)) {
			t.Fatalf("%v: positions %v count %d", r.Key(), r.Positions, r.Count)
		}
		if !bitsEqual(r.Full, rows) || !bitsEqual(r.Head, rows[:min(5, len(rows))]) {
			t.Fatalf("%v: full/head differ from the captured rows", r.Key())
		}
		for i := range n {
			var want stats.Summary
			want.AddSlice(rows[i*r.PerToken : (i+1)*r.PerToken])
			if r.PerPos[i] != want {
				t.Fatalf("%v: per_pos %d = %+v, want %+v", r.Key(), i, r.PerPos[i], want)
			}
		}
		if r.Stats != stats.MergeAll(r.PerPos) {
			t.Fatalf("%v: aggregate is not the ordered merge", r.Key())
		}
	}
}

func seq(a, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = a + i
	}
	return out
}

func bitsEqual(a, b []float32) bool {
	return slices.EqualFunc(a, b, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) })
}

func TestRecorderPolicyFiltering(t *testing.T) {
	e := fakeEngine{prompt: 3, steps: 2}
	p := Policy{Slots: []Slot{Q, Logits}, Layers: []int{1}, Steps: []int{0, 2}}
	tr := record(t, e, p)
	var got []Key
	for _, r := range tr.Records {
		got = append(got, r.Key())
		if r.Head != nil || r.Full != nil {
			t.Errorf("%v: head or full kept under a stats-only, head-0 policy", r.Key())
		}
	}
	want := []Key{{0, 1, Q}, {0, -1, Logits}, {2, 1, Q}, {2, -1, Logits}}
	if !slices.Equal(got, want) {
		t.Errorf("keys %v, want %v", got, want)
	}
	if !reflect.DeepEqual(tr.Header.Policy, p) {
		t.Errorf("header policy %+v", tr.Header.Policy)
	}
	rec, _ := NewRecorder(p)
	for _, tc := range []struct {
		k    Key
		want bool
	}{{Key{0, 1, Q}, true}, {Key{0, 0, Q}, false}, {Key{1, 1, Q}, false}, {Key{0, 1, K}, false},
		{Key{2, -1, Logits}, true}, {Key{0, 5, Logits}, true}, {Key{0, 1, Slot(200)}, false}} {
		if got := rec.Wants(tc.k.Step, tc.k.Layer, tc.k.Slot); got != tc.want {
			t.Errorf("Wants(%v) = %v", tc.k, got)
		}
	}
}

func TestRecorderPositions(t *testing.T) {
	e := fakeEngine{prompt: 4, steps: 2}
	byStep := func(tr *Trace) map[int][]int {
		m := map[int][]int{}
		for _, r := range tr.Records {
			if r.Slot == Out && r.Layer == 0 {
				m[r.Step] = r.Positions
			}
		}
		return m
	}
	list := byStep(record(t, e, Policy{Positions: Positions{List: []int{1, 3, 5}}}))
	if want := map[int][]int{0: {1, 3}, 2: {5}}; !reflect.DeepEqual(list, want) {
		t.Errorf("list positions %v, want %v", list, want)
	}
	last := byStep(record(t, e, Policy{Positions: Positions{Last: true}}))
	if want := map[int][]int{0: {3}, 1: {4}, 2: {5}}; !reflect.DeepEqual(last, want) {
		t.Errorf("last positions %v, want %v", last, want)
	}
}

// A prefill captured in ubatches gives the same trace as one capture.
func TestRecorderChunkedPrefill(t *testing.T) {
	for _, p := range []Policy{{Mode: ModeFull, Head: 7}, {Positions: Positions{Last: true}, Head: 3}} {
		whole := record(t, fakeEngine{prompt: 7, steps: 1}, p)
		chunked := record(t, fakeEngine{prompt: 7, steps: 1, chunk: 3}, p)
		if !reflect.DeepEqual(whole, chunked) {
			t.Errorf("policy %+v: chunked capture differs", p)
		}
	}
}

func TestRecorderMisuse(t *testing.T) {
	for name, bad := range map[string]func(r *Recorder){
		"ragged rows":       func(r *Recorder) { r.Capture(0, 0, Q, 0, 3, make([]float32, 7)) },
		"empty data":        func(r *Recorder) { r.Capture(0, 0, Q, 0, 3, nil) },
		"zero per token":    func(r *Recorder) { r.Capture(0, 0, Q, 0, 0, nil) },
		"global with layer": func(r *Recorder) { r.Capture(0, 0, Logits, 0, 1, []float32{1}) },
		"layer slot at -1":  func(r *Recorder) { r.Capture(0, -1, Q, 0, 1, []float32{1}) },
		"negative position": func(r *Recorder) { r.Capture(0, 0, Q, -1, 1, []float32{1}) },
		"positions/data":    func(r *Recorder) { r.CaptureAt(0, 0, Q, []int{0, 1}, 1, []float32{1}) },
		"repeated in call":  func(r *Recorder) { r.CaptureAt(0, 0, Q, []int{2, 2}, 1, []float32{1, 2}) },
		"repeated, new key": func(r *Recorder) { r.CaptureAt(0, 0, K, []int{2, 2}, 1, []float32{1, 2}) },
		"repeated position": func(r *Recorder) { r.Capture(0, 0, Q, 0, 1, []float32{1}) },
		"per token changes": func(r *Recorder) { r.Capture(0, 0, Q, 1, 2, []float32{1, 2}) },
	} {
		r, _ := NewRecorder(Policy{})
		r.Capture(0, 0, Q, 0, 1, []float32{5})
		before := r.Records()
		bad(r)
		if err := r.Err(); err == nil || !strings.HasPrefix(err.Error(), "probes: capture") {
			t.Errorf("%s: Err() = %v", name, err)
		}
		if !reflect.DeepEqual(r.Records(), before) {
			t.Errorf("%s: misuse changed the records", name)
		}
		if _, err := r.Trace(testHeader(fakeEngine{prompt: 3})); err == nil {
			t.Errorf("%s: Trace succeeded after misuse", name)
		}
	}
	if _, err := NewRecorder(Policy{Head: -1}); err == nil {
		t.Error("invalid policy accepted")
	}
}

// Capturing different layers from several goroutines yields the same
// records as a sequential run.
func TestRecorderConcurrent(t *testing.T) {
	e := fakeEngine{prompt: 6}
	seqTrace := record(t, e, Policy{Mode: ModeFull})
	rec, _ := NewRecorder(Policy{Mode: ModeFull})
	var wg sync.WaitGroup
	for layer := range testDims.Layers {
		wg.Go(func() {
			for _, s := range Slots() {
				if !s.Global() {
					per := s.PerToken(testDims)
					rec.Capture(0, layer, s, 0, per, e.rows(Key{0, layer, s}, 0, e.prompt, per))
				}
			}
		})
	}
	wg.Wait()
	want := seqTrace.Index()
	got := rec.Records()
	if len(got) != 2*(int(numSlots)-4) {
		t.Fatalf("%d records", len(got))
	}
	for _, r := range got {
		if !reflect.DeepEqual(&r, want[r.Key()]) {
			t.Errorf("%v differs from the sequential capture", r.Key())
		}
	}
}

// The seed's 18.23× artifact in miniature: one side summarises every
// prompt position, the other only the last. The aggregates differ; over
// their common positions the two agree exactly.
func TestRestrictReconcilesSamples(t *testing.T) {
	e := fakeEngine{prompt: 7}
	all := record(t, e, Policy{Slots: []Slot{FFNSwiGLU}, Mode: ModeFull})
	last := record(t, e, Policy{Slots: []Slot{FFNSwiGLU}, Positions: Positions{Last: true}})
	a, b := &all.Records[0], &last.Records[0]
	if a.Stats == b.Stats || a.Count == b.Count {
		t.Fatal("the two sides should cover different samples")
	}
	if _, err := stats.StdRatio(a.Stats, b.Stats); !errors.Is(err, stats.ErrCount) {
		t.Errorf("std ratio over different samples: %v", err)
	}
	common := CommonPositions(a, b)
	if !slices.Equal(common, []int{6}) {
		t.Fatalf("common positions %v", common)
	}
	sa, err := a.Restrict(common)
	if err != nil {
		t.Fatal(err)
	}
	sb, err := b.Restrict(common)
	if err != nil || sa != sb {
		t.Fatalf("restricted summaries differ: %+v vs %+v (%v)", sa, sb, err)
	}
	if s, _ := a.Restrict(a.Positions); s != a.Stats {
		t.Error("Restrict over all positions is not the aggregate")
	}
	rows, err := a.FullRows([]int{6, 2})
	per := a.PerToken
	if err != nil || !bitsEqual(rows, append(slices.Clone(a.Full[6*per:7*per]), a.Full[2*per:3*per]...)) {
		t.Errorf("FullRows: %v", err)
	}
	for _, bad := range [][]int{{7}, {1, 1}} {
		if _, err := a.Restrict(bad); !errors.Is(err, ErrPositionMissing) {
			t.Errorf("Restrict(%v): %v", bad, err)
		}
	}
	noPer := *a
	noPer.PerPos = nil
	if _, err := noPer.Restrict(common); !errors.Is(err, ErrNoPerPos) {
		t.Errorf("no per_pos: %v", err)
	}
	if _, err := b.FullRows(common); !errors.Is(err, ErrNoFull) {
		t.Errorf("no full: %v", err)
	}
}

func BenchmarkCaptureUnwanted(b *testing.B) {
	rec, _ := NewRecorder(Policy{Slots: []Slot{Logits}, Layers: []int{3}})
	data := make([]float32, 4096)
	for b.Loop() {
		for layer := range 28 {
			for s := AttnNorm; s < FinalNorm; s++ {
				rec.Capture(0, layer, s, 0, 4096, data)
			}
		}
	}
}

func BenchmarkCapturePrefill(b *testing.B) {
	const nTok, ff = 64, 4864 // a qwen2-0.5B FFN row per token
	data := make([]float32, nTok*ff)
	for i := range data {
		data[i] = float32(i%97) - 48
	}
	b.SetBytes(int64(4 * len(data)))
	for b.Loop() {
		rec, _ := NewRecorder(Policy{})
		rec.Capture(0, 0, FFNSwiGLU, 0, ff, data)
	}
}
