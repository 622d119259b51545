package probes

// Add records a record built outside the Recorder: a reference runtime's
// output read back from its files, or a record derived from other nodes.
// It applies the policy exactly as Capture does: nothing unless
// Wants(Step, Layer, Slot), and of the record's rows only the positions the
// policy keeps (Positions.Last keeps the highest).
//
// A complete record must carry its Full tensor ([len(Positions)][PerToken]
// row-major); the Recorder summarises the kept rows itself, exactly as
// Capture would, so Stats, PerPos and Head are its own and any given ones
// are ignored. Derived and Note are kept.
//
// A partial record (Partial) keeps the Known elements of the kept rows,
// re-indexed to the kept rows' layout, and its Sum only if every row is
// kept: a runtime's sum over rows the policy dropped describes other
// samples. It has no Head.
//
// A complete record without Full, a partial record with Stats, PerPos or
// Full, a partial record whose key was already recorded, and the misuses
// Capture reports are recorded as nothing and reported by Err.
func (r *Recorder) Add(rec Record) {
	if !r.Wants(rec.Step, rec.Layer, rec.Slot) {
		return
	}
	k := rec.Key()
	if !rec.Partial {
		if rec.Full == nil {
			r.fail(k, "complete record without its full tensor")
			return
		}
		r.CaptureAt(rec.Step, rec.Layer, rec.Slot, rec.Positions, rec.PerToken, rec.Full)
		if rec.Derived || rec.Note != "" {
			r.mu.Lock()
			if i, ok := r.index[k]; ok {
				r.records[i].Derived, r.records[i].Note = rec.Derived, rec.Note
			}
			r.mu.Unlock()
		}
		return
	}
	if len(rec.PerPos) != 0 || rec.Full != nil || rec.Stats.Count != 0 {
		r.fail(k, "partial record with statistics or a full tensor")
		return
	}
	if rec.PerToken <= 0 || rec.Count != int64(len(rec.Positions))*int64(rec.PerToken) || len(rec.Positions) == 0 {
		r.fail(k, "partial record: count %d for %d positions of %d", rec.Count, len(rec.Positions), rec.PerToken)
		return
	}
	if (k.Layer == -1) != k.Slot.Global() || k.Step < 0 {
		r.fail(k, "bad step or layer for the slot")
		return
	}
	if err := checkNew(nil, rec.Positions); err != nil {
		r.fail(k, "%v", err)
		return
	}
	for _, p := range rec.Positions {
		if p < 0 || p >= MaxIndex {
			r.fail(k, "position %d outside [0, %d)", p, MaxIndex)
			return
		}
	}
	rows := r.keptRows(rec.Positions)
	if len(rows) == 0 {
		return
	}
	out := Record{Step: rec.Step, Layer: rec.Layer, Slot: rec.Slot, PerToken: rec.PerToken,
		Partial: true, Derived: rec.Derived, Note: rec.Note}
	if len(rows) == len(rec.Positions) && rec.Sum != nil {
		s := *rec.Sum
		out.Sum = &s
	}
	// newRow[i] is row i's index among the kept rows, or -1.
	newRow := make([]int, len(rec.Positions))
	for i := range newRow {
		newRow[i] = -1
	}
	for j, i := range rows {
		newRow[i] = j
		out.Positions = append(out.Positions, rec.Positions[i])
	}
	per := int64(rec.PerToken)
	for i, kv := range rec.Known {
		if kv.Index < 0 || kv.Index >= rec.Count || i > 0 && kv.Index <= rec.Known[i-1].Index {
			r.fail(k, "known index %d not increasing in [0, %d)", kv.Index, rec.Count)
			return
		}
		if j := newRow[kv.Index/per]; j >= 0 {
			out.Known = append(out.Known, Known{Index: int64(j)*per + kv.Index%per, Value: kv.Value})
		}
	}
	out.Count = int64(len(out.Positions)) * per
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.index[k]; ok {
		r.failLocked(k, "partial record added twice")
		return
	}
	r.index[k] = len(r.records)
	r.records = append(r.records, out)
}

// keptRows returns the indices of the positions the policy keeps, in row
// order: the highest position for Positions.Last, else those in the list
// (all when there is none).
func (r *Recorder) keptRows(positions []int) []int {
	if r.policy.Positions.Last {
		best := 0
		for i, p := range positions {
			if p > positions[best] {
				best = i
			}
		}
		return []int{best}
	}
	var rows []int
	for i, p := range positions {
		if in(r.pos, p) {
			rows = append(rows, i)
		}
	}
	return rows
}
