package diag

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/aprengine"
	"github.com/layerwise/parity/runtimes/ggufengine"
	"github.com/layerwise/parity/runtimes/model"
	"github.com/layerwise/parity/stats"
)

// ops maps the operation names of `parity diag compare-op --op` to the
// slots whose values they produce; replaying an op means computing those
// slots from their recorded inputs (probes.Slot.Inputs).
var ops = []struct {
	name  string
	slots []probes.Slot
	note  string
}{
	{"rmsnorm", []probes.Slot{probes.AttnNorm}, "the pre-attention RMSNorm (attn_norm) of the layer input"},
	{"rope", []probes.Slot{probes.QRope, probes.KRope}, "RoPE of q and of k (q_rope, k_rope)"},
	{"attention", []probes.Slot{probes.AttnCtx}, "softmax(QKᵀ/√hd)·V over the rotated q and k (attn_ctx)"},
	{"softmax", []probes.Slot{probes.AttnCtx}, "the softmax has no slot of its own: its output first shows in attn_ctx = softmax(QKᵀ/√hd)·V"},
	{"matmul", []probes.Slot{probes.Q}, "the q projection (q); --slot picks another matmul: k, v, attn_out, ffn_gate, ffn_up, ffn_out"},
	{"swiglu", []probes.Slot{probes.FFNSwiGLU}, "silu(gate)·up (ffn_swiglu)"},
}

// Ops lists the operation names CompareOp accepts.
func Ops() []string {
	out := make([]string, len(ops))
	for i, o := range ops {
		out[i] = o.name
	}
	return out
}

// OpSlots returns the slots an operation name replays and what it means.
func OpSlots(op string) ([]probes.Slot, string, error) {
	for _, o := range ops {
		if o.name == op {
			return o.slots, o.note, nil
		}
	}
	return nil, "", fmt.Errorf("diag: unknown op %q (want %s)", op, strings.Join(Ops(), ", "))
}

// Engines lists the engines CompareOp can replay an operation in.
var Engines = []string{"apr", "gguf"}

// matmulSlots are the slots a matrix multiplication produces.
var matmulSlots = []probes.Slot{probes.Q, probes.K, probes.V, probes.AttnOut, probes.FFNGate, probes.FFNUp, probes.FFNOut}

// OpOptions selects the operation CompareOp replays and where its input
// comes from.
type OpOptions struct {
	Op    string      // one of Ops(); ignored when Slot is set
	Slot  probes.Slot // replay this slot's operation instead of Op's
	Layer int
	// EngineA and EngineB name the engines ("apr", "gguf"); empty means
	// the engine of the file's own format.
	EngineA, EngineB string
	Threads          int // 0: all cores; results do not depend on it
	// Tokens is the prompt. With Trace it may be nil (the trace's prompt
	// is used); otherwise it must equal the trace's prompt.
	Tokens []int32
	// Trace, if set, is a recorded run of A over the prompt with full
	// tensors of the op's inputs at step 0 for positions 0..T−1; nil runs
	// EngineA over the prompt now. TraceName labels it in the result.
	Trace     *probes.Trace
	TraceName string
}

// PosCheck is the difference at one token position.
type PosCheck struct {
	Pos    int   `json:"pos"`
	Token  int32 `json:"token"`
	MaxAbs Float `json:"max_abs"`
	Rel    Float `json:"rel"` // ‖b−a‖/‖a‖ over the position's values
	StdA   Float `json:"std_a"`
	StdB   Float `json:"std_b"` // population std of each side's values
}

// SlotCheck compares A's and B's implementation of one slot's operation
// on the same recorded input.
type SlotCheck struct {
	Slot     probes.Slot `json:"slot"`
	Inputs   []string    `json:"inputs"` // the recorded slots fed to both engines
	PerToken int         `json:"per_token"`
	// Diff compares B's output with A's over all positions.
	Diff    Diff    `json:"diff"`
	Verdict Verdict `json:"verdict"`
	// TraceCheck compares A's replayed output with the output the trace
	// recorded, when it has it: zero when the trace came from engine A
	// itself (replay runs the forward pass's own code), the size of A's
	// engine-vs-source gap otherwise.
	TraceCheck *Diff      `json:"trace_check,omitempty"`
	Positions  []PosCheck `json:"positions"`
}

// OpResult is CompareOp's answer.
type OpResult struct {
	Op      string      `json:"op"`
	Meaning string      `json:"meaning"`
	Layer   int         `json:"layer"`
	A       Model       `json:"a"`
	B       Model       `json:"b"`
	EngineA string      `json:"engine_a"`
	EngineB string      `json:"engine_b"`
	Input   string      `json:"input"` // where the inputs came from
	Tokens  []int32     `json:"tokens"`
	Slots   []SlotCheck `json:"slots"`
	Verdict Verdict     `json:"verdict"`
}

// replayer is what CompareOp needs of an engine: a forward pass that
// records, and one operation replayed on given inputs with the code the
// forward pass uses (teacher forcing).
type replayer interface {
	Forward(ctx context.Context, step int, tokens []int32, rec *probes.Recorder) ([]float32, error)
	ReplayOp(ctx context.Context, l int, out probes.Slot, x []float32, in map[probes.Slot][]float32) ([]float32, error)
}

func openEngine(name string, w *model.Weights, threads int) (replayer, string, error) {
	if name == "" {
		name = w.Format
	}
	switch name {
	case "apr":
		e, err := aprengine.New(w, aprengine.Options{Threads: threads})
		return e, name, err
	case "gguf":
		e, err := ggufengine.New(w, ggufengine.Options{Threads: threads})
		return e, name, err
	}
	return nil, "", fmt.Errorf("diag: unknown engine %q (want %s)", name, strings.Join(Engines, ", "))
}

// CompareOp replays one operation of layer o.Layer in two engines on the
// same input and compares their outputs — the seed's
// diag_compare_rmsnorm_layer0, generalised to any replayable operation and
// layer. The input is the op's real input: engine A's recorded values of
// the op's input slots (and of the layer input for rmsnorm), taken from
// o.Trace or from a full-capture run of A over the prompt. A's and B's
// own implementations (ReplayOp) then compute the op from those identical
// values, so the difference is what the two implementations of this one
// op do differently, not inherited drift.
//
// Verdicts are the operation bands on ‖b−a‖/‖a‖ (see Verdict); A's
// output is the reference. a and b must have the same dimensions (they are
// usually one model in two formats, or one file run by two engines).
func CompareOp(ctx context.Context, a, b *model.Weights, o OpOptions) (*OpResult, error) {
	slots, meaning := []probes.Slot{o.Slot}, "the operation that produces "+o.Slot.String()
	opName := o.Slot.String()
	if o.Slot == 0 {
		var err error
		if slots, meaning, err = OpSlots(o.Op); err != nil {
			return nil, err
		}
		opName = o.Op
	}
	ca, cb := a.Config, b.Config
	if err := sameDims(ca, cb); err != nil {
		return nil, err
	}
	if o.Layer < 0 || o.Layer >= ca.NLayer {
		return nil, fmt.Errorf("diag: no layer %d (the model has %d)", o.Layer, ca.NLayer)
	}
	for _, s := range slots {
		if _, _, ok := s.Inputs(ca.Arch.QKNorm); !ok || s.Global() {
			return nil, fmt.Errorf("diag: slot %s has no operation to replay in a %s layer", s, ca.Arch.Name)
		}
	}
	engA, nameA, err := openEngine(o.EngineA, a, o.Threads)
	if err != nil {
		return nil, err
	}
	engB, nameB, err := openEngine(o.EngineB, b, o.Threads)
	if err != nil {
		return nil, err
	}
	res := &OpResult{Op: opName, Meaning: meaning, Layer: o.Layer, A: modelOf(a), B: modelOf(b), EngineA: nameA, EngineB: nameB, Verdict: BitIdentical}
	tr := o.Trace
	if tr != nil {
		if res.Tokens, err = traceTokens(tr, o.Tokens, ca); err != nil {
			return nil, err
		}
		res.Input = fmt.Sprintf("trace %s (engine %s)", o.TraceName, tr.Header.Engine)
	} else {
		if len(o.Tokens) == 0 {
			return nil, fmt.Errorf("diag: no prompt: give tokens or a trace")
		}
		res.Tokens = slices.Clone(o.Tokens)
		if tr, err = captureInputs(ctx, engA, slots, o.Layer, ca.Arch.QKNorm, res.Tokens); err != nil {
			return nil, err
		}
		res.Input = "a full-capture run of engine " + nameA + " over the prompt"
	}
	T := len(res.Tokens)
	for _, s := range slots {
		need, needX, _ := s.Inputs(ca.Arch.QKNorm)
		in := map[probes.Slot][]float32{}
		sc := SlotCheck{Slot: s}
		for _, n := range need {
			if in[n], err = fullRecord(tr, probes.Key{Layer: o.Layer, Slot: n}, T); err != nil {
				return nil, err
			}
			sc.Inputs = append(sc.Inputs, n.String())
		}
		var x []float32
		if needX {
			k := layerInputKey(o.Layer)
			if x, err = fullRecord(tr, k, T); err != nil {
				return nil, err
			}
			sc.Inputs = append(sc.Inputs, layerInputName(o.Layer))
		}
		outA, err := engA.ReplayOp(ctx, o.Layer, s, x, in)
		if err != nil {
			return nil, fmt.Errorf("diag: engine A: %w", err)
		}
		outB, err := engB.ReplayOp(ctx, o.Layer, s, x, in)
		if err != nil {
			return nil, fmt.Errorf("diag: engine B: %w", err)
		}
		if rec := tr.Find(probes.Key{Layer: o.Layer, Slot: s}); rec != nil && len(rec.Full) == len(outA) {
			d := compare(rec.Full, outA, len(outA)/T)
			sc.TraceCheck = &d
		}
		sc.PerToken = len(outA) / T
		sc.Diff = compare(outA, outB, sc.PerToken)
		matmul := slices.Contains(matmulSlots, s) && (nameA == "gguf" || nameB == "gguf")
		sc.Verdict = relBand(float64(sc.Diff.Rel), sc.Diff.Zero(), matmul)
		for p := 0; p < T; p++ {
			ra, rb := outA[p*sc.PerToken:(p+1)*sc.PerToken], outB[p*sc.PerToken:(p+1)*sc.PerToken]
			d := compare(ra, rb, sc.PerToken)
			var sa, sb stats.Summary
			sa.AddSlice(ra)
			sb.AddSlice(rb)
			sc.Positions = append(sc.Positions, PosCheck{Pos: p, Token: res.Tokens[p], MaxAbs: d.MaxAbs, Rel: d.Rel,
				StdA: Float(sa.Std()), StdB: Float(sb.Std())})
		}
		res.Slots = append(res.Slots, sc)
		res.Verdict = worse(res.Verdict, sc.Verdict, opRank)
	}
	return res, nil
}

// sameDims refuses to replay one model's recorded activations in another
// model of different shape.
func sameDims(a, b *model.Config) error {
	if a.NEmbd != b.NEmbd || a.NLayer != b.NLayer || a.NHead != b.NHead || a.NHeadKV != b.NHeadKV ||
		a.HeadDim != b.HeadDim || a.NFF != b.NFF || a.Arch.QKNorm != b.Arch.QKNorm || a.Arch.QKVBias != b.Arch.QKVBias {
		return fmt.Errorf("diag: the models differ in shape (A %s d=%d layers=%d heads=%d/%d hd=%d ff=%d, B %s d=%d layers=%d heads=%d/%d hd=%d ff=%d): one op's input does not fit both",
			a.Arch.Name, a.NEmbd, a.NLayer, a.NHead, a.NHeadKV, a.HeadDim, a.NFF, b.Arch.Name, b.NEmbd, b.NLayer, b.NHead, b.NHeadKV, b.HeadDim, b.NFF)
	}
	return nil
}

// layerInputKey is the record holding layer l's input: the embedding rows
// for layer 0, the previous layer's output otherwise.
func layerInputKey(l int) probes.Key {
	if l == 0 {
		return probes.Key{Layer: -1, Slot: probes.Embed}
	}
	return probes.Key{Layer: l - 1, Slot: probes.Out}
}

func layerInputName(l int) string {
	if l == 0 {
		return "layer input: embed"
	}
	return fmt.Sprintf("layer input: out of layer %d", l-1)
}

// captureInputs runs engine A over the prompt, keeping full tensors of
// exactly what replaying the slots at layer l reads (and their outputs,
// for the trace check).
func captureInputs(ctx context.Context, e replayer, slots []probes.Slot, l int, qkNorm bool, tokens []int32) (*probes.Trace, error) {
	want := map[probes.Slot]bool{}
	layers := []int{l}
	for _, s := range slots {
		want[s] = true
		need, needX, _ := s.Inputs(qkNorm)
		for _, n := range need {
			want[n] = true
		}
		if needX {
			want[layerInputKey(l).Slot] = true
			if l > 0 {
				layers = []int{l - 1, l}
			}
		}
	}
	pol := probes.Policy{Mode: probes.ModeFull, Layers: layers, Steps: []int{0}}
	for _, s := range probes.Slots() {
		if want[s] {
			pol.Slots = append(pol.Slots, s)
		}
	}
	rec, err := probes.NewRecorder(pol)
	if err != nil {
		return nil, err
	}
	if _, err := e.Forward(ctx, 0, tokens, rec); err != nil {
		return nil, fmt.Errorf("diag: engine A: %w", err)
	}
	if err := rec.Err(); err != nil {
		return nil, err
	}
	return &probes.Trace{Records: rec.Records()}, nil
}

// traceTokens checks that a trace can supply inputs for a replay in a
// model of config c and returns its prompt.
func traceTokens(tr *probes.Trace, tokens []int32, c *model.Config) ([]int32, error) {
	h := &tr.Header
	if d := h.Model.Dims; d.Embd != c.NEmbd || d.Heads != c.NHead || d.KVHeads != c.NHeadKV || d.HeadDim != c.HeadDim || d.FF != c.NFF {
		return nil, fmt.Errorf("diag: the trace was taken from a model of other dimensions (%+v)", d)
	}
	if h.PromptLen <= 0 || h.PromptLen > len(h.Tokens) {
		return nil, fmt.Errorf("diag: the trace has no prompt")
	}
	prompt := h.Tokens[:h.PromptLen]
	if tokens != nil && !slices.Equal(tokens, prompt) {
		return nil, fmt.Errorf("diag: the trace's prompt %v is not the one given %v", prompt, tokens)
	}
	return slices.Clone(prompt), nil
}

// fullRecord returns the full tensor of record k at step 0, which must
// cover positions 0..T−1 in order: a replay computes the op over the whole
// prompt from position 0.
func fullRecord(tr *probes.Trace, k probes.Key, T int) ([]float32, error) {
	r := tr.Find(k)
	if r == nil {
		return nil, fmt.Errorf("diag: the trace has no record of %s at step 0", k)
	}
	if r.Full == nil {
		return nil, fmt.Errorf("diag: the trace's %s has statistics only; record it with full tensors (parity trace --full)", k)
	}
	if len(r.Positions) != T {
		return nil, fmt.Errorf("diag: the trace's %s covers %d positions, the prompt has %d; record all positions", k, len(r.Positions), T)
	}
	for i, p := range r.Positions {
		if p != i {
			return nil, fmt.Errorf("diag: the trace's %s holds positions %s; the replay needs 0-%d in order", k, probes.FormatInts(r.Positions), T-1)
		}
	}
	return r.Full, nil
}
