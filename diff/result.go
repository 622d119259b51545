package diff

import (
	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/stats"
)

// ResultFormat and ResultVersion identify the JSON form of a Result. Fields
// may be added within a version; renaming or removing one, or changing its
// meaning, bumps the version.
const (
	ResultFormat  = "parity-diff"
	ResultVersion = 1
)

// Result is everything a comparison of two traces found, in the form every
// renderer reads. A is the reference: ratios are B/A, shifts are in units
// of A's std, NMSE is normalised by A.
type Result struct {
	Format  string `json:"format"`
	Version int    `json:"version"`

	A Side `json:"a"`
	B Side `json:"b"`

	Align      Align       `json:"align"`
	Profile    Profile     `json:"profile"`
	Thresholds []Threshold `json:"thresholds"` // every slot's budget, execution order
	WarnFactor float64     `json:"warn_factor"`

	Tokens TokenCheck `json:"tokens"`

	// Notes say what was left out or reconciled at the trace level (steps
	// only one side ran, records only one side has, different models).
	Notes []string `json:"notes,omitempty"`

	// Pairs are the aligned records, in execution order. Records that only
	// one trace has are counted in OnlyA and OnlyB, not paired.
	Pairs []Pair `json:"pairs"`
	OnlyA int    `json:"only_a,omitempty"`
	OnlyB int    `json:"only_b,omitempty"`

	// First is the first FAIL in execution order, nil if none failed.
	First *Divergence `json:"first_divergence,omitempty"`

	// Verdict is the worst pair verdict (REFUSED outranks FAIL), or
	// REFUSED with Reason when the traces could not be paired at all.
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason,omitempty"`
	Fix     string  `json:"fix,omitempty"`
	Counts  Counts  `json:"counts"`

	// Decode reorganises the pairs step by step when both traces ran
	// decode steps fed alike: per-step logits agreement, the first step
	// whose argmax differs, the divergence rate. Nil otherwise.
	Decode *Decode `json:"decode,omitempty"`
}

// Side describes one trace.
type Side struct {
	File          string            `json:"file,omitempty"` // set by the caller; Diff does not know paths
	Runtime       string            `json:"runtime"`
	Engine        string            `json:"engine"`
	EngineOptions map[string]string `json:"engine_options,omitempty"`
	Model         probes.Model      `json:"model"`
	Tokens        []int32           `json:"tokens"`
	PromptLen     int               `json:"prompt_len"`
	TokensSHA256  string            `json:"tokens_sha256"`
	Steps         int               `json:"steps"` // decode steps after the prompt
	Records       int               `json:"records"`
	Policy        probes.Policy     `json:"policy"`
}

// TokenCheck is the first gate: both runs must have been fed the same ids.
type TokenCheck struct {
	// Match reports identical prompts (ids and length). Without it nothing
	// is compared.
	Match bool `json:"match"`

	// Steps is the last step both traces ran and were fed the same ids
	// for; steps 0..Steps are compared. −1 when the prompts differ.
	Steps int `json:"steps"`

	// Differ is the first position whose ids differ, nil if none does
	// among the positions both runs fed.
	Differ *TokenDiff `json:"differ,omitempty"`

	Reason string `json:"reason,omitempty"`
}

// TokenDiff is a position where the two runs were fed different ids.
type TokenDiff struct {
	Position int   `json:"position"`
	Step     int   `json:"step"` // the step that fed it: 0 for the prompt
	A        int32 `json:"a"`
	B        int32 `json:"b"`
}

// Divergence locates the first failing pair.
type Divergence struct {
	Index int         `json:"index"` // into Result.Pairs
	Step  int         `json:"step"`
	Layer int         `json:"layer"`
	Slot  probes.Slot `json:"slot"`
}

// Counts tallies pair verdicts; Weak counts pairs judged on summaries
// only.
type Counts struct {
	Pass    int `json:"pass"`
	Warn    int `json:"warn"`
	Fail    int `json:"fail"`
	Refused int `json:"refused"`
	Weak    int `json:"weak"`
}

// Pair is one aligned (step, layer, slot) and its judgement.
//
// Metrics is nil exactly when Verdict is REFUSED: a refused pair carries
// no number at all, because any number it could carry would have been
// computed over different samples. Only the sample-parity gate can produce
// the input metrics are computed from, so this holds by construction.
type Pair struct {
	Step  int         `json:"step"`
	Layer int         `json:"layer"`
	Slot  probes.Slot `json:"slot"`

	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason,omitempty"` // why the verdict is not PASS, or what a PASS rests on
	Fix     string  `json:"fix,omitempty"`    // REFUSED: what would make the pair comparable

	// What each record covered: positions (probes.FormatInts syntax) and
	// element counts, facts about the records rather than metrics.
	PositionsA string `json:"positions_a"`
	PositionsB string `json:"positions_b"`
	CountA     int64  `json:"count_a"`
	CountB     int64  `json:"count_b"`

	// Note says how the gate reconciled the two records, e.g. "A covered
	// 0-6, B covered 6; compared position 6". Empty when both covered
	// the compared positions exactly.
	Note string `json:"note,omitempty"`

	Metrics *Metrics `json:"metrics,omitempty"`
}

// Key returns the pair's key.
func (p *Pair) Key() probes.Key { return probes.Key{Step: p.Step, Layer: p.Layer, Slot: p.Slot} }

// Evidence says what a pair's metrics rest on.
type Evidence string

const (
	// EvidenceFull: both full tensors over the compared rows.
	EvidenceFull Evidence = "full"
	// EvidenceStats: per-position summaries only (weak evidence).
	EvidenceStats Evidence = "stats"
	// EvidencePartial: one side is a partial record (a few printed
	// elements and a sum), the other side's full tensor or summaries.
	EvidencePartial Evidence = "partial"
)

// Metrics is the ledger of a comparable pair.
type Metrics struct {
	Positions string   `json:"positions"` // compared, in probes.FormatInts syntax
	N         int64    `json:"n"`         // elements compared on each side
	Evidence  Evidence `json:"evidence"`

	// Weak marks a judgement on less than both full tensors. A weak PASS
	// says the data are consistent with the budget, not that the tensors
	// agree; a FAIL on summaries is still proof (see the package doc).
	Weak bool `json:"weak"`

	Threshold Threshold `json:"threshold"`

	Stats   *StatsMetrics   `json:"stats,omitempty"`   // both sides have summaries of the sample
	Tensor  *TensorMetrics  `json:"tensor,omitempty"`  // both sides have full tensors
	Logits  []LogitMetrics  `json:"logits,omitempty"`  // logits with full tensors: per position
	Partial *PartialMetrics `json:"partial,omitempty"` // a partial record is involved
}

// Moments summarise one side of the compared sample.
type Moments struct {
	Mean Float   `json:"mean"`
	Std  Float   `json:"std"` // population std of the finite elements
	Min  Float32 `json:"min"`
	Max  Float32 `json:"max"`
	NaN  int64   `json:"nan,omitempty"`
	Inf  int64   `json:"inf,omitempty"`
}

func moments(s stats.Summary) Moments {
	return Moments{Mean: Float(s.Mean), Std: Float(s.Std()), Min: Float32(s.Min), Max: Float32(s.Max), NaN: s.NaN, Inf: s.Inf}
}

// StatsMetrics compare the two sides' summaries over the same sample.
type StatsMetrics struct {
	A Moments `json:"a"`
	B Moments `json:"b"`

	StdRatio  Float `json:"std_ratio"`  // B.Std / A.Std (stats.StdRatio)
	MeanShift Float `json:"mean_shift"` // (B.Mean − A.Mean) / A.Std (stats.MeanShift)

	// NMSEBound is a lower bound on the NMSE that follows from the
	// per-position summaries alone: Σ_p n_p((Δmean_p)² + (Δstd_p)²) / Σ_p Σx²_A,p.
	// Any pair of tensors with these summaries has at least this NMSE.
	NMSEBound Float `json:"nmse_bound"`
}

// TensorMetrics are stats.Comparison over the compared rows, B against A,
// with the flat index of the largest difference translated back to its
// token position and element.
type TensorMetrics struct {
	NMSE       Float `json:"nmse"`
	NMSEVar    Float `json:"nmse_var"`
	Cosine     Float `json:"cosine"`
	SQNR       Float `json:"sqnr_db"`
	MaxAbsDiff Float `json:"max_abs_diff"`
	MaxAbsPos  int   `json:"max_abs_position"`
	MaxAbsElem int   `json:"max_abs_element"`
	RelDiff    Float `json:"rel_diff"`
}

// LogitMetrics compare the logits at one position (stats.CompareLogits
// with k = 5, B against A).
type LogitMetrics struct {
	Position int   `json:"position"`
	KL       Float `json:"kl"` // KL(softmax A ‖ softmax B), nats
	Top1A    int   `json:"top1_a"`
	Top1B    int   `json:"top1_b"`
	Top5     int   `json:"top5_overlap"` // |top5(A) ∩ top5(B)|
}

// PartialMetrics compare a partial record (what a runtime printed) with the
// other side.
type PartialMetrics struct {
	Side string `json:"side"` // "a" or "b": which side is partial

	// Known elements checked against the other side's full tensor: the
	// largest difference, where, and the tolerance it was held to.
	Known      int   `json:"known"`
	MaxAbsDiff Float `json:"max_abs_diff"`
	MaxAbsPos  int   `json:"max_abs_position"`
	MaxAbsElem int   `json:"max_abs_element"`
	Tolerance  Float `json:"tolerance"`

	// The mean from the partial record's Sum against the other side's
	// mean over the same positions, and the largest difference the budget
	// allows. Absent (HasSum false) when the record printed no sum.
	HasSum        bool  `json:"has_sum"`
	MeanPartial   Float `json:"mean_partial,omitempty"`
	MeanOther     Float `json:"mean_other,omitempty"`
	MeanTolerance Float `json:"mean_tolerance,omitempty"`
}

// Float is a float64 whose JSON form is the shortest round-tripping
// number, or "NaN", "+Inf", "-Inf" (stats.AppendFloat), since a metric such
// as SQNR is legitimately infinite and encoding/json rejects that.
type Float float64

// MarshalJSON implements json.Marshaler.
func (f Float) MarshalJSON() ([]byte, error) { return stats.AppendFloat(nil, float64(f), 64), nil }

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float) UnmarshalJSON(b []byte) error {
	v, err := stats.ParseFloat(b, 64)
	*f = Float(v)
	return err
}

// Float32 is a float32 (a tensor element, such as a minimum) in the same
// JSON form as Float, at float32 precision.
type Float32 float32

// MarshalJSON implements json.Marshaler.
func (f Float32) MarshalJSON() ([]byte, error) { return stats.AppendFloat(nil, float64(f), 32), nil }

// UnmarshalJSON implements json.Unmarshaler.
func (f *Float32) UnmarshalJSON(b []byte) error {
	v, err := stats.ParseFloat(b, 32)
	*f = Float32(v)
	return err
}
