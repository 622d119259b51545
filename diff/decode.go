package diff

import (
	"context"
	"fmt"
	"math"

	"github.com/layerwise/parity/probes"
)

// Decode summarises a comparison step by step, for traces that ran decode
// steps: what each step's logits predict and where each step first fails.
// It is built from the pairs alone (Result.Pairs), so it says nothing the
// pairs do not; it reorganises them around the question the decode path
// asks — which generated token would differ first, and why.
//
// When B was teacher-forced onto A's tokens (Bisect), B's argmax at step s
// is the token B would have generated there, so the first step whose two
// argmaxes differ is the first generated token that would differ had B
// decoded on its own. When both traces come from one engine
// (CompareDecode), A is the prefill of the whole sequence and B the
// incremental decode through the KV cache.
type Decode struct {
	// Steps holds every step both traces were fed alike, 0..Tokens.Steps.
	// Step 0's logits (the prompt's last position) predict the first
	// generated token, step s's the (s+1)-th.
	Steps []DecodeStep `json:"steps"`

	// FirstFlip is the first step whose argmax differs, nil if none does.
	FirstFlip *DecodeFlip `json:"first_flip,omitempty"`

	// Agreement is the top-1 agreement over the steps whose logits were
	// compared in full; nil when none was. Its Rate is the divergence rate
	// (flips/steps) with a 95% Wilson score interval: the steps of one
	// run are not independent trials (a flip makes later flips likelier),
	// so the interval is what a run of this length can and cannot rule
	// out, not a model of the engines.
	Agreement *Proportion `json:"agreement,omitempty"`

	// MaxKL is the largest per-step KL and the step it was at (−1 when no
	// logits were compared).
	MaxKL     Float `json:"max_kl"`
	MaxKLStep int   `json:"max_kl_step"`
}

// DecodeStep is one step of the decode summary.
type DecodeStep struct {
	Step int `json:"step"`
	// Position is the step's last position, the one whose logits predict
	// the next token: the last prompt position at step 0, the fed
	// position at a decode step.
	Position int `json:"position"`

	// Verdict is the worst verdict among the step's pairs, and Pairs their
	// number; First is the step's first failing pair (execution order),
	// nil if none failed.
	Verdict Verdict     `json:"verdict"`
	Pairs   int         `json:"pairs"`
	First   *Divergence `json:"first_divergence,omitempty"`

	// Logits compares the two sides' logits at Position (KL in nats, both
	// argmaxes, top-5 overlap); nil when the logits pair at this step was
	// not compared in full (refused, statistics only, or absent).
	Logits *LogitMetrics `json:"logits,omitempty"`
}

// Agree reports whether the step's logits were compared and both argmaxes
// are the same token.
func (s *DecodeStep) Agree() bool { return s.Logits != nil && s.Logits.Top1A == s.Logits.Top1B }

// DecodeFlip is the first step whose argmax differs.
type DecodeFlip struct {
	Step int `json:"step"`
	// Position is where the token would be fed: one past the step's last
	// position.
	Position int   `json:"position"`
	A        int32 `json:"a"`
	B        int32 `json:"b"`
	// TextA and TextB are the two tokens decoded to text. Diff does not
	// know the tokenizer; callers that do fill them in (see SetFlipText).
	TextA string `json:"text_a,omitempty"`
	TextB string `json:"text_b,omitempty"`
}

// Proportion is K successes (here: steps whose top-1 differs) out of N,
// with Rate = K/N and a Wilson score interval [Low, High] at Confidence.
type Proportion struct {
	K          int   `json:"k"`
	N          int   `json:"n"`
	Rate       Float `json:"rate"`
	Low        Float `json:"low"`
	High       Float `json:"high"`
	Confidence Float `json:"confidence"`
}

// wilsonZ is the two-sided 95% normal quantile.
const wilsonZ = 1.959963984540054

// Wilson returns k of n with its Wilson score interval at 95%. The Wilson
// interval rather than the normal (Wald) one because the interesting case
// is k = 0 (every step agrees), where Wald collapses to [0, 0] while Wilson
// gives [0, z²/(n+z²)], e.g. [0, 0.107] for 0 of 32: what 32 agreeing steps
// can rule out. n must be positive.
func Wilson(k, n int) Proportion {
	p, nf, z2 := float64(k)/float64(n), float64(n), wilsonZ*wilsonZ
	den := 1 + z2/nf
	centre := (p + z2/(2*nf)) / den
	half := wilsonZ / den * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return Proportion{K: k, N: n, Rate: Float(p), Low: Float(max(0, centre-half)), High: Float(min(1, centre+half)), Confidence: 0.95}
}

// decodeSummary builds Result.Decode from the pairs. It is nil unless both
// traces ran at least one decode step fed alike: a prefill-only diff has
// one prediction, and a rate over one step says nothing.
func decodeSummary(res *Result) *Decode {
	n := res.Tokens.Steps
	if !res.Tokens.Match || n < 1 {
		return nil
	}
	d := &Decode{Steps: make([]DecodeStep, n+1), MaxKLStep: -1}
	for s := range d.Steps {
		d.Steps[s] = DecodeStep{Step: s, Position: res.A.PromptLen - 1 + s}
	}
	for i := range res.Pairs {
		p := &res.Pairs[i]
		if p.Step > n {
			continue
		}
		st := &d.Steps[p.Step]
		st.Pairs++
		st.Verdict = st.Verdict.Worse(p.Verdict)
		if p.Verdict == Fail && st.First == nil {
			st.First = &Divergence{Index: i, Step: p.Step, Layer: p.Layer, Slot: p.Slot}
		}
		if p.Slot != probes.Logits || p.Metrics == nil {
			continue
		}
		for j := range p.Metrics.Logits {
			if lm := p.Metrics.Logits[j]; lm.Position == st.Position {
				st.Logits = &lm
			}
		}
	}
	flips, compared := 0, 0
	for s := range d.Steps {
		st := &d.Steps[s]
		if st.Logits == nil {
			continue
		}
		compared++
		if kl := float64(st.Logits.KL); d.MaxKLStep < 0 || kl > float64(d.MaxKL) || math.IsNaN(kl) && !math.IsNaN(float64(d.MaxKL)) {
			d.MaxKL, d.MaxKLStep = st.Logits.KL, s
		}
		if !st.Agree() {
			flips++
			if d.FirstFlip == nil {
				d.FirstFlip = &DecodeFlip{Step: s, Position: st.Position + 1, A: int32(st.Logits.Top1A), B: int32(st.Logits.Top1B)}
			}
		}
	}
	if compared > 0 {
		w := Wilson(flips, compared)
		d.Agreement = &w
	}
	return d
}

// SetFlipText fills in the first flip's two tokens as text, with decode
// mapping an id to its text (a tokenizer's). It does nothing when there is
// no flip.
func (d *Decode) SetFlipText(decode func(id int32) string) {
	if d == nil || d.FirstFlip == nil {
		return
	}
	d.FirstFlip.TextA, d.FirstFlip.TextB = decode(d.FirstFlip.A), decode(d.FirstFlip.B)
}

// DecodeRunner is one engine, run over the same tokens two ways: one
// prefill of the whole sequence, and the prompt followed by single-token
// steps through its KV cache (runtimes.PrefillDecode). Both traces must
// carry the same header tokens, the prefill's records re-split by the
// decode step that feeds each position.
type DecodeRunner interface {
	PrefillDecode(ctx context.Context, prompt []int32, steps int, p probes.Policy) (prefill, decode *probes.Trace, err error)
}

// CompareDecodeOptions configure CompareDecode.
type CompareDecodeOptions struct {
	Options
	Prompt []int32
	Decode int // single-token steps after the prompt (the engine's greedy choices)

	// Calibrate measures the noise floor for ProfileCalibrated over the
	// fed tokens, as in BisectOptions.
	Calibrate func(ctx context.Context, prompt, force []int32) (map[probes.Key]float64, error)
}

// CompareDecode is the KV-cache self-consistency check: one engine's
// prefill of the whole sequence (A, the reference) against its
// incremental decode (B), paired position by position, every record in
// full. The result's Decode summary says at which step the two first
// predict different tokens; its first divergence names the (step, layer,
// slot) where the cache path first departs.
//
// Which budgets apply (measured on every shared model, prompts of 5 to 15
// tokens, 16 and 32 decode steps; selftest's TestCompareDecodeSharedModels
// logs them): the two runs execute the same kernels on the same rows, but a
// batched matmul and a single-row one sum in different orders, so a row's
// f32 values differ in their last bits — at most 5.4e-12 NMSE on the f32
// models with the GGUF engine. Where activations are quantized (Q8_K, Q8_0,
// f16) a value on a rounding boundary can then land on the neighbouring
// level on one side, and that one level propagates: up to 9.6e-4 NMSE
// (tiny-qwen2-bpe-Q4_K_M, ffn_out), far beyond ProfileExact's 1e-8 but of
// the size of rounding every element, i.e. of the activation-quantization
// floor (at most 1.04× the floor of its record). ProfileCalibrated — 4× the
// floor, at least 1e-10 — therefore holds it, with the worst record at 0.26
// of its budget, while every planted cache fault fails at 26× its budget
// or more. The APR engine quantizes nothing and is bit-identical both
// ways (NMSE 0), so ProfileExact holds it. An f16 KV cache also rounds K,
// V, Q and the probabilities, which the activation floor does not measure
// (1.4e-6 on stories260K, 6.2e-4 on tiny-qwen3-random-Q4_K_M): judge it with
// ProfileQuant (worst 0.06 of its budgets).
func CompareDecode(ctx context.Context, r DecodeRunner, o CompareDecodeOptions) (*Result, error) {
	if o.Decode < 1 {
		return nil, fmt.Errorf("diff: compare-decode needs at least one decode step, not %d", o.Decode)
	}
	pf, dc, err := r.PrefillDecode(ctx, o.Prompt, o.Decode, fullPolicy)
	if err != nil {
		return nil, fmt.Errorf("diff: compare-decode: %w", err)
	}
	note := calibrate(ctx, &o.Options, o.Calibrate, o.Prompt, dc.Header.Tokens[dc.Header.PromptLen:])
	// A cancelled measurement stops here, as in Bisect: judging with the
	// fallback budgets would print a verdict for a run the user stopped.
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("diff: compare-decode: %w", err)
	}
	res, err := Diff(pf, dc, o.Options)
	if err != nil {
		return nil, err
	}
	res.Notes = append(res.Notes, fmt.Sprintf("self-consistency of one engine: A is one prefill of all %d positions, B the %d-token prompt then %d single-token steps through the KV cache",
		len(dc.Header.Tokens), dc.Header.PromptLen, len(dc.Header.Tokens)-dc.Header.PromptLen))
	if note != "" {
		res.Notes = append(res.Notes, note)
	}
	return res, nil
}

// calibrate measures the noise floor into o.Floor when ProfileCalibrated
// needs one and none was given, and returns a note when the quant budgets
// stand in for it.
func calibrate(ctx context.Context, o *Options, measure func(ctx context.Context, prompt, force []int32) (map[probes.Key]float64, error), prompt, fed []int32) string {
	if o.Profile != ProfileCalibrated || o.Floor != nil {
		return ""
	}
	if measure == nil {
		return "no noise floor was measured; quant budgets used"
	}
	floor, err := measure(ctx, prompt, fed)
	if err != nil {
		return "noise floor not measured (" + err.Error() + "); quant budgets used"
	}
	o.Floor = floor
	return ""
}
