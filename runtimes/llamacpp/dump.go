package llamacpp

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// A dump directory is what the project's dumper (and the recordings in
// ../shared/llamacpp) write: one row per graph callback in index.tsv, in
// execution order, and one .npy file per row holding the whole tensor.
//
//	index.tsv   seq step name op type ne0 ne1 ne2 ne3 file sum sum_abs min max n_nan
//	            (tab-separated, a header line first; sums accumulated in double)
//	*.npy       NumPy format 1.0/2.0, dtype '<f4', C order, shape [ne3, ne2, ne1, ne0]
//	            with leading 1-dims dropped
//	tokens.txt  "prompt: id id …" then "gen step N: id 'piece'" lines
//
// step 0 is the prompt batch; step n ≥ 1 is the n-th single-token decode.

// Entry is one row of index.tsv.
type Entry struct {
	Seq, Step int
	Name, Op  string
	Type      string
	Ne        [4]int64
	File      string
	Sum       float64
	SumAbs    float64
	Min, Max  float64
	NaN       int64
}

// Layer splits the node name into its base and layer (SplitName): "Qcur-3"
// → ("Qcur", 3); names without a layer suffix and view names such as
// "Kcur-0 (view)" give layer -1.
func (e *Entry) Layer() (base string, layer int) { return SplitName(e.Name) }

// Rows is the number of token rows: ne1 for [features, tokens] tensors,
// ne2 for [head_dim, heads, tokens] ones.
func (e *Entry) Rows() int64 {
	if e.Ne[2] > 1 {
		return e.Ne[2]
	}
	return e.Ne[1]
}

// Dump is a parsed dump directory.
type Dump struct {
	Dir     string
	Entries []Entry
	Prompt  []int32 // prompt token ids
	Gen     []int32 // greedy continuation, one per decode step
}

// ErrDump is wrapped by every error for a malformed dump: an index.tsv,
// tokens.txt or .npy file that breaks the format above, or an .npy whose
// values disagree with its index row. (A missing or unreadable file gives
// the os error instead.)
var ErrDump = errors.New("llamacpp: malformed dump")

// ReadDump parses dir/index.tsv and dir/tokens.txt.
func ReadDump(dir string) (*Dump, error) {
	d := &Dump{Dir: dir}
	f, err := os.Open(filepath.Join(dir, "index.tsv"))
	if err != nil {
		return nil, fmt.Errorf("llamacpp: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if line == 1 {
			if !strings.HasPrefix(sc.Text(), "seq\tstep\tname") {
				return nil, fmt.Errorf("%w: %s/index.tsv: header %.60q is not a dump index", ErrDump, dir, sc.Text())
			}
			continue
		}
		e, err := parseEntry(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("%w: %s/index.tsv line %d: %w", ErrDump, dir, line, err)
		}
		d.Entries = append(d.Entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s/index.tsv line %d: %w", ErrDump, dir, line+1, err)
	}
	if d.Prompt, d.Gen, err = readTokens(filepath.Join(dir, "tokens.txt")); err != nil {
		return nil, err
	}
	return d, nil
}

func parseEntry(s string) (Entry, error) {
	c := strings.Split(s, "\t")
	if len(c) != 15 {
		return Entry{}, fmt.Errorf("%d columns, want 15", len(c))
	}
	var e Entry
	var errs []error
	atoi := func(s string) int64 {
		v, err := strconv.ParseInt(s, 10, 64)
		errs = append(errs, err)
		return v
	}
	atof := func(s string) float64 {
		v, err := strconv.ParseFloat(s, 64)
		errs = append(errs, err)
		return v
	}
	e.Seq, e.Step = int(atoi(c[0])), int(atoi(c[1]))
	e.Name, e.Op, e.Type = c[2], c[3], c[4]
	for i := range e.Ne {
		e.Ne[i] = atoi(c[5+i])
	}
	e.File = c[9]
	e.Sum, e.SumAbs, e.Min, e.Max = atof(c[10]), atof(c[11]), atof(c[12]), atof(c[13])
	e.NaN = atoi(c[14])
	if err := errors.Join(errs...); err != nil {
		return Entry{}, err
	}
	if e.Step < 0 || strings.ContainsAny(e.File, "/\\") {
		return Entry{}, fmt.Errorf("bad step %d or file %q", e.Step, e.File)
	}
	return e, nil
}

var genLine = regexp.MustCompile(`^gen step (\d+): (-?\d+)\b`)

func readTokens(path string) (prompt, gen []int32, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("llamacpp: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		switch {
		case strings.HasPrefix(line, "prompt:"):
			for _, f := range strings.Fields(strings.TrimPrefix(line, "prompt:")) {
				v, err := strconv.ParseInt(f, 10, 32)
				if err != nil {
					return nil, nil, fmt.Errorf("%w: %s: %w", ErrDump, path, err)
				}
				prompt = append(prompt, int32(v))
			}
		case genLine.MatchString(line):
			m := genLine.FindStringSubmatch(line)
			v, err := strconv.ParseInt(m[2], 10, 32)
			if err != nil {
				return nil, nil, fmt.Errorf("%w: %s: %w", ErrDump, path, err)
			}
			gen = append(gen, int32(v))
		}
	}
	if len(prompt) == 0 {
		return nil, nil, fmt.Errorf("%w: %s: no prompt line", ErrDump, path)
	}
	return prompt, gen, nil
}

// Find returns the first entry of the step named name whose op is one of ops.
func (d *Dump) Find(step int, name string, ops []string) (*Entry, bool) {
	for i := range d.Entries {
		e := &d.Entries[i]
		if e.Step != step || e.Name != name {
			continue
		}
		for _, op := range ops {
			if e.Op == op {
				return e, true
			}
		}
	}
	return nil, false
}

// Load reads an entry's tensor.
func (d *Dump) Load(e *Entry) ([]float32, error) {
	data, shape, err := ReadNPY(filepath.Join(d.Dir, e.File))
	if err != nil {
		return nil, err
	}
	n := int64(1)
	for _, x := range e.Ne {
		n *= x
	}
	if int64(len(data)) != n {
		return nil, fmt.Errorf("%w: %s: %d values (shape %v), index says ne %v", ErrDump, e.File, len(data), shape, e.Ne)
	}
	return data, nil
}

// Steps is the number of steps in the dump (prompt + decode steps).
func (d *Dump) Steps() int {
	n := 0
	for _, e := range d.Entries {
		if e.Step+1 > n {
			n = e.Step + 1
		}
	}
	return n
}

// ReadNPY reads a little-endian float32, C-order .npy file (format 1.0–3.0).
func ReadNPY(path string) ([]float32, []int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("llamacpp: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("llamacpp: %w", err)
	}
	data, shape, err := decodeNPY(f, st.Size())
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: %w", ErrDump, path, err)
	}
	return data, shape, nil
}

var npyDescr = regexp.MustCompile(`'descr':\s*'([^']*)'`)
var npyOrder = regexp.MustCompile(`'fortran_order':\s*(True|False)`)
var npyShape = regexp.MustCompile(`'shape':\s*\(([^)]*)\)`)

// decodeNPY parses an .npy stream of size bytes. Every length in the header
// is checked against size before anything is allocated.
func decodeNPY(r io.Reader, size int64) ([]float32, []int64, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, nil, fmt.Errorf("npy: short preamble: %w", err)
	}
	if string(pre[:6]) != "\x93NUMPY" {
		return nil, nil, errors.New("npy: bad magic")
	}
	var hlen int64
	switch pre[6] {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, nil, err
		}
		hlen = int64(binary.LittleEndian.Uint16(b[:]))
		size -= 10
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, nil, err
		}
		hlen = int64(binary.LittleEndian.Uint32(b[:]))
		size -= 12
	default:
		return nil, nil, fmt.Errorf("npy: unsupported version %d", pre[6])
	}
	if hlen > size || hlen > 1<<20 {
		return nil, nil, fmt.Errorf("npy: header length %d exceeds the file", hlen)
	}
	hdr := make([]byte, hlen)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, nil, err
	}
	size -= hlen
	h := string(hdr)
	m := npyDescr.FindStringSubmatch(h)
	if m == nil || m[1] != "<f4" {
		return nil, nil, fmt.Errorf("npy: dtype %v is not '<f4'", m)
	}
	if m := npyOrder.FindStringSubmatch(h); m == nil || m[1] != "False" {
		return nil, nil, errors.New("npy: only C-order arrays are supported")
	}
	ms := npyShape.FindStringSubmatch(h)
	if ms == nil {
		return nil, nil, errors.New("npy: no shape")
	}
	var shape []int64
	n := int64(1)
	for _, p := range strings.Split(ms[1], ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v < 0 {
			return nil, nil, fmt.Errorf("npy: bad dimension %q", p)
		}
		// Bound the product before it can wrap: a wrapped product could
		// match the data size and size the allocation below.
		if v > 0 && n > math.MaxInt64/4/v {
			return nil, nil, fmt.Errorf("npy: shape (%s) has more elements than any file can hold", ms[1])
		}
		n *= v
		shape = append(shape, v)
	}
	if n*4 != size {
		return nil, nil, fmt.Errorf("npy: shape (%s) needs %d bytes of data, the file has %d", ms[1], n*4, size)
	}
	raw := make([]byte, n*4)
	if _, err := io.ReadFull(r, raw); err != nil {
		return nil, nil, err
	}
	out := make([]float32, n)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out, shape, nil
}
