package diff

import (
	"errors"
	"fmt"
)

// Verdict is the judgement on one aligned pair of records, and on a whole
// comparison (the worst of its pairs).
type Verdict int

// Verdicts in increasing severity. REFUSED is the most severe on purpose:
// a comparison that could not be made says nothing about parity, and a
// report must never let a PASS elsewhere hide it.
const (
	Pass Verdict = iota
	Warn
	Fail
	Refused
)

func (v Verdict) String() string {
	switch v {
	case Pass:
		return "PASS"
	case Warn:
		return "WARN"
	case Fail:
		return "FAIL"
	case Refused:
		return "REFUSED"
	}
	return "UNKNOWN"
}

// MarshalText writes the verdict's name, as String does.
func (v Verdict) MarshalText() ([]byte, error) {
	if v < Pass || v > Refused {
		return nil, fmt.Errorf("diff: invalid verdict %d", int(v))
	}
	return []byte(v.String()), nil
}

// UnmarshalText reads a name String writes.
func (v *Verdict) UnmarshalText(b []byte) error {
	for w := Pass; w <= Refused; w++ {
		if string(b) == w.String() {
			*v = w
			return nil
		}
	}
	return fmt.Errorf("diff: unknown verdict %q", b)
}

// Worse returns the more severe of v and w.
func (v Verdict) Worse(w Verdict) Verdict {
	if w > v {
		return w
	}
	return v
}

// Err maps a verdict onto the sentinel a command returns for it, so the
// CLI's single exit-code switch can turn it into 0, 1 or 2. WARN is not an
// error: the two runs agree within the profile's tolerance.
func (v Verdict) Err() error {
	switch v {
	case Fail:
		return ErrDivergence
	case Refused:
		return ErrRefused
	}
	return nil
}

// ErrDivergence means the two runs part ways: at least one pair failed.
var ErrDivergence = errors.New("diff: runs diverge")

// ErrRefused means the two runs could not be compared honestly (different
// tokens, different samples that cannot be reconciled); no number was given.
var ErrRefused = errors.New("diff: comparison refused")
