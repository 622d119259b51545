package diff

import (
	"context"
	"fmt"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/stats"
)

// Runner is one side of a bisection: something that runs token ids and
// returns what every layer computed. Decode is the number of single-token
// steps after the prompt; when force is set it holds the ids to feed at
// those steps (teacher forcing B onto A's tokens) instead of the runner's
// own greedy choices.
type Runner interface {
	Trace(ctx context.Context, prompt []int32, decode int, force []int32, p probes.Policy) (*probes.Trace, error)
}

// Replayer is an engine that can run one layer, or one operation of a
// layer, of the prompt step on inputs taken from another run. Both
// in-process engines implement it (ReplayLayer / ReplayOp); the driver
// needs nothing else from them.
type Replayer interface {
	ReplayLayer(ctx context.Context, layer int, x []float32, rec *probes.Recorder) error
	ReplayOp(ctx context.Context, layer int, out probes.Slot, x []float32, in map[probes.Slot][]float32) ([]float32, error)
}

// BisectOptions configure Bisect.
type BisectOptions struct {
	Options
	Prompt []int32
	Decode int  // greedy decode steps (A's choices, B teacher-forced onto them)
	QKNorm bool // B's model has qwen3's per-head q/k norm (the op graph depends on it)
	Layers int  // number of layers (0: taken from A's trace header)

	// Calibrate measures the noise floor for ProfileCalibrated once A's
	// tokens are known (prompt, then A's decode choices); it is called only
	// when Options.Floor is nil. Without it, or when it fails, the pairs
	// fall back to ProfileQuant's budgets and a note says so.
	Calibrate func(ctx context.Context, prompt, force []int32) (map[probes.Key]float64, error)
}

// Bisection is what Bisect found.
type Bisection struct {
	Result *Result `json:"result"`
	// Attribution is teacher forcing's answer, nil when it was not run
	// (no divergence at the prompt step, or B cannot replay); Skipped says why.
	Attribution *Attribution `json:"attribution,omitempty"`
	Skipped     string       `json:"attribution_skipped,omitempty"`
	// Reference is the three-way verdict at the first divergence when a
	// reference runtime (llama.cpp) was given.
	Reference *ThreeWay `json:"reference,omitempty"`
}

// Added is the divergence one layer or operation of B adds by itself: B's
// computation on A's recorded inputs, compared with A's recorded output.
type Added struct {
	Step      int         `json:"step"`
	Layer     int         `json:"layer"`
	Slot      probes.Slot `json:"slot"`
	NMSE      Float       `json:"nmse"`
	MaxAbs    Float       `json:"max_abs_diff"`
	Threshold Threshold   `json:"threshold"`
	Verdict   Verdict     `json:"verdict"`
}

// Key returns where the addition was measured.
func (a *Added) Key() probes.Key { return probes.Key{Step: a.Step, Layer: a.Layer, Slot: a.Slot} }

// Attribution holds teacher forcing's per-layer and per-op measurements.
//
// Layers[l] is layer l of B run on A's input to layer l (prefill), judged
// at its worst slot: what layer l adds, with everything inherited from
// layers before it removed. The culprit layer is the first whose own
// addition fails. Ops are that layer's operations, each run by B on A's
// recorded inputs to it; the culprit op is the first that fails by itself.
// An operation downstream of the culprit that only inherits the error
// passes here, because it is fed A's (clean) inputs.
type Attribution struct {
	Layers       []Added     `json:"layers"`
	CulpritLayer int         `json:"culprit_layer"` // -1: no layer adds a failing divergence by itself
	Ops          []Added     `json:"ops,omitempty"`
	Culprit      *probes.Key `json:"culprit,omitempty"` // the first op that fails by itself
	Note         string      `json:"note,omitempty"`
}

// ThreeWay compares both runs with a reference at the first divergence.
type ThreeWay struct {
	Key       probes.Key `json:"key"`
	Engine    string     `json:"engine"`
	AVerdict  Verdict    `json:"a_vs_ref"`
	ANMSE     *Float     `json:"a_vs_ref_nmse,omitempty"`
	BVerdict  Verdict    `json:"b_vs_ref"`
	BNMSE     *Float     `json:"b_vs_ref_nmse,omitempty"`
	Statement string     `json:"statement"`
	Note      string     `json:"note,omitempty"`
}

// fullPolicy records every slot, layer and position with full tensors, as
// teacher forcing needs A's inputs to every operation.
var fullPolicy = probes.Policy{Mode: probes.ModeFull, Head: 8}

// Bisect runs A and B over the same tokens, compares their traces, and,
// when they part at the prompt step and B can replay, attributes the
// divergence by teacher forcing: first per layer, then per operation inside
// the culprit layer. A is the reference; B is fed A's decode tokens. When
// ref is not nil it is run too and compared with both at the first
// divergence.
func Bisect(ctx context.Context, a, b Runner, bReplay Replayer, ref Runner, o BisectOptions) (*Bisection, error) {
	ta, err := a.Trace(ctx, o.Prompt, o.Decode, nil, fullPolicy)
	if err != nil {
		return nil, fmt.Errorf("diff: run A: %w", err)
	}
	fed := ta.Header.Tokens[ta.Header.PromptLen:]
	tb, err := b.Trace(ctx, o.Prompt, len(fed), fed, fullPolicy)
	if err != nil {
		return nil, fmt.Errorf("diff: run B: %w", err)
	}
	calibration := calibrate(ctx, &o.Options, o.Calibrate, o.Prompt, fed)
	// calibrate turns a failed measurement into a note; a cancelled one
	// must stop the bisection instead of judging it with other budgets.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	res, err := Diff(ta, tb, o.Options)
	if err != nil {
		return nil, err
	}
	if calibration != "" {
		res.Notes = append(res.Notes, calibration)
	}
	bs := &Bisection{Result: res}
	switch {
	case res.First == nil:
		bs.Skipped = "no pair failed"
	case res.First.Layer < 0 && res.First.Slot == probes.Embed:
		bs.Skipped = "the first divergence is the embedding lookup itself, before any layer: the two files' token_embd rows differ (parity diag compare-embedding names the rows)"
	case res.First.Step != 0:
		bs.Skipped = fmt.Sprintf("the first divergence is at decode step %d; teacher forcing replays the prompt step, where the runs agree", res.First.Step)
	case bReplay == nil:
		bs.Skipped = "B's engine cannot replay layers (a subprocess reference); only the first divergence is reported"
	default:
		layers := o.Layers
		if layers <= 0 {
			layers = ta.Header.Model.Dims.Layers
		}
		if bs.Attribution, err = attribute(ctx, ta, bReplay, layers, &o); err != nil {
			return nil, err
		}
	}
	if ref != nil && res.First != nil {
		if bs.Reference, err = threeWay(ctx, ref, ta, tb, &o, res.First); err != nil {
			return nil, err
		}
	}
	return bs, nil
}

// layerInput returns A's recorded input to layer l at step 0.
func layerInput(ix map[probes.Key]*probes.Record, l int) (*probes.Record, error) {
	k := probes.Key{Step: 0, Layer: -1, Slot: probes.Embed}
	if l > 0 {
		k = probes.Key{Step: 0, Layer: l - 1, Slot: probes.Out}
	}
	r := ix[k]
	if r == nil || r.Full == nil {
		return nil, fmt.Errorf("diff: teacher forcing needs A's full %v", k)
	}
	return r, nil
}

func attribute(ctx context.Context, ta *probes.Trace, br Replayer, layers int, o *BisectOptions) (*Attribution, error) {
	ths, err := Thresholds(o.Profile, o.Overrides)
	if err != nil {
		return nil, err
	}
	perSlot := make(map[probes.Slot]Threshold, len(ths))
	for _, t := range ths {
		perSlot[t.Slot] = t
	}
	ix := ta.Index()
	judgeAdded := func(k probes.Key, want, got []float32) (Added, error) {
		c, err := stats.Compare(want, got)
		if err != nil {
			return Added{}, fmt.Errorf("diff: teacher forcing %v: %w", k, err)
		}
		th := budgetFor(k, &o.Options, perSlot)
		return Added{Step: k.Step, Layer: k.Layer, Slot: k.Slot, NMSE: Float(c.NMSE), MaxAbs: Float(c.MaxAbsDiff),
			Threshold: th, Verdict: judge(c.NMSE, th)}, nil
	}
	at := &Attribution{CulpritLayer: -1}
	for l := 0; l < layers; l++ {
		x, err := layerInput(ix, l)
		if err != nil {
			return nil, err
		}
		rec, err := probes.NewRecorder(probes.Policy{Mode: probes.ModeFull, Layers: []int{l}, Steps: []int{0}})
		if err != nil {
			return nil, err
		}
		if err := br.ReplayLayer(ctx, l, x.Full, rec); err != nil {
			return nil, fmt.Errorf("diff: replay layer %d: %w", l, err)
		}
		worst := Added{Layer: l, Verdict: Pass}
		for _, r := range rec.Records() {
			want := ix[r.Key()]
			if want == nil || want.Full == nil {
				continue
			}
			add, err := judgeAdded(r.Key(), want.Full, r.Full)
			if err != nil {
				return nil, err
			}
			// The layer is judged at its first failing slot, else at its
			// largest NMSE relative to budget.
			if worst.Slot == 0 || add.Verdict > worst.Verdict ||
				(add.Verdict == worst.Verdict && worst.Verdict < Fail && ratio(add) > ratio(worst)) {
				worst = add
			}
		}
		at.Layers = append(at.Layers, worst)
		if worst.Verdict == Fail && at.CulpritLayer < 0 {
			at.CulpritLayer = l
		}
	}
	if at.CulpritLayer < 0 {
		at.Note = "no layer adds a failing divergence when fed A's input: the divergence builds up from sub-threshold differences in several layers"
		return at, nil
	}
	l := at.CulpritLayer
	x, _ := layerInput(ix, l)
	for _, want := range ta.Records {
		if want.Step != 0 || want.Layer != l {
			continue
		}
		need, _, ok := want.Slot.Inputs(o.QKNorm)
		if !ok {
			continue
		}
		in := make(map[probes.Slot][]float32, len(need))
		for _, s := range need {
			r := ix[probes.Key{Step: 0, Layer: l, Slot: s}]
			if r == nil || r.Full == nil {
				return nil, fmt.Errorf("diff: teacher forcing %v needs A's full %s", want.Key(), s)
			}
			in[s] = r.Full
		}
		got, err := br.ReplayOp(ctx, l, want.Slot, x.Full, in)
		if err != nil {
			return nil, fmt.Errorf("diff: replay %v: %w", want.Key(), err)
		}
		add, err := judgeAdded(want.Key(), want.Full, got)
		if err != nil {
			return nil, err
		}
		at.Ops = append(at.Ops, add)
		if add.Verdict == Fail && at.Culprit == nil {
			k := add.Key()
			at.Culprit = &k
		}
	}
	if at.Culprit == nil {
		at.Note = fmt.Sprintf("layer %d fails as a whole but none of its operations fails by itself: the error is spread over several of them", l)
	}
	return at, nil
}

// ratio is an addition's NMSE relative to its PASS budget (0 for a zero budget).
func ratio(a Added) float64 {
	if a.Threshold.NMSE <= 0 {
		return 0
	}
	return float64(a.NMSE) / float64(a.Threshold.NMSE)
}

// threeWay runs the reference over A's tokens and says, at the first
// divergence, which side the reference agrees with. When the reference does
// not hold that tensor (llama.cpp fuses silu(gate)·up, so it has no
// ffn_act), the next tensor in execution order that both comparisons can
// judge is used, and the note says so.
func threeWay(ctx context.Context, ref Runner, ta, tb *probes.Trace, o *BisectOptions, first *Divergence) (*ThreeWay, error) {
	fed := ta.Header.Tokens[ta.Header.PromptLen:]
	tr, err := ref.Trace(ctx, o.Prompt, len(fed), fed, fullPolicy)
	if err != nil {
		return nil, fmt.Errorf("diff: run the reference: %w", err)
	}
	ra, err := Diff(tr, ta, o.Options)
	if err != nil {
		return nil, err
	}
	rb, err := Diff(tr, tb, o.Options)
	if err != nil {
		return nil, err
	}
	atA := make(map[probes.Key]*Pair, len(ra.Pairs))
	for i := range ra.Pairs {
		atA[ra.Pairs[i].Key()] = &ra.Pairs[i]
	}
	want := probes.Key{Step: first.Step, Layer: first.Layer, Slot: first.Slot}
	tw := &ThreeWay{Key: want, Engine: tr.Header.Engine, AVerdict: Refused, BVerdict: Refused}
	for i := range rb.Pairs {
		pb := &rb.Pairs[i]
		pa := atA[pb.Key()]
		if probes.CompareOrder(pb.Key(), want) < 0 || pa == nil || pa.Verdict == Refused || pb.Verdict == Refused {
			continue
		}
		tw.Key, tw.AVerdict, tw.BVerdict = pb.Key(), pa.Verdict, pb.Verdict
		tw.ANMSE, tw.BNMSE = nmseOf(pa), nmseOf(pb)
		if tw.Key != want {
			tw.Note = fmt.Sprintf("%s does not hold %s; compared at %s, the next tensor both runs can be judged at", tw.Engine, want, tw.Key)
		}
		break
	}
	agreeA, agreeB := tw.AVerdict <= Warn, tw.BVerdict <= Warn
	switch {
	case tw.AVerdict == Refused:
		tw.Statement = fmt.Sprintf("%s holds no comparable tensor at or after the first divergence", tw.Engine)
	case agreeA && !agreeB:
		tw.Statement = fmt.Sprintf("A agrees with %s and B does not: B diverges from %s", tw.Engine, tw.Engine)
	case agreeB && !agreeA:
		tw.Statement = fmt.Sprintf("B agrees with %s and A does not: A diverges from %s", tw.Engine, tw.Engine)
	case agreeA && agreeB:
		tw.Statement = fmt.Sprintf("both agree with %s within budget at this tensor; they differ from each other by more than from it", tw.Engine)
	default:
		tw.Statement = fmt.Sprintf("neither agrees with %s at this tensor", tw.Engine)
	}
	return tw, nil
}

func nmseOf(p *Pair) *Float {
	if p.Metrics == nil || p.Metrics.Tensor == nil {
		return nil
	}
	n := p.Metrics.Tensor.NMSE
	return &n
}
