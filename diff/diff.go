package diff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/layerwise/parity/probes"
)

// Diff compares trace b against the reference trace a: it checks that both
// runs were fed the same token ids, aligns their records by (step, layer,
// slot) in execution order, passes every pair through the sample-parity
// gate, measures and judges the comparable ones and finds the first
// divergence. It returns an error only for invalid options; everything
// about the traces, including a refusal, is in the Result.
//
// The traces are assumed valid (probes.ReadFile validates what it reads).
func Diff(a, b *probes.Trace, o Options) (*Result, error) {
	ths, err := Thresholds(o.Profile, o.Overrides)
	if err != nil {
		return nil, err
	}
	if _, err := o.Align.MarshalText(); err != nil {
		return nil, err
	}
	budget := make(map[probes.Slot]Threshold, len(ths))
	for _, t := range ths {
		budget[t.Slot] = t
	}
	res := &Result{
		Format: ResultFormat, Version: ResultVersion,
		A: side(a), B: side(b),
		Align: o.Align, Profile: o.Profile, Thresholds: ths, WarnFactor: WarnFactor,
		Pairs: []Pair{},
	}
	res.Tokens = checkTokens(&a.Header, &b.Header)
	if !res.Tokens.Match {
		res.Verdict, res.Reason = Refused, res.Tokens.Reason
		res.Fix = "trace both runs over the same token ids (parity trace --tokens …)"
		return res, nil
	}
	if sa, sb := res.A.Steps, res.B.Steps; sa != sb {
		res.Notes = append(res.Notes, fmt.Sprintf("A ran %d decode step(s), B %d; only the steps both ran (0-%d) are paired", sa, sb, min(sa, sb)))
	}
	if ha, hb := a.Header.Model.SHA256, b.Header.Model.SHA256; ha != "" && hb != "" && ha != hb {
		res.Notes = append(res.Notes, fmt.Sprintf("the model files differ: A sha256 %.12s…, B %.12s…", ha, hb))
	}
	pairRecords(res, a, b, func(k probes.Key) Threshold { return budgetFor(k, &o, budget) })
	finish(res)
	res.Decode = decodeSummary(res)
	return res, nil
}

func side(t *probes.Trace) Side {
	h := &t.Header
	return Side{
		Runtime: h.Runtime, Engine: h.Engine, EngineOptions: h.EngineOptions, Model: h.Model,
		Tokens: h.Tokens, PromptLen: h.PromptLen, TokensSHA256: h.TokensSHA256,
		Steps: len(h.Tokens) - h.PromptLen, Records: len(t.Records), Policy: h.Policy,
	}
}

// checkTokens compares the fed ids: the prompts must be identical, and
// decode steps are comparable up to the first one fed a different id.
func checkTokens(a, b *probes.Header) TokenCheck {
	tc := TokenCheck{Steps: -1}
	n := min(a.PromptLen, b.PromptLen)
	for i := range n {
		if a.Tokens[i] != b.Tokens[i] {
			tc.Differ = &TokenDiff{Position: i, A: a.Tokens[i], B: b.Tokens[i]}
			tc.Reason = fmt.Sprintf("the prompts differ at position %d: A has token %d, B %d", i, a.Tokens[i], b.Tokens[i])
			return tc
		}
	}
	if a.PromptLen != b.PromptLen {
		tc.Reason = fmt.Sprintf("the prompts have different lengths: A %d tokens, B %d; steps would cover different positions", a.PromptLen, b.PromptLen)
		return tc
	}
	tc.Match = true
	steps := min(len(a.Tokens), len(b.Tokens)) - n
	tc.Steps = steps
	for s := 1; s <= steps; s++ {
		p := n + s - 1
		if a.Tokens[p] != b.Tokens[p] {
			tc.Differ = &TokenDiff{Position: p, Step: s, A: a.Tokens[p], B: b.Tokens[p]}
			tc.Steps = s - 1
			tc.Reason = fmt.Sprintf("decode step %d was fed different tokens: position %d is %d in A, %d in B", s, p, a.Tokens[p], b.Tokens[p])
			break
		}
	}
	return tc
}

// pairRecords walks the union of both traces' keys in execution order.
func pairRecords(res *Result, a, b *probes.Trace, budget func(probes.Key) Threshold) {
	ia, ib := a.Index(), b.Index()
	keys := make([]probes.Key, 0, len(ia)+len(ib))
	for k := range ia {
		keys = append(keys, k)
	}
	for k := range ib {
		if ia[k] == nil {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, probes.CompareOrder)
	var onlyA, onlyB unpaired
	for _, k := range keys {
		ra, rb := ia[k], ib[k]
		switch {
		case rb == nil:
			onlyA.add(k)
			continue
		case ra == nil:
			onlyB.add(k)
			continue
		}
		p := Pair{
			Step: k.Step, Layer: k.Layer, Slot: k.Slot,
			PositionsA: fmtPos(ra.Positions), PositionsB: fmtPos(rb.Positions),
			CountA: ra.Count, CountB: rb.Count,
		}
		if d := res.Tokens.Differ; d != nil && k.Step >= d.Step {
			p.Verdict, p.Fix = Refused, fmt.Sprintf("run B teacher-forced on A's tokens, or compare steps 0-%d only", d.Step-1)
			p.Reason = res.Tokens.Reason
			if k.Step > d.Step {
				p.Reason = fmt.Sprintf("step %d follows step %d, where the fed tokens differ (position %d: A %d, B %d)", k.Step, d.Step, d.Position, d.A, d.B)
			}
		} else if s, r := gate(ra, rb, res.Align, a.Header.PromptLen); r != nil {
			p.Verdict, p.Reason, p.Fix = Refused, r.reason, r.fix
		} else {
			p.Note = s.note
			p.Verdict, p.Reason, p.Metrics = measure(s, k.Slot, budget(k))
		}
		if ra.Derived || rb.Derived {
			p.Note = join(p.Note, derivedNote(ra, rb))
		}
		res.Pairs = append(res.Pairs, p)
	}
	res.OnlyA, res.OnlyB = onlyA.n, onlyB.n
	for _, u := range []struct {
		name string
		u    *unpaired
	}{{"A", &onlyA}, {"B", &onlyB}} {
		switch n := u.u.n; {
		case n == 1:
			res.Notes = append(res.Notes, fmt.Sprintf("1 record only in %s, not compared (%s)", u.name, u.u))
		case n > 1:
			res.Notes = append(res.Notes, fmt.Sprintf("%d records only in %s, not compared (%s)", n, u.name, u.u))
		}
	}
}

func derivedNote(a, b *probes.Record) string {
	var parts []string
	for _, r := range []struct {
		name string
		rec  *probes.Record
	}{{"A", a}, {"B", b}} {
		if r.rec.Derived {
			parts = append(parts, strings.TrimSpace(r.name+" derived "+r.rec.Note))
		}
	}
	return strings.Join(parts, "; ")
}

// unpaired summarises the keys only one trace has.
type unpaired struct {
	n     int
	slots []probes.Slot
	steps []int
}

func (u *unpaired) add(k probes.Key) {
	u.n++
	if !slices.Contains(u.slots, k.Slot) {
		u.slots = append(u.slots, k.Slot)
	}
	if !slices.Contains(u.steps, k.Step) {
		u.steps = append(u.steps, k.Step)
	}
}

func (u *unpaired) String() string {
	names := make([]string, len(u.slots))
	slices.Sort(u.slots)
	for i, s := range u.slots {
		names[i] = s.String()
	}
	slices.Sort(u.steps)
	return fmt.Sprintf("slots %s; steps %s", strings.Join(names, ","), probes.FormatInts(u.steps))
}

// finish tallies the verdicts, finds the first divergence and sets the
// overall verdict.
func finish(res *Result) {
	c := &res.Counts
	var firstRefused *Pair
	for i := range res.Pairs {
		p := &res.Pairs[i]
		switch p.Verdict {
		case Pass:
			c.Pass++
		case Warn:
			c.Warn++
		case Fail:
			c.Fail++
			if res.First == nil {
				res.First = &Divergence{Index: i, Step: p.Step, Layer: p.Layer, Slot: p.Slot}
			}
		case Refused:
			c.Refused++
			if firstRefused == nil {
				firstRefused = p
			}
		}
		if p.Metrics != nil && p.Metrics.Weak {
			c.Weak++
		}
		res.Verdict = res.Verdict.Worse(p.Verdict)
	}
	switch {
	case len(res.Pairs) == 0:
		res.Verdict = Refused
		res.Reason = "the traces have no record in common"
		res.Fix = "trace the same slots, layers and steps on both sides"
	case firstRefused != nil:
		k := firstRefused.Key()
		res.Reason = fmt.Sprintf("%d of %d pairs refused; the first, %v: %s", c.Refused, len(res.Pairs), k, firstRefused.Reason)
		res.Fix = firstRefused.Fix
	case res.First != nil:
		p := &res.Pairs[res.First.Index]
		res.Reason = fmt.Sprintf("first divergence at %v: %s", p.Key(), p.Reason)
	}
}
