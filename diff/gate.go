package diff

import (
	"fmt"
	"slices"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/stats"
)

// sample is a pair of records reconciled to one sample: the same token
// positions and the same elements per position on both sides. Only gate
// builds one, and the ledger (measure) accepts nothing else, so no metric
// can be computed over two different samples: that is how the seed's
// 18.23× std ratio came about.
type sample struct {
	positions []int // compared positions, in the row order of the data below
	perToken  int
	evidence  Evidence
	note      string // how the records were reconciled; "" if nothing was dropped
	why       string // what a weak judgement rests on, e.g. "B kept no full tensor"

	// EvidenceFull: both sides' rows, [len(positions)][perToken].
	rowsA, rowsB []float32

	// EvidenceFull and EvidenceStats: per-position summaries of each side,
	// one per compared position, or a single aggregate on both sides when
	// a side has no per-position data but covers exactly these positions.
	sumA, sumB []stats.Summary

	// EvidencePartial: the partial record, which side it is, and the other
	// side's rows (nil if it kept no full tensor) and summary over the
	// partial record's positions.
	partial   *probes.Record
	side      string
	otherRows []float32
	otherSum  stats.Summary
}

// refusal is why a pair cannot be compared, and what would fix it.
type refusal struct{ reason, fix string }

func refuse(fix, format string, args ...any) *refusal {
	return &refusal{reason: fmt.Sprintf(format, args...), fix: fix}
}

// stepPositions returns every position step feeds: the prompt at step 0,
// the one decoded token after.
func stepPositions(step, promptLen int) []int {
	if step > 0 {
		return []int{promptLen + step - 1}
	}
	out := make([]int, promptLen)
	for i := range out {
		out[i] = i
	}
	return out
}

// gate decides whether records a and b (same key) can be compared under
// the alignment policy, over which positions, and on what evidence. It
// returns exactly one of a sample and a refusal.
func gate(a, b *probes.Record, al Align, promptLen int) (*sample, *refusal) {
	if a.PerToken != b.PerToken {
		return nil, refuse("capture the same slot definition on both sides (e.g. q, k and v separately, both after the bias)",
			"per-token sizes differ: A has %d elements per position, B %d; the records hold different quantities",
			a.PerToken, b.PerToken)
	}
	step := stepPositions(a.Step, promptLen)
	switch {
	case a.Partial && b.Partial:
		return nil, refuse("capture one side with full tensors (parity trace --full, or the llama-dump tool) to check the printed values",
			"both records are partial (printed values only); there is no full tensor to check them against")
	case a.Partial:
		return gatePartial(a, b, "a", al, step)
	case b.Partial:
		return gatePartial(b, a, "b", al, step)
	}
	pos, r := choose(a, b, al, step)
	if r != nil {
		return nil, r
	}
	s := &sample{positions: pos, perToken: a.PerToken, note: note(a.Positions, b.Positions, pos)}
	if a.Full != nil && b.Full != nil {
		ra, err := a.FullRows(pos)
		if err != nil {
			return nil, refuse("", "A: %v", err)
		}
		rb, err := b.FullRows(pos)
		if err != nil {
			return nil, refuse("", "B: %v", err)
		}
		s.evidence, s.rowsA, s.rowsB = EvidenceFull, ra, rb
		s.sumA, s.sumB = rowSummaries(ra, a.PerToken), rowSummaries(rb, b.PerToken)
		return s, nil
	}
	s.evidence = EvidenceStats
	switch {
	case a.Full == nil && b.Full == nil:
		s.why = "neither trace kept full tensors"
	case a.Full == nil:
		s.why = "A kept no full tensor"
	default:
		s.why = "B kept no full tensor"
	}
	sa, oka := perPosition(a, pos)
	sb, okb := perPosition(b, pos)
	switch {
	case sa == nil && !oka:
		return nil, noPerPos("A", a, pos)
	case sb == nil && !okb:
		return nil, noPerPos("B", b, pos)
	case sa == nil || sb == nil:
		// One side has only its aggregate, over exactly pos: compare
		// aggregates on both sides.
		s.sumA, s.sumB = []stats.Summary{aggregate(a, sa)}, []stats.Summary{aggregate(b, sb)}
	default:
		s.sumA, s.sumB = sa, sb
	}
	return s, nil
}

// choose picks the compared positions (ascending) for two complete records.
func choose(a, b *probes.Record, al Align, step []int) ([]int, *refusal) {
	pa, pb := sorted(a.Positions), sorted(b.Positions)
	switch al {
	case AlignStrict:
		if !slices.Equal(pa, pb) {
			return nil, refuse(fmt.Sprintf("use --align auto to compare the common positions (%s), or trace both with the same --positions", common(pa, pb)),
				"A covered %s, B covered %s: --align strict compares identical positions only", fmtPos(pa), fmtPos(pb))
		}
		return pa, nil
	case AlignLast:
		l := step[len(step)-1]
		for _, side := range []struct {
			name string
			pos  []int
		}{{"A", pa}, {"B", pb}} {
			if !slices.Contains(side.pos, l) {
				return nil, refuse("trace with --positions last or all",
					"--align last needs position %d (the last of step %d); %s covered %s", l, a.Step, side.name, fmtPos(side.pos))
			}
		}
		return []int{l}, nil
	case AlignAll:
		for _, side := range []struct {
			name string
			pos  []int
		}{{"A", pa}, {"B", pb}} {
			if !subset(step, side.pos) {
				return nil, refuse("trace both with --positions all, or use --align auto to compare the common positions",
					"--align all needs every position of step %d (%s); %s covered %s", a.Step, fmtPos(step), side.name, fmtPos(side.pos))
			}
		}
		return step, nil
	}
	c := probes.CommonPositions(a, b)
	if len(c) == 0 {
		return nil, refuse("trace both with the same --positions (all, or last)",
			"A covered %s, B covered %s: no position in common", fmtPos(pa), fmtPos(pb))
	}
	return c, nil
}

// gatePartial reconciles a partial record p with the other side's record o.
// A partial record's printed sum spans all its positions, so it can never
// be restricted: the other side must cover them.
func gatePartial(p, o *probes.Record, side string, al Align, step []int) (*sample, *refusal) {
	P, O := "A", "B"
	if side == "b" {
		P, O = O, P
	}
	pp, po := sorted(p.Positions), sorted(o.Positions)
	const cannot = "a partial record's printed sum covers all its positions and cannot be restricted"
	switch {
	case al == AlignStrict && !slices.Equal(pp, po):
		return nil, refuse("use --align auto, or trace both over the same positions",
			"A covered %s, B covered %s: --align strict compares identical positions only", fmtPos(pick(side, pp, po)), fmtPos(pick(side, po, pp)))
	case al == AlignLast && !slices.Equal(pp, step[len(step)-1:]):
		return nil, refuse("use --align auto", "--align last needs position %d alone, but the partial record %s covers %s, and %s", step[len(step)-1], P, fmtPos(pp), cannot)
	case al == AlignAll && !slices.Equal(pp, step):
		return nil, refuse("use --align auto", "--align all needs positions %s, but the partial record %s covers %s", fmtPos(step), P, fmtPos(pp))
	case !subset(pp, po):
		return nil, refuse(fmt.Sprintf("trace %s over at least positions %s", O, fmtPos(pp)),
			"the partial record %s covers %s and %s covered %s; %s", P, fmtPos(pp), O, fmtPos(po), cannot)
	}
	s := &sample{positions: slices.Clone(p.Positions), perToken: p.PerToken, evidence: EvidencePartial, partial: p, side: side}
	if !slices.Equal(pp, po) {
		s.note = fmt.Sprintf("%s covered %s, %s covered %s; compared %s", P, fmtPos(pp), O, fmtPos(po), plural(pp))
	}
	if o.Full != nil {
		rows, err := o.FullRows(s.positions)
		if err != nil {
			return nil, refuse("", "%s: %v", O, err)
		}
		if len(p.Known) == 0 && p.Sum == nil {
			return nil, refuse("", "the partial record %s holds neither printed values nor a sum", P)
		}
		s.otherRows = rows
		s.otherSum = stats.MergeAll(rowSummaries(rows, o.PerToken))
		return s, nil
	}
	s.why = O + " kept no full tensor, so only the mean is checked"
	if p.Sum == nil {
		return nil, refuse(fmt.Sprintf("trace %s with --full so the printed values can be checked", O),
			"the partial record %s has no sum and %s kept no full tensor: nothing to compare", P, O)
	}
	sums, ok := perPosition(o, pp)
	if sums == nil && !ok {
		return nil, noPerPos(O, o, pp)
	}
	s.otherSum = aggregate(o, sums)
	return s, nil
}

func pick(side string, p, o []int) []int {
	if side == "a" {
		return p
	}
	return o
}

// perPosition returns r's summaries at each of pos, from its per-position
// statistics or its full rows. If r has neither, it returns nil and
// reports whether r's aggregate covers exactly pos (then usable as is).
func perPosition(r *probes.Record, pos []int) ([]stats.Summary, bool) {
	if len(r.PerPos) == len(r.Positions) && len(r.PerPos) > 0 {
		row := make(map[int]int, len(r.Positions))
		for i, p := range r.Positions {
			row[p] = i
		}
		out := make([]stats.Summary, len(pos))
		for i, p := range pos {
			j, ok := row[p]
			if !ok {
				return nil, false
			}
			out[i] = r.PerPos[j]
		}
		return out, true
	}
	if r.Full != nil {
		rows, err := r.FullRows(pos)
		if err != nil {
			return nil, false
		}
		return rowSummaries(rows, r.PerToken), true
	}
	return nil, slices.Equal(sorted(r.Positions), sorted(pos))
}

// aggregate merges per-position summaries, or returns the record's own
// aggregate when it has none (perPosition vouched that it covers exactly
// the compared positions).
func aggregate(r *probes.Record, per []stats.Summary) stats.Summary {
	if per == nil {
		return r.Stats
	}
	return stats.MergeAll(per)
}

func noPerPos(name string, r *probes.Record, pos []int) *refusal {
	return refuse(fmt.Sprintf("re-trace %s with parity trace (it always keeps per-position statistics), or with --positions %s", name, probes.FormatInts(pos)),
		"%s has no per-position statistics, so its aggregate over %s cannot be restricted to %s", name, fmtPos(sorted(r.Positions)), fmtPos(pos))
}

// rowSummaries summarises each row on its own, as the Recorder does.
func rowSummaries(rows []float32, perToken int) []stats.Summary {
	out := make([]stats.Summary, len(rows)/perToken)
	for i := range out {
		out[i].AddSlice(rows[i*perToken : (i+1)*perToken])
	}
	return out
}

// note describes a reconciliation, or returns "" if both records covered
// exactly the compared positions.
func note(a, b, pos []int) string {
	pa, pb := sorted(a), sorted(b)
	if slices.Equal(pa, pos) && slices.Equal(pb, pos) {
		return ""
	}
	return fmt.Sprintf("A covered %s, B covered %s; compared %s", fmtPos(pa), fmtPos(pb), plural(pos))
}

func plural(pos []int) string {
	if len(pos) == 1 {
		return "position " + fmtPos(pos)
	}
	return "positions " + fmtPos(pos)
}

func fmtPos(pos []int) string { return probes.FormatInts(pos) }

func common(pa, pb []int) string {
	var c []int
	for _, p := range pa {
		if _, ok := slices.BinarySearch(pb, p); ok {
			c = append(c, p)
		}
	}
	if len(c) == 0 {
		return "none"
	}
	return fmtPos(c)
}

func sorted(p []int) []int {
	s := slices.Clone(p)
	slices.Sort(s)
	return s
}

// subset reports whether every element of want is in have, which must be
// sorted.
func subset(want, have []int) bool {
	for _, p := range want {
		if _, ok := slices.BinarySearch(have, p); !ok {
			return false
		}
	}
	return true
}
