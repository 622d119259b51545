package probes

import (
	"errors"
	"fmt"
	"math"

	"github.com/layerwise/parity/stats"
)

// ErrInvalid is wrapped by every Validate error.
var ErrInvalid = errors.New("probes: invalid trace")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalid}, args...)...)
}

// Validate checks the header and every record (see Record.Validate), and
// that no two records share a key. WriteFile refuses a trace that fails it
// and ReadFile applies it to every file it reads.
func (t *Trace) Validate() error {
	if err := t.Header.Validate(); err != nil {
		return err
	}
	seen := make(map[Key]bool, len(t.Records))
	for i := range t.Records {
		r := &t.Records[i]
		if err := r.Validate(&t.Header); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		if seen[r.Key()] {
			return invalid("record %d: duplicate %v", i, r.Key())
		}
		seen[r.Key()] = true
	}
	return nil
}

// Validate checks the header: at least one token, 1 ≤ PromptLen ≤
// len(Tokens), TokensSHA256 = TokenHash(Tokens), non-negative model size
// and dims, a valid policy.
func (h *Header) Validate() error {
	if len(h.Tokens) == 0 {
		return invalid("no tokens")
	}
	if h.PromptLen < 1 || h.PromptLen > len(h.Tokens) {
		return invalid("prompt_len %d outside [1, %d]", h.PromptLen, len(h.Tokens))
	}
	if len(h.Tokens) > MaxIndex {
		return invalid("%d tokens exceed %d", len(h.Tokens), MaxIndex)
	}
	if got := TokenHash(h.Tokens); h.TokensSHA256 != got {
		return invalid("tokens_sha256 %q does not match the tokens (%s)", h.TokensSHA256, got)
	}
	d := h.Model.Dims
	if h.Model.Size < 0 || min(d.Embd, d.Layers, d.Heads, d.KVHeads, d.HeadDim, d.FF, d.Vocab, d.Experts, d.ExpertsUsed) < 0 {
		return invalid("negative model size or dims")
	}
	if err := h.Policy.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return nil
}

// MaxPerToken bounds Record.PerToken (2^28 elements, 1 GiB of float32 per
// position); a vocabulary or FFN width is orders of magnitude smaller.
const MaxPerToken = 1 << 28

// Validate checks a record against its trace's header:
//
//   - a catalog slot; Layer −1 exactly for global slots, else in
//     [0, n_layer) (when n_layer is known) and below MaxIndex;
//   - 0 ≤ Step ≤ len(Tokens) − PromptLen (a step feeds one token);
//   - 1 ≤ PerToken ≤ MaxPerToken, and equal to the slot's size for the
//     header's dims when those are known;
//   - distinct Positions, each indexing a token, and none fed after the
//     record's step (position p ≥ PromptLen is fed at step p−PromptLen+1);
//   - Count = len(Positions)·PerToken;
//   - complete records: valid Stats over Count elements; PerPos empty or
//     one valid summary of PerToken elements per position whose ordered
//     merge equals Stats bit for bit; no Sum or Known;
//   - partial records: zero Stats, no PerPos, Known indices strictly
//     increasing in [0, Count);
//   - len(Head) ≤ Count; Full nil or Count long, and Head a prefix of it.
func (r *Record) Validate(h *Header) error {
	k := r.Key()
	info, ok := r.Slot.Info()
	if !ok {
		return invalid("unknown slot %d", r.Slot)
	}
	if info.Scope == Global && r.Layer != -1 || info.Scope == PerLayer && r.Layer < 0 {
		return invalid("%v: layer %d for a %s slot", k, r.Layer, map[Scope]string{Global: "global", PerLayer: "per-layer"}[info.Scope])
	}
	if n := h.Model.Dims.Layers; n > 0 && r.Layer >= n || r.Layer >= MaxIndex {
		return invalid("%v: layer beyond n_layer %d", k, n)
	}
	if r.Step < 0 || r.Step > len(h.Tokens)-h.PromptLen {
		return invalid("%v: step outside [0, %d]", k, len(h.Tokens)-h.PromptLen)
	}
	if r.PerToken < 1 || r.PerToken > MaxPerToken {
		return invalid("%v: per_token %d outside [1, %d]", k, r.PerToken, MaxPerToken)
	}
	if want := info.Size.Of(h.Model.Dims); want > 0 && r.PerToken != want {
		return invalid("%v: per_token %d, but %s = %d for the model", k, r.PerToken, info.Size, want)
	}
	if len(r.Positions) == 0 {
		return invalid("%v: no positions", k)
	}
	lastPos := h.PromptLen - 1 + r.Step
	seen := make(map[int]bool, len(r.Positions))
	for _, p := range r.Positions {
		if p < 0 || p > lastPos || seen[p] {
			return invalid("%v: position %d repeated or outside [0, %d]", k, p, lastPos)
		}
		seen[p] = true
	}
	if r.Count != int64(len(r.Positions))*int64(r.PerToken) {
		return invalid("%v: count %d ≠ %d positions × %d", k, r.Count, len(r.Positions), r.PerToken)
	}
	if r.Partial {
		if err := r.validatePartial(); err != nil {
			return err
		}
	} else if err := r.validateStats(); err != nil {
		return err
	}
	if int64(len(r.Head)) > r.Count {
		return invalid("%v: %d head values for %d elements", k, len(r.Head), r.Count)
	}
	if r.Full != nil {
		if int64(len(r.Full)) != r.Count {
			return invalid("%v: full tensor has %d values, want %d", k, len(r.Full), r.Count)
		}
		for i, v := range r.Head {
			if math.Float32bits(v) != math.Float32bits(r.Full[i]) {
				return invalid("%v: head value %d differs from the full tensor", k, i)
			}
		}
	}
	return nil
}

func (r *Record) validateStats() error {
	k := r.Key()
	if r.Sum != nil || r.Known != nil {
		return invalid("%v: sum or known values on a complete record", k)
	}
	if err := r.Stats.Validate(); err != nil {
		return invalid("%v: stats: %v", k, err)
	}
	if r.Stats.Count != r.Count {
		return invalid("%v: stats count %d ≠ count %d", k, r.Stats.Count, r.Count)
	}
	if len(r.PerPos) == 0 {
		return nil
	}
	if len(r.PerPos) != len(r.Positions) {
		return invalid("%v: %d per-position summaries for %d positions", k, len(r.PerPos), len(r.Positions))
	}
	for i, s := range r.PerPos {
		if err := s.Validate(); err != nil {
			return invalid("%v: per_pos %d: %v", k, i, err)
		}
		if s.Count != int64(r.PerToken) {
			return invalid("%v: per_pos %d covers %d elements, want %d", k, i, s.Count, r.PerToken)
		}
	}
	if stats.MergeAll(r.PerPos) != r.Stats {
		return invalid("%v: stats are not the ordered merge of per_pos", k)
	}
	return nil
}

func (r *Record) validatePartial() error {
	k := r.Key()
	if r.Stats != (stats.Summary{}) || len(r.PerPos) != 0 {
		return invalid("%v: partial record with stats or per_pos", k)
	}
	for i, kv := range r.Known {
		if kv.Index < 0 || kv.Index >= r.Count || i > 0 && kv.Index <= r.Known[i-1].Index {
			return invalid("%v: known index %d not increasing in [0, %d)", k, kv.Index, r.Count)
		}
	}
	return nil
}
