package faults

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/layerwise/parity/probes"
)

// Kind is a class of bug.
type Kind string

// Engine faults, applied while computing.
const (
	RopeStyle   Kind = "rope-style"    // NORM and NEOX pairing swapped
	SkipQKVBias Kind = "skip-qkv-bias" // q/k/v biases not added (qwen2)
	RMSEps      Kind = "rms-eps"       // attention RMSNorm with a wrong epsilon
	SkipQKNorm  Kind = "skip-qk-norm"  // per-head q/k RMSNorm skipped (qwen3)
	GELU        Kind = "gelu"          // FFN activation GELU instead of SiLU
	AttnScale   Kind = "attn-scale"    // softmax scale 1/hd instead of 1/√hd
	GQAMap      Kind = "gqa-map"       // query head h reads KV head h mod n_kv instead of h/group

	// Decode-path faults: the KV cache or single-token steps go wrong.
	DecodeRopePos Kind = "decode-rope-pos" // RoPE position off by one during decode
	StaleKV       Kind = "stale-kv"        // the new key/value row overwrites the previous one
	SwapKV        Kind = "swap-kv"         // K and V swapped when written to the cache
	KVF16         Kind = "kv-f16"          // K/V rounded to f16 on this side only
)

// File faults, written into the model by runtimes/fixtures.
const (
	CorruptRows     Kind = "corrupt-rows"      // a few rows of attn_q replaced by noise
	Transpose       Kind = "transpose"         // attn_output stored transposed
	CorruptEmbedRow Kind = "corrupt-embed-row" // one row of token_embd replaced by noise
)

// SampleSize is the seed's artifact: one side records every prompt
// position, the other only the last. It is a recording fault, applied by
// the capture policy, and must be reconciled or refused, never reported as
// a divergence.
const SampleSize Kind = "sample-size"

type info struct {
	expect probes.Slot // where the fault first shows
	decode bool        // shows only at decode steps
	needs  string      // what it needs: "bias", "qknorm", "gqa", or "file" (written into the model, not run)
	doc    string
}

var kinds = map[Kind]info{
	RopeStyle:       {probes.QRope, false, "", "RoPE pairs adjacent elements where it should pair halves, or the reverse"},
	SkipQKVBias:     {probes.Q, false, "bias", "the q/k/v projection biases are not added"},
	RMSEps:          {probes.AttnNorm, false, "", "the attention RMSNorm uses epsilon 1 (WrongEps)"},
	SkipQKNorm:      {probes.QNorm, false, "qknorm", "the per-head q/k RMSNorm is skipped"},
	GELU:            {probes.FFNAct, false, "", "the FFN uses GELU (tanh approximation) instead of SiLU"},
	AttnScale:       {probes.AttnCtx, false, "", "attention scores are scaled by 1/head_dim instead of 1/sqrt(head_dim)"},
	GQAMap:          {probes.AttnCtx, false, "gqa", "query head h reads KV head h mod n_head_kv instead of h/(n_head/n_head_kv)"},
	DecodeRopePos:   {probes.QRope, true, "", "single-token steps rotate q and k for position p+1"},
	StaleKV:         {probes.AttnCtx, true, "", "a decode step writes its key and value over the previous position's row"},
	SwapKV:          {probes.AttnCtx, true, "", "decode steps store K in the V cache and V in the K cache"},
	KVF16:           {probes.AttnCtx, false, "", "K and V are rounded to f16 when stored, on this side only (shows from the prompt step on)"},
	CorruptRows:     {probes.Q, false, "file", "rows of attn_q are replaced by noise in the file"},
	Transpose:       {probes.AttnOut, false, "file", "attn_output is stored transposed in the file"},
	CorruptEmbedRow: {probes.Embed, false, "file", "one token's row of token_embd is replaced by noise in the file; only prompts holding that token see it"},
	SampleSize:      {0, false, "", "one side records all prompt positions, the other only the last"},
}

// Kinds lists every fault kind, sorted.
func Kinds() []Kind {
	out := make([]Kind, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Expect is the slot where the fault first shows (0 for SampleSize).
func (k Kind) Expect() probes.Slot { return kinds[k].expect }

// Decode reports whether the fault shows only at decode steps.
func (k Kind) Decode() bool { return kinds[k].decode }

// Describe says what the fault does.
func (k Kind) Describe() string { return kinds[k].doc }

// File reports whether the fault is written into the model file by
// runtimes/fixtures rather than applied by an engine.
func (k Kind) File() bool { return kinds[k].needs == "file" }

// Applies reports whether the fault means anything to an engine running a
// model with these features: biases only exist on qwen2, the QK-norm only
// on qwen3, and a wrong GQA mapping only shows when several query heads
// share a KV head and there is more than one KV head. File faults never
// apply to an engine: they are in the weights it is given.
func (k Kind) Applies(qkvBias, qkNorm bool, nHead, nHeadKV int) bool {
	switch kinds[k].needs {
	case "file":
		return false
	case "bias":
		return qkvBias
	case "qknorm":
		return qkNorm
	case "gqa":
		return nHeadKV > 1 && nHead > nHeadKV
	}
	return true
}

// WrongEps is the epsilon the RMSEps fault puts in the attention RMSNorm.
// It is large on purpose: with activations of rms ≈ 1 it shrinks the norm's
// output by ~30%, well above any quantization noise floor, so the fault
// zoo tests localization rather than the limit of detection.
const WrongEps = 1.0

// Fault is one planted bug: a kind at a layer (all layers when Layer < 0).
type Fault struct {
	Kind  Kind
	Layer int
}

func (f Fault) String() string { return fmt.Sprintf("%s@%d", f.Kind, f.Layer) }

// Parse reads "kind@layer", e.g. "rope-style@1".
func Parse(s string) (Fault, error) {
	name, layer, ok := strings.Cut(s, "@")
	k := Kind(name)
	if _, known := kinds[k]; !known {
		return Fault{}, fmt.Errorf("faults: unknown fault %q (known: %v)", name, Kinds())
	}
	if !ok {
		return Fault{}, fmt.Errorf("faults: %q needs a layer, e.g. %s@0", s, name)
	}
	l, err := strconv.Atoi(layer)
	if err != nil || l < 0 {
		return Fault{}, fmt.Errorf("faults: bad layer %q in %q", layer, s)
	}
	return Fault{k, l}, nil
}

// Set is the faults an engine applies. The zero Set is clean.
type Set []Fault

// At reports whether fault kind k applies at layer l.
func (s Set) At(k Kind, l int) bool {
	for _, f := range s {
		if f.Kind == k && (f.Layer < 0 || f.Layer == l) {
			return true
		}
	}
	return false
}
