package reports

import (
	"fmt"
	"math"
	"time"

	"github.com/layerwise/parity/diff"
	"github.com/layerwise/parity/probes"
)

// The fixed results the golden files are rendered from: a four-layer
// qwen2-shaped comparison in which a RoPE fault at layer 2 makes q_rope,
// k_rope and what attention computes from them FAIL, everything after
// them inherit a WARN-sized drift, one pair of layer 1 is REFUSED (the
// traces kept different positions), and one is judged on summaries only.
// The numbers are made up but shaped like a real bisection's.

var fixtureSlots = []probes.Slot{probes.AttnNorm, probes.Q, probes.K, probes.V, probes.QRope, probes.KRope,
	probes.AttnCtx, probes.AttnOut, probes.AttnResid, probes.FFNNorm, probes.FFNGate, probes.FFNUp,
	probes.FFNAct, probes.FFNSwiGLU, probes.FFNOut, probes.Out}

const fixtureLayers = 4

// fixtureNMSE is the made-up NMSE of a pair: a floor growing with depth,
// the fault from layer 2 q_rope on.
func fixtureNMSE(layer, slot int) float64 {
	v := 2e-5
	for range layer {
		v *= 3
	}
	v *= 1 + float64(slot)/8
	s := fixtureSlots[slot]
	switch {
	case layer == 2 && (s == probes.QRope || s == probes.KRope):
		v = 0.342 + 0.07*float64(slot-4)
	case layer == 2 && (s == probes.AttnCtx || s == probes.AttnOut):
		v = 0.0124 - 0.0003*float64(slot-6)
	case layer >= 2 && slot > 7 || layer == 3:
		v = 2.3e-3 + 1e-4*float64(slot)
	}
	return v
}

func judge(nmse, budget float64) diff.Verdict {
	switch {
	case nmse <= budget:
		return diff.Pass
	case nmse <= diff.WarnFactor*budget:
		return diff.Warn
	}
	return diff.Fail
}

func fullMetrics(nmse, budget float64, slot probes.Slot, stdA float64) *diff.Metrics {
	stdB := stdA * (1 + nmse/4)
	return &diff.Metrics{Positions: "0-10", N: 2816, Evidence: diff.EvidenceFull,
		Threshold: diff.Threshold{Slot: slot, NMSE: diff.Float(budget), Source: "quant"},
		Stats: &diff.StatsMetrics{A: diff.Moments{Mean: 0.01, Std: diff.Float(stdA), Min: -4, Max: 4},
			B:        diff.Moments{Mean: 0.01, Std: diff.Float(stdB), Min: -4, Max: 4},
			StdRatio: diff.Float(stdB / stdA), NMSEBound: diff.Float(nmse / 50)},
		Tensor: &diff.TensorMetrics{NMSE: diff.Float(nmse), NMSEVar: diff.Float(nmse), Cosine: diff.Float(1 - nmse/2),
			SQNR: diff.Float(-10 * log10(nmse)), MaxAbsDiff: diff.Float(40 * nmse), MaxAbsPos: 3, MaxAbsElem: 17, RelDiff: diff.Float(nmse)}}
}

// log10 roughly, by repeated multiplication, keeps the fixture free of
// platform math; 0 gives −Inf.
func log10(v float64) float64 {
	if v <= 0 {
		return math.Inf(-1)
	}
	n := 0.0
	for v < 1 {
		v *= 10
		n--
	}
	return n + (v-1)/9
}

// fixtureResult returns the comparison; with refused, one pair of layer 1
// is REFUSED, which makes the whole result REFUSED.
func fixtureResult(refused bool) *diff.Result {
	model := func(path, sha string) probes.Model {
		return probes.Model{Path: path, Size: 1 << 20, SHA256: sha, Arch: "qwen2",
			Dims: probes.Dims{Embd: 256, Layers: fixtureLayers, Heads: 4, KVHeads: 2, HeadDim: 64, FF: 512, Vocab: 320}}
	}
	tokens := []int32{1, 3923, 374, 220, 17, 10, 17, 30, 2, 5, 9}
	side := func(engine string, m probes.Model) diff.Side {
		return diff.Side{Runtime: "parity test", Engine: engine, EngineOptions: map[string]string{"threads": "2", "kv_type": "f32"},
			Model: m, Tokens: tokens, PromptLen: len(tokens), TokensSHA256: probes.TokenHash(tokens),
			Records: 67, Policy: probes.Policy{Mode: probes.ModeFull, Head: 8}}
	}
	r := &diff.Result{Format: diff.ResultFormat, Version: diff.ResultVersion,
		A:     side("apr", model("models/m.apr", "5ca6f9478118aa0b7c1e0f1d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f7")),
		B:     side("gguf", model("models/m.gguf", "6d0eb0beb27c11223344556677889900aabbccddeeff00112233445566778899")),
		Align: diff.AlignAuto, Profile: diff.ProfileQuant, WarnFactor: diff.WarnFactor,
		Tokens: diff.TokenCheck{Match: true, Steps: 0},
		Notes:  []string{"the model files differ: A sha256 5ca6f9478118…, B 6d0eb0beb27c…"},
		Pairs:  []diff.Pair{}}
	ths, err := diff.Thresholds(diff.ProfileQuant, nil)
	if err != nil {
		panic(err)
	}
	r.Thresholds = ths
	budget := map[probes.Slot]float64{}
	for _, t := range ths {
		budget[t.Slot] = float64(t.NMSE)
	}
	add := func(layer int, slot probes.Slot, nmse float64) *diff.Pair {
		b := budget[slot]
		p := diff.Pair{Layer: layer, Slot: slot, PositionsA: "0-10", PositionsB: "0-10", CountA: 2816, CountB: 2816,
			Metrics: fullMetrics(nmse, b, slot, 1+0.3*float64(max(layer, 0)))}
		p.Verdict = judge(nmse, b)
		switch p.Verdict {
		case diff.Warn:
			p.Reason = "NMSE " + num(diff.Float(nmse), 'g', 3) + " > budget " + num(diff.Float(b), 'g', 3)
		case diff.Fail:
			p.Reason = "NMSE " + num(diff.Float(nmse), 'g', 3) + " > WARN limit " + num(diff.Float(diff.WarnFactor*b), 'g', 3) + " (budget " + num(diff.Float(b), 'g', 3) + ")"
		}
		r.Pairs = append(r.Pairs, p)
		return &r.Pairs[len(r.Pairs)-1]
	}
	add(-1, probes.Embed, 0)
	for l := range fixtureLayers {
		for i, s := range fixtureSlots {
			p := add(l, s, fixtureNMSE(l, i))
			switch {
			case refused && l == 1 && s == probes.FFNUp:
				*p = diff.Pair{Layer: 1, Slot: s, Verdict: diff.Refused,
					Reason: "A covered positions 0-10, B covered 10, and B's record has neither per-position statistics nor a full tensor",
					Fix:    "trace B with --positions all (or both with --positions last)", PositionsA: "0-10", PositionsB: "10", CountA: 5632, CountB: 512}
			case l == 1 && s == probes.FFNGate:
				p.Metrics.Tensor, p.Metrics.Evidence, p.Metrics.Weak = nil, diff.EvidenceStats, true
			case l == 0 && s == probes.FFNOut:
				p.Note = "A covered 0-10, B covered 0-10; compared positions 0-10 of step 0"
			}
		}
	}
	add(-1, probes.FinalNorm, 2.4e-3)
	logits := add(-1, probes.Logits, 3.2e-3)
	logits.Metrics.Logits = []diff.LogitMetrics{{Position: 10, KL: 1.5e-3, Top1A: 17, Top1B: 17, Top5: 5}}
	for i := range r.Pairs {
		p := &r.Pairs[i]
		switch p.Verdict {
		case diff.Pass:
			r.Counts.Pass++
		case diff.Warn:
			r.Counts.Warn++
		case diff.Fail:
			r.Counts.Fail++
			if r.First == nil {
				r.First = &diff.Divergence{Index: i, Step: p.Step, Layer: p.Layer, Slot: p.Slot}
			}
		case diff.Refused:
			r.Counts.Refused++
		}
		if p.Metrics != nil && p.Metrics.Weak {
			r.Counts.Weak++
		}
		r.Verdict = r.Verdict.Worse(p.Verdict)
	}
	for i := range r.Pairs {
		if p := &r.Pairs[i]; p.Verdict == diff.Refused {
			r.Reason = fmt.Sprintf("%d of %d pairs refused; the first, %v: %s", r.Counts.Refused, len(r.Pairs), p.Key(), p.Reason)
			return r
		}
	}
	f := &r.Pairs[r.First.Index]
	r.Reason = fmt.Sprintf("first divergence at %v: %s", f.Key(), f.Reason)
	return r
}

func fixtureBisection() *diff.Bisection {
	r := fixtureResult(false)
	at := &diff.Attribution{CulpritLayer: 2}
	for l := range fixtureLayers {
		a := diff.Added{Layer: l, Slot: probes.FFNOut, NMSE: diff.Float(3e-5 * float64(l+1)), MaxAbs: 0.02,
			Threshold: diff.Threshold{Slot: probes.FFNOut, NMSE: 1e-2, Source: "quant"}, Verdict: diff.Pass}
		if l == 2 {
			a.Slot, a.NMSE, a.MaxAbs, a.Threshold, a.Verdict = probes.QRope, 0.341, 5.93, diff.Threshold{Slot: probes.QRope, NMSE: 5e-3, Source: "quant"}, diff.Fail
		}
		at.Layers = append(at.Layers, a)
	}
	for i, s := range fixtureSlots {
		a := diff.Added{Layer: 2, Slot: s, NMSE: diff.Float(3e-15 * float64(i+1)), MaxAbs: 2.4e-7,
			Threshold: diff.Threshold{Slot: s, NMSE: 5e-3, Source: "quant"}, Verdict: diff.Pass}
		if s == probes.QRope || s == probes.KRope {
			a.NMSE, a.MaxAbs, a.Verdict = diff.Float(0.341+0.075*float64(i-4)), 5.93, diff.Fail
		}
		at.Ops = append(at.Ops, a)
	}
	at.Culprit = &probes.Key{Layer: 2, Slot: probes.QRope}
	nA, nB := diff.Float(2e-4), diff.Float(0.35)
	return &diff.Bisection{Result: r, Attribution: at, Reference: &diff.ThreeWay{
		Key: probes.Key{Layer: 2, Slot: probes.QRope}, Engine: "llamacpp", AVerdict: diff.Pass, ANMSE: &nA, BVerdict: diff.Fail, BNMSE: &nB,
		Statement: "A agrees with llamacpp and B does not: B diverges from llamacpp",
		Note:      "llamacpp does not hold step 0 layer 2 q_rope; compared at step 0 layer 2 k_rope, the next tensor both runs can be judged at"}}
}

var fixtureMeta = Meta{Tool: "parity test", Command: []string{"parity", "bisect", "--a", "models/m.apr", "--b", "models/m.gguf",
	"--prompt", "What is 2+2?", "--b-fault", "rope-style@2", "--profile", "quant"}}

// fixtureDiffMeta carries a creation time, so the golden files cover it.
var fixtureDiffMeta = Meta{Tool: "parity test", Command: []string{"parity", "diff", "a.trace.jsonl.zst", "b.trace.jsonl.zst"},
	Created: time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)}
