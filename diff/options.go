package diff

import (
	"errors"
	"fmt"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/layerwise/parity/probes"
)

// Align is the sample-parity policy: which token positions a pair of
// records is compared over. Whatever the policy, both sides are always
// compared over exactly the same positions; the policies differ only in
// what they accept when the two records cover different ones.
type Align int

const (
	// AlignAuto compares the positions both records cover and says so in
	// the pair's note when that is fewer than either covers. Restricting a
	// record needs its per-position statistics or its full tensor.
	AlignAuto Align = iota
	// AlignStrict refuses any pair whose records cover different positions.
	AlignStrict
	// AlignLast compares the step's last position only (the last prompt
	// token at step 0, the fed token at a decode step); both records must
	// cover it.
	AlignLast
	// AlignAll compares every position of the step; both records must
	// cover all of them.
	AlignAll
)

var alignNames = [...]string{AlignAuto: "auto", AlignStrict: "strict", AlignLast: "last", AlignAll: "all"}

func (a Align) String() string {
	if a >= 0 && int(a) < len(alignNames) {
		return alignNames[a]
	}
	return fmt.Sprintf("Align(%d)", int(a))
}

// ParseAlign parses "auto", "strict", "last" or "all".
func ParseAlign(s string) (Align, error) {
	for a, n := range alignNames {
		if s == n {
			return Align(a), nil
		}
	}
	return 0, fmt.Errorf("diff: --align must be auto, strict, last or all, not %q", s)
}

// MarshalText writes String().
func (a Align) MarshalText() ([]byte, error) {
	if a < 0 || int(a) >= len(alignNames) {
		return nil, fmt.Errorf("diff: invalid align %d", int(a))
	}
	return []byte(a.String()), nil
}

// UnmarshalText reads what ParseAlign accepts.
func (a *Align) UnmarshalText(b []byte) error {
	v, err := ParseAlign(string(b))
	*a = v
	return err
}

// Profile is a tolerance profile: the NMSE budget of every slot. The
// budgets and the measurements behind them are in the package doc.
type Profile int

const (
	// ProfileQuant (the default) holds budgets for comparing an engine
	// with f32 activations against one that quantizes activations (the
	// GGUF engine's Q8_K/Q8_0 path), calibrated against the measured
	// difference between the two.
	ProfileQuant Profile = iota
	// ProfileExact holds 1e-8 everywhere: for two engines that both
	// compute in f32 from the same weights and should agree to rounding.
	ProfileExact
	// ProfileCalibrated judges every record against the noise floor
	// measured for it on this model and these tokens (Options.Floor: the
	// NMSE activation quantization alone causes there): budget =
	// max(1e-10, CalibratedFactor × floor). Records without a
	// measured floor fall back to ProfileQuant's budget.
	ProfileCalibrated
)

// CalibratedFactor is how far above its measured noise floor a record may
// sit and still PASS under ProfileCalibrated. Two correct engines, one
// quantizing activations and one not, differ by the floor itself (ratio
// ≈ 1: everything else they do agrees to ~1e-13), so 4× leaves room for
// a second source of rounding while a planted fault (10× to 10⁴× the
// floor) fails.
const CalibratedFactor = 4

// calibratedMin is the calibrated budget where the measured floor is zero
// (f32 weights: nothing is quantized). Two f32 engines that differ only in
// summation order and libm stay near 1e-13 there (the APR and GGUF engines
// reach 6.6e-13 on the shared f32 models), so 1e-10 leaves three decades
// and still sees an f16 rounding anywhere (≈1e-7).
const calibratedMin = 1e-10

var profileNames = [...]string{ProfileQuant: "quant", ProfileExact: "exact", ProfileCalibrated: "calibrated"}

func (p Profile) String() string {
	if p >= 0 && int(p) < len(profileNames) {
		return profileNames[p]
	}
	return fmt.Sprintf("Profile(%d)", int(p))
}

// ParseProfile parses "quant" or "exact".
func ParseProfile(s string) (Profile, error) {
	for p, n := range profileNames {
		if s == n {
			return Profile(p), nil
		}
	}
	return 0, fmt.Errorf("diff: --profile must be quant, exact or calibrated, not %q", s)
}

// MarshalText writes String().
func (p Profile) MarshalText() ([]byte, error) {
	if p < 0 || int(p) >= len(profileNames) {
		return nil, fmt.Errorf("diff: invalid profile %d", int(p))
	}
	return []byte(p.String()), nil
}

// UnmarshalText reads what ParseProfile accepts.
func (p *Profile) UnmarshalText(b []byte) error {
	v, err := ParseProfile(string(b))
	*p = v
	return err
}

// WarnFactor sets the WARN band: a pair whose NMSE exceeds its budget by
// at most this factor is WARN, beyond it FAIL. One decade leaves room for
// a model whose noise floor sits above the calibration models' without
// letting a real fault (the fault zoo's NMSE is 1e-2 and up) pass as noise.
const WarnFactor = 10

// exactBudget is ProfileExact's NMSE budget: two f32 engines that differ
// only in summation order stay near 1e-12; 1e-8 leaves four decades for
// long reductions and still catches any real difference.
const exactBudget = 1e-8

// Budgets of ProfileQuant by slot family; the package doc gives the
// measured floor behind each (budget ≈ 3× the worst NMSE measured between
// the APR and GGUF engines on the shared quantized models, rounded up).
const (
	budgetEmbed    = 1e-6 // measured 0: both engines dequantize the same row
	budgetStream   = 5e-3 // norms and the residual stream; worst 1.04e-3
	budgetAttnIn   = 5e-3 // q, k, v and their norms and RoPE; worst 1.15e-3
	budgetFFNIn    = 3e-3 // gate, up, silu(gate), router; worst 7.4e-4
	budgetProducts = 1e-2 // attention context, swiglu and the projections over them; worst 2.1e-3
	budgetLogits   = 5e-3 // worst 1.16e-3
)

// quantBudgets are ProfileQuant's NMSE budgets per slot. Discrete slots
// (expert ids) must match exactly in every profile.
var quantBudgets = map[probes.Slot]float64{
	probes.Embed:        budgetEmbed,
	probes.AttnNorm:     budgetStream,
	probes.Q:            budgetAttnIn,
	probes.K:            budgetAttnIn,
	probes.V:            budgetAttnIn,
	probes.QNorm:        budgetAttnIn,
	probes.KNorm:        budgetAttnIn,
	probes.QRope:        budgetAttnIn,
	probes.KRope:        budgetAttnIn,
	probes.AttnCtx:      budgetProducts,
	probes.AttnOut:      budgetProducts,
	probes.AttnResid:    budgetStream,
	probes.FFNNorm:      budgetStream,
	probes.RouterLogits: budgetFFNIn,
	probes.ExpertIDs:    0,
	probes.FFNGate:      budgetFFNIn,
	probes.FFNUp:        budgetFFNIn,
	probes.FFNAct:       budgetFFNIn,
	probes.FFNSwiGLU:    budgetProducts,
	probes.FFNOut:       budgetProducts,
	probes.MoEOut:       budgetProducts,
	probes.Out:          budgetStream,
	probes.FinalNorm:    budgetStream,
	probes.Logits:       budgetLogits,
}

// Threshold is the budget one slot is judged by: PASS when the pair's
// NMSE is at most NMSE, WARN up to WarnFactor·NMSE, FAIL beyond.
type Threshold struct {
	Slot   probes.Slot `json:"slot"`
	NMSE   Float       `json:"nmse"`
	Source string      `json:"source"` // "exact", "quant", or the --threshold that set it
}

// Warn returns the upper end of the WARN band.
func (t Threshold) Warn() float64 { return WarnFactor * float64(t.NMSE) }

// Override is one --threshold SLOTS=VALUE: the NMSE budget for every slot
// whose canonical name matches the glob Pattern (path.Match syntax).
type Override struct {
	Pattern string
	NMSE    float64
}

func (o Override) String() string {
	return o.Pattern + "=" + strconv.FormatFloat(o.NMSE, 'g', -1, 64)
}

// ParseOverride parses "SLOTS=VALUE", e.g. "ffn_*=1e-3" or "logits=0.01".
// The glob must name at least one slot and the value must be a finite
// number ≥ 0 (0 demands bit-equal tensors).
func ParseOverride(s string) (Override, error) {
	pat, val, ok := strings.Cut(s, "=")
	pat, val = strings.TrimSpace(pat), strings.TrimSpace(val)
	if !ok || pat == "" || val == "" {
		return Override{}, fmt.Errorf("diff: --threshold %q: want SLOT=NMSE, e.g. ffn_*=1e-3", s)
	}
	v, err := strconv.ParseFloat(val, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
		return Override{}, fmt.Errorf("diff: --threshold %q: %q is not a finite NMSE ≥ 0", s, val)
	}
	if _, err := path.Match(pat, ""); err != nil {
		return Override{}, fmt.Errorf("diff: --threshold %q: bad glob: %w", s, err)
	}
	o := Override{Pattern: pat, NMSE: v}
	if len(o.slots()) == 0 {
		return Override{}, fmt.Errorf("diff: --threshold %q: %q matches no slot", s, pat)
	}
	return o, nil
}

func (o Override) slots() []probes.Slot {
	var out []probes.Slot
	for _, s := range probes.Slots() {
		if ok, _ := path.Match(o.Pattern, s.String()); ok {
			out = append(out, s)
		}
	}
	return out
}

// Thresholds returns the budget of every catalog slot, in execution order:
// the profile's, then each override applied in order (a later one wins
// where globs overlap).
func Thresholds(p Profile, overrides []Override) ([]Threshold, error) {
	if p < 0 || int(p) >= len(profileNames) {
		return nil, fmt.Errorf("diff: invalid profile %d", int(p))
	}
	slots := probes.Slots()
	out := make([]Threshold, len(slots))
	at := make(map[probes.Slot]int, len(slots))
	for i, s := range slots {
		b := quantBudgets[s]
		if p == ProfileExact {
			b = exactBudget
		}
		if info, _ := s.Info(); info.Discrete {
			b = 0
		}
		out[i] = Threshold{Slot: s, NMSE: Float(b), Source: p.String()}
		at[s] = i
	}
	for _, o := range overrides {
		if math.IsNaN(o.NMSE) || math.IsInf(o.NMSE, 0) || o.NMSE < 0 {
			return nil, errors.New("diff: threshold " + o.String() + " is not a finite NMSE ≥ 0")
		}
		ss := o.slots()
		if len(ss) == 0 {
			return nil, fmt.Errorf("diff: threshold %s matches no slot", o)
		}
		for _, s := range ss {
			out[at[s]] = Threshold{Slot: s, NMSE: Float(o.NMSE), Source: "--threshold " + o.String()}
		}
	}
	return out, nil
}

// Options configure Diff. The zero value is the default: align auto,
// profile quant, no overrides.
type Options struct {
	Align     Align
	Profile   Profile
	Overrides []Override
	// Floor is the measured noise floor per record (runtimes.NoiseFloor),
	// used by ProfileCalibrated.
	Floor map[probes.Key]float64
}

// budgetFor returns the threshold record k is judged by: a --threshold
// override of its slot if any, else the calibrated budget from its
// measured floor, else the profile's budget for the slot.
func budgetFor(k probes.Key, o *Options, perSlot map[probes.Slot]Threshold) Threshold {
	th := perSlot[k.Slot]
	if o.Profile != ProfileCalibrated || strings.HasPrefix(th.Source, "--threshold") {
		return th
	}
	floor, ok := o.Floor[k]
	if !ok || math.IsNaN(floor) || math.IsInf(floor, 0) {
		th.Source = "quant (no floor measured)"
		return th
	}
	b := max(calibratedMin, CalibratedFactor*floor)
	if info, _ := k.Slot.Info(); info.Discrete {
		b = 0
	}
	return Threshold{Slot: k.Slot, NMSE: Float(b), Source: fmt.Sprintf("calibrated: floor %.2g ×%d", floor, CalibratedFactor)}
}
