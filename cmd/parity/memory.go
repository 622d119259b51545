package main

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes"
)

// memoryFlag is --max-memory: the most full-tensor capture may hold, given
// as bytes with an optional unit (2GiB, 512MiB, 8GB), "auto" for the
// machine's physical memory, or 0 / "none" for no limit. The check runs
// before any engine does, from an estimate (probes.Policy.FullBytes), so a
// capture that would exhaust memory fails at once with the numbers rather
// than minutes later in the kernel's OOM killer.
type memoryFlag struct{ spec string }

func (m *memoryFlag) register(f *pflag.FlagSet) {
	f.StringVar(&m.spec, "max-memory", "auto", "most memory full-tensor capture may hold, e.g. 2GiB or 8GB; auto: the physical memory; 0: no limit")
}

// limit returns the limit in bytes (0: none) and how to name it in a
// message.
func (m *memoryFlag) limit() (int64, string, error) {
	s := strings.TrimSpace(m.spec)
	switch strings.ToLower(s) {
	case "auto", "":
		if n := physicalMemory(); n > 0 {
			return n, "the physical memory (" + formatBytes(n) + "; --max-memory raises or lowers it)", nil
		}
		return 0, "", nil
	case "none", "0":
		return 0, "", nil
	}
	n, err := parseBytes(s)
	if err != nil {
		return 0, "", usageErr(fmt.Errorf("--max-memory: %w", err))
	}
	return n, "--max-memory " + formatBytes(n), nil
}

// errMemory marks a capture refused by --max-memory (exit status 3).
var errMemory = errors.New("memory limit")

// check refuses a capture whose estimate exceeds the limit. what says what
// the estimate covers, less how to capture less.
func (m *memoryFlag) check(need int64, what, less string) error {
	limit, name, err := m.limit()
	if err != nil || limit == 0 || need <= limit {
		return err
	}
	return fmt.Errorf("%w: full-tensor capture would hold about %s (%s), more than %s: %s, or raise --max-memory",
		errMemory, formatBytes(need), what, name, less)
}

// units are the suffixes parseBytes accepts, longest first so that "GiB"
// is not read as "B".
var units = []struct {
	suffix string
	scale  float64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40},
	{"kb", 1e3}, {"mb", 1e6}, {"gb", 1e9}, {"tb", 1e12},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40},
	{"b", 1},
}

// parseBytes reads a byte count: a non-negative number and an optional unit,
// KiB/MiB/GiB/TiB (and K/M/G/T) in powers of 1024, KB/MB/GB/TB in powers
// of 1000, case-insensitive.
func parseBytes(s string) (int64, error) {
	num, scale := strings.ToLower(strings.TrimSpace(s)), 1.0
	for _, u := range units {
		if n, ok := strings.CutSuffix(num, u.suffix); ok {
			num, scale = strings.TrimSpace(n), u.scale
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, fmt.Errorf("%q is not a size such as 2GiB, 512MiB or 8GB", s)
	}
	b := v * scale
	if b >= math.MaxInt64 {
		return 0, errors.New("size " + strconv.Quote(s) + " is too large")
	}
	return int64(b), nil
}

// formatBytes writes n in binary units with about three significant
// digits: "512 B", "3.25 GiB", "12.5 MiB", "640 KiB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), -1
	for v >= unit && i < 4 {
		v /= unit
		i++
	}
	prec := 2
	if v >= 100 {
		prec = 0
	} else if v >= 10 {
		prec = 1
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + " " + []string{"KiB", "MiB", "GiB", "TiB", "PiB"}[i]
}

// checkBisect checks what a bisection holds at its peak: A's and B's full
// traces, then, with the calibrated profile, the noise floor's two runs
// beside them, and a reference runtime's trace.
func (m *memoryFlag) checkBisect(a, b runtimes.Runtime, promptLen, decode int, calibrated, ref bool) error {
	full := probes.Policy{Mode: probes.ModeFull}
	da, db := a.Model().Dims, b.Model().Dims
	one := max(full.FullBytes(da, promptLen, decode), full.FullBytes(db, promptLen, decode))
	runs := 2
	if calibrated {
		runs += 2
	}
	if ref {
		runs++
	}
	need := int64(math.MaxInt64)
	if one < math.MaxInt64/int64(runs) {
		need = one * int64(runs)
	}
	what := fmt.Sprintf("%d runs × %s: %d layers, %d positions", runs, formatBytes(one), max(da.Layers, db.Layers), promptLen+decode)
	return m.check(need, what, "shorten the prompt, take fewer --decode steps, compare a narrower capture (parity trace --slots/--layers/--positions, then parity diff)")
}
