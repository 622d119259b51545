package selftest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes"
	"github.com/layerwise/parity/runtimes/faults"
	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
)

// Case is one planted fault and what bisection made of it.
type Case struct {
	Model string       `json:"model"` // "qwen2/q4_K" for fixtures, the file name otherwise
	Fault faults.Fault `json:"fault"`
	// Expect is where the fault must show first; Found is the first
	// divergence bisection reported, Culprit the op teacher forcing blamed
	// (prompt-step faults only).
	Expect  probes.Key  `json:"expect"`
	Found   *probes.Key `json:"found,omitempty"`
	Culprit *probes.Key `json:"culprit,omitempty"`
	OK      bool        `json:"ok"`
	Note    string      `json:"note,omitempty"`
}

// Options choose what to test.
type Options struct {
	// Model, when set, is the user's model; only engine faults are planted
	// (file faults need a synthetic model). Otherwise fixtures of every
	// Arch × Type are generated in Dir.
	Model   string
	Archs   []string
	Types   []ggml.Type
	Layers  []int         // layers to plant each fault at; default: 1 and the last
	Faults  []faults.Kind // default: every kind
	Dir     string        // where fixtures are written; default: a temp dir removed afterwards
	Prompt  []int32       // default: a fixed 7-token prompt
	Threads int
	// Progress, if set, is called after each case.
	Progress func(Case)
}

// DefaultPrompt is seven ids, the length of the seed's "What is 2+2?".
var DefaultPrompt = []int32{1, 300, 301, 302, 303, 304, 305}

// decodeSteps is how many decode steps decode-path faults are traced for.
const decodeSteps = 2

// Run plants the faults and bisects each one. It returns every case; an
// error means the harness itself failed, not a case.
func Run(ctx context.Context, o Options) ([]Case, error) {
	if len(o.Archs) == 0 {
		o.Archs = []string{"llama", "qwen2", "qwen3"}
	}
	if len(o.Types) == 0 {
		o.Types = []ggml.Type{ggml.F32, ggml.Q4_K}
	}
	if len(o.Faults) == 0 {
		o.Faults = faults.Kinds()
	}
	if len(o.Prompt) == 0 {
		o.Prompt = DefaultPrompt
	}
	if o.Dir == "" {
		dir, err := os.MkdirTemp("", "parity-selftest-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		o.Dir = dir
	}
	var out []Case
	add := func(cs []Case) {
		for _, c := range cs {
			if o.Progress != nil {
				o.Progress(c)
			}
		}
		out = append(out, cs...)
	}
	if o.Model != "" {
		cs, err := runModel(ctx, o, o.Model, filepath.Base(o.Model), nil)
		if err != nil {
			return out, err
		}
		add(cs)
		return out, nil
	}
	for _, arch := range o.Archs {
		for _, t := range o.Types {
			spec := fixtures.Default(arch, t)
			spec.NLayer = 3
			path := filepath.Join(o.Dir, fmt.Sprintf("%s-%s.gguf", arch, t))
			if err := fixtures.WriteGGUF(path, spec); err != nil {
				return out, err
			}
			cs, err := runModel(ctx, o, path, fmt.Sprintf("%s/%s", arch, t), &spec)
			if err != nil {
				return out, err
			}
			add(cs)
		}
	}
	return out, nil
}

// runModel plants every applicable fault in one model. A's traces and the
// noise floor are the same for every fault, so they are computed once.
func runModel(ctx context.Context, o Options, path, name string, spec *fixtures.Spec) ([]Case, error) {
	ra, err := runtimes.Open(path, "apr", runtimes.Options{Threads: o.Threads})
	if err != nil {
		return nil, err
	}
	defer ra.Close()
	probe, err := runtimes.Open(path, "gguf", runtimes.Options{Threads: o.Threads})
	if err != nil {
		return nil, err
	}
	info := probe.Model().Dims
	qkNorm, arch := runtimes.QKNorm(probe), probe.Model().Arch
	probe.Close()
	a := &memo{rt: ra, traces: map[string]*probes.Trace{}}
	floors := map[int]map[probes.Key]float64{}
	layers := o.Layers
	if len(layers) == 0 {
		layers = []int{1, info.Layers - 1}
		if info.Layers < 3 {
			layers = []int{info.Layers - 1}
		}
	}
	var out []Case
	for _, k := range o.Faults {
		if !k.File() && !k.Applies(arch == "qwen2", qkNorm, info.Heads, info.KVHeads) {
			continue
		}
		if k == faults.SampleSize {
			c, err := sampleSize(ctx, ra, o.Prompt, name)
			if err != nil {
				return out, err
			}
			out = append(out, c)
			continue
		}
		if k == faults.KVF16 && spec != nil && spec.Type != ggml.F32 {
			// An f16 KV cache moves attention by ~1e-7 NMSE, far below the
			// noise that activation quantization already puts there: no
			// honest threshold can call it a divergence on these weights.
			continue
		}
		isFile := k.File()
		if isFile && spec == nil {
			continue // file faults need a synthetic model to rewrite
		}
		if k == faults.Transpose && spec.NHead*spec.HeadDim != spec.NEmbd && spec.HeadDim != 0 {
			continue // needs a square attn_output
		}
		prompt, at := o.Prompt, layers
		if k == faults.CorruptEmbedRow {
			// A global table: one plant, seen only by prompts holding the
			// corrupted token, which this prompt does at its end.
			prompt, at = append(slices.Clone(o.Prompt), int32(fixtures.CorruptEmbedToken())), []int{0}
		}
		for _, l := range at {
			f := faults.Fault{Kind: k, Layer: l}
			bPath, bOpts := path, runtimes.Options{Threads: o.Threads}
			if isFile {
				s := *spec
				s.FileFaults = []faults.Fault{f}
				bPath = filepath.Join(o.Dir, fmt.Sprintf("%s-%s-%s.gguf", s.Arch, s.Type, f))
				if err := fixtures.WriteGGUF(bPath, s); err != nil {
					return out, err
				}
			} else {
				bOpts.Faults = faults.Set{f}
			}
			c, err := bisectOne(ctx, a, bPath, bOpts, prompt, qkNorm, floors)
			if err != nil {
				return out, fmt.Errorf("selftest: %s %s: %w", name, f, err)
			}
			c.Model, c.Fault = name, f
			c.Expect = probes.Key{Layer: l, Slot: k.Expect()}
			if k.Expect().Global() {
				c.Expect.Layer = -1
			}
			if k.Decode() {
				c.Expect.Step = 1
			}
			judge(&c, k)
			out = append(out, c)
		}
	}
	return out, nil
}

func bisectOne(ctx context.Context, a *memo, bPath string, bOpts runtimes.Options, prompt []int32, qkNorm bool, floors map[int]map[probes.Key]float64) (Case, error) {
	rb, err := runtimes.Open(bPath, "gguf", bOpts)
	if err != nil {
		return Case{}, err
	}
	defer rb.Close()
	decode := 0
	if len(bOpts.Faults) > 0 && bOpts.Faults[0].Kind.Decode() {
		decode = decodeSteps
	}
	replay, _ := runtimes.ReplayerOf(rb)
	bo := diff.BisectOptions{Options: diff.Options{Profile: diff.ProfileCalibrated}, Prompt: prompt, Decode: decode, QKNorm: qkNorm,
		Calibrate: func(ctx context.Context, prompt, force []int32) (map[probes.Key]float64, error) {
			if f, ok := floors[len(force)]; ok {
				return f, nil
			}
			f, err := runtimes.NoiseFloor(ctx, bPath, "", prompt, force, bOpts.Threads)
			if err == nil && len(bOpts.Faults) > 0 {
				floors[len(force)] = f // the weights are the clean ones: reusable
			}
			return f, err
		}}
	bs, err := diff.Bisect(ctx, a, runner{rb}, replay, nil, bo)
	if err != nil {
		return Case{}, err
	}
	var c Case
	if f := bs.Result.First; f != nil {
		c.Found = &probes.Key{Step: f.Step, Layer: f.Layer, Slot: f.Slot}
	}
	if at := bs.Attribution; at != nil {
		c.Culprit = at.Culprit
		c.Note = at.Note
	} else if bs.Skipped != "" && c.Found != nil {
		c.Note = bs.Skipped
	}
	return c, nil
}

// judge decides a case: the first divergence must be where the fault was
// planted, and for prompt-step faults inside a layer teacher forcing must
// blame that op. (A corrupted embedding row shows in the embed lookup
// itself, before any layer: there is no op to replay.)
func judge(c *Case, k faults.Kind) {
	switch {
	case c.Found == nil:
		c.Note = "no divergence found"
	case *c.Found != c.Expect:
		c.Note = fmt.Sprintf("first divergence at %v", *c.Found)
	case !k.Decode() && c.Expect.Layer >= 0 && (c.Culprit == nil || *c.Culprit != c.Expect):
		if c.Culprit != nil {
			c.Note = fmt.Sprintf("teacher forcing blamed %v", *c.Culprit)
		}
	default:
		c.OK = true
	}
}

// sampleSize is the seed's artifact: A records every prompt position, B
// only the last. Auto alignment must reconcile it (PASS over the common
// position, saying so); strict alignment must refuse it.
func sampleSize(ctx context.Context, rt runtimes.Runtime, prompt []int32, name string) (Case, error) {
	c := Case{Model: name, Fault: faults.Fault{Kind: faults.SampleSize, Layer: -1}}
	ta, _, err := runtimes.Trace(ctx, rt, runtimes.Request{Prompt: prompt}, probes.Policy{}, "")
	if err != nil {
		return c, err
	}
	tb, _, err := runtimes.Trace(ctx, rt, runtimes.Request{Prompt: prompt}, probes.Policy{Positions: probes.Positions{Last: true}}, "")
	if err != nil {
		return c, err
	}
	auto, err := diff.Diff(ta, tb, diff.Options{Profile: diff.ProfileExact})
	if err != nil {
		return c, err
	}
	strict, err := diff.Diff(ta, tb, diff.Options{Profile: diff.ProfileExact, Align: diff.AlignStrict})
	if err != nil {
		return c, err
	}
	reconciled := auto.Verdict == diff.Pass && len(auto.Pairs) > 0 && auto.Pairs[0].Note != ""
	c.OK = reconciled && strict.Verdict == diff.Refused
	c.Note = fmt.Sprintf("auto: %s (%s); strict: %s", auto.Verdict, firstNote(auto), strict.Verdict)
	return c, nil
}

func firstNote(r *diff.Result) string {
	if len(r.Pairs) == 0 {
		return r.Reason
	}
	return r.Pairs[0].Note
}

// runner adapts a Runtime to diff.Runner.
type runner struct{ rt runtimes.Runtime }

func (r runner) Trace(ctx context.Context, prompt []int32, decode int, force []int32, p probes.Policy) (*probes.Trace, error) {
	tr, _, err := runtimes.Trace(ctx, r.rt, runtimes.Request{Prompt: prompt, Decode: decode, Force: force}, p, "")
	return tr, err
}

// memo is a runner whose traces are computed once per request: the clean
// reference run is the same for every planted fault.
type memo struct {
	rt     runtimes.Runtime
	traces map[string]*probes.Trace
}

func (m *memo) Trace(ctx context.Context, prompt []int32, decode int, force []int32, p probes.Policy) (*probes.Trace, error) {
	key := fmt.Sprint(prompt, decode, force, p.Mode, p.Positions, p.Slots, p.Layers, p.Steps)
	if t, ok := m.traces[key]; ok {
		return t, nil
	}
	t, err := runner{m.rt}.Trace(ctx, prompt, decode, force, p)
	if err == nil {
		m.traces[key] = t
	}
	return t, err
}

// Summary counts the cases that found their fault.
func Summary(cs []Case) (ok, total int) {
	for _, c := range cs {
		if c.OK {
			ok++
		}
	}
	return ok, len(cs)
}

// failures lists the cases that missed, for messages.
func failures(cs []Case) []Case {
	return slices.DeleteFunc(slices.Clone(cs), func(c Case) bool { return c.OK })
}
