package llamacpp

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/layerwise/parity/probes"
)

// Stock llama-eval-callback and llama-debug print every graph node to
// stdout as it is computed (common/debug.cpp at llama.cpp 3f545bec):
//
//	common_debug_cb_eval: <name %24s> = (<type>) <op %10s>(<src0>{ne}, <src1>{ne}}) = {ne0, ne1, ne2, ne3}
//	    [                                          one block per i3, all of ne3
//	        [                                      one per shown i2
//	            [ v, v, v,    ..., v, v, v  ],     one row per shown i1: shown i0 values, %12.4f
//	            ...,                               the gap in i1
//	        ],
//	        ...,                                   the gap in i2
//	    ]
//	    sum = %f                                   float32 running sum of every element
//
// A dimension of ne0, ne1 or ne2 larger than 6 shows its first 3 and last
// 3 indices with a "..." gap between them; all of ne3 is shown. Without a
// second source the header ends in ", }) = {…}". Only f32, f16, bf16 and
// integer tensors have a body; quantized ones print the header alone.
// The parser follows exactly this structure, so every printed value lands
// at its flat index i0 + ne0·(i1 + ne1·(i2 + ne2·i3)).

// Text is what a stock tool printed on stdout.
type Text struct {
	Tensors []Tensor

	// Truncated is empty when the output ends with result_output, the last
	// node of a decoder's graph. Otherwise it says where the output stops:
	// llama.cpp at 3f545bec leaks its asynchronous logger at exit
	// (common/log.cpp), so whatever is still queued is lost and the text
	// stops at a random tensor. Tensors holds the complete ones before it.
	Truncated string

	// Tokens are the ids llama-debug lists after the tensors
	// ("Token ids (N):" then "piece(id) " per token); nil when the text has
	// no such list (eval-callback logs its ids to stderr instead) or the
	// list could not be read unambiguously.
	Tokens []int32
}

// Tensor is one graph node as printed.
type Tensor struct {
	Line     int // 1-based line of the header
	Name     string
	Type     string // ggml_type_name: "f32", "q4_K", …
	Op       string // ggml_op_desc: "MUL_MAT", "SWIGLU", …
	Src      []Source
	Ne       [4]int64
	Known    []probes.Known // printed values by flat index, increasing
	Sum      float64        // the printed sum (a float32 running sum, 6 decimals)
	HasSum   bool           // false for header-only (quantized) tensors
	Complete bool           // body and sum read to the end
}

// Source is a node's input as the header names it. Ne is zero when the
// header does not give it (llama.cpp cuts the second source's text at 127
// bytes).
type Source struct {
	Name string
	Ne   [4]int64
}

// FormatError reports malformed text at a line (1-based) and byte offset.
type FormatError struct {
	Line int
	Off  int64
	Msg  string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("llamacpp: eval-callback text line %d (offset %d): %s", e.Line, e.Off, e.Msg)
}

// ErrNoTensors is returned for text without a single tensor header.
var ErrNoTensors = errors.New("llamacpp: no eval-callback tensor output (expected lines starting \"common_debug_cb_eval:\")")

// headerPrefixes are the callback's function names: common_debug_cb_eval at
// 3f545bec, ggml_debug in older versions.
var headerPrefixes = []string{"common_debug_cb_eval:", "ggml_debug:"}

// maxLine bounds one line of input; the longest real line is a row of 6
// values, a header under 400 bytes.
const maxLine = 1 << 20

// maxElements bounds the element count a header may declare, so that flat
// indices cannot overflow: 2^50 is far beyond any tensor.
const maxElements = 1 << 50

// bodyTypes have a printed body (common_ggml_get_float_value's types).
var bodyTypes = map[string]bool{"f32": true, "f16": true, "bf16": true, "i8": true, "i16": true, "i32": true, "i64": true}

// ParseText reads a stock tool's stdout. It returns a *FormatError for text
// that breaks the structure before its end, ErrNoTensors for text without
// tensors, and never panics; memory grows with the input, never with the
// shapes it declares. Text that simply stops is not an error: see
// Text.Truncated.
func ParseText(r io.Reader) (*Text, error) {
	p := &textParser{sc: bufio.NewScanner(r)}
	p.sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	p.sc.Split(p.splitLines)
	out := &Text{}
	for {
		line, ok := p.next()
		if !ok {
			break
		}
		if h, isHeader := cutHeader(line); isHeader {
			t, err := p.tensor(h)
			if errors.Is(err, errEOF) {
				out.Truncated = fmt.Sprintf("output stops inside the tensor at line %d (%q)", t.Line, t.Name)
				return out, p.scanErr()
			}
			if err != nil {
				return nil, err
			}
			out.Tensors = append(out.Tensors, t)
			continue
		}
		if m := tokenListLine.FindStringSubmatch(line); m != nil {
			out.Tokens = p.tokenList(m[1])
		}
	}
	if err := p.scanErr(); err != nil {
		return nil, err
	}
	if len(out.Tensors) == 0 {
		return nil, ErrNoTensors
	}
	if last := out.Tensors[len(out.Tensors)-1]; last.Name != "result_output" {
		out.Truncated = fmt.Sprintf("output stops after tensor %q (line %d), before result_output", last.Name, last.Line)
	}
	return out, nil
}

var errEOF = errors.New("end of text")

type textParser struct {
	sc      *bufio.Scanner
	line    int   // number of the current line
	off     int64 // offset of the current line
	nextOff int64
	atEOF   bool // the last line read had no newline
}

// splitLines is bufio.ScanLines that also tracks offsets and notes a last
// line without its newline.
func (p *textParser) splitLines(data []byte, atEOF bool) (int, []byte, error) {
	adv, tok, err := bufio.ScanLines(data, atEOF)
	if tok != nil && atEOF && adv == len(data) && (len(data) == 0 || data[len(data)-1] != '\n') {
		p.atEOF = true
	}
	return adv, tok, err
}

func (p *textParser) next() (string, bool) {
	if !p.sc.Scan() {
		return "", false
	}
	p.line++
	p.off = p.nextOff
	p.nextOff += int64(len(p.sc.Bytes())) + 1
	return p.sc.Text(), true
}

func (p *textParser) scanErr() error {
	if err := p.sc.Err(); err != nil {
		return &FormatError{p.line + 1, p.nextOff, err.Error()}
	}
	return nil
}

func (p *textParser) errorf(format string, args ...any) error {
	return &FormatError{p.line, p.off, fmt.Sprintf(format, args...)}
}

// cutHeader returns the part of a header line after its prefix.
func cutHeader(line string) (string, bool) {
	for _, pre := range headerPrefixes {
		if rest, ok := strings.CutPrefix(line, pre); ok {
			return rest, true
		}
	}
	return "", false
}

// tensor parses a header and its body. On errEOF the returned tensor
// carries the name and line for the message.
func (p *textParser) tensor(h string) (Tensor, error) {
	t := Tensor{Line: p.line}
	if p.atEOF {
		return t, errEOF // the header lost its end
	}
	if err := p.header(&t, h); err != nil {
		return t, err
	}
	if !bodyTypes[t.Type] {
		t.Complete = true
		return t, nil
	}
	n := t.Ne
	for i3 := int64(0); i3 < n[3]; i3++ {
		if err := p.expect("["); err != nil {
			return t, err
		}
		for j2 := range shown(n[2]) {
			if err := p.gap(j2, n[2]); err != nil {
				return t, err
			}
			if err := p.expect("["); err != nil {
				return t, err
			}
			for j1 := range shown(n[1]) {
				if err := p.gap(j1, n[1]); err != nil {
					return t, err
				}
				base := ((i3*n[2]+at(j2, n[2]))*n[1] + at(j1, n[1])) * n[0]
				if err := p.row(&t, base); err != nil {
					return t, err
				}
			}
			if err := p.expect("],"); err != nil {
				return t, err
			}
		}
		if err := p.expect("]"); err != nil {
			return t, err
		}
		if err := p.sum(&t); err != nil {
			return t, err
		}
	}
	t.Complete = true
	return t, nil
}

// shown is the number of indices printed along a dimension of n; at maps
// the j-th printed index to the real one.
func shown(n int64) int64 { return min(n, 6) }

func at(j, n int64) int64 {
	if n > 6 && j >= 3 {
		return n - 6 + j
	}
	return j
}

// lineTrimmed reads the next line of a body, trimmed. It returns errEOF at
// the end of the text and for a last line without its newline: every line
// llama.cpp prints ends in one, so such a line lost its end ("sum = 15" of
// "sum = 153.990631") and must not be read as a value.
func (p *textParser) lineTrimmed() (string, error) {
	s, ok := p.next()
	if !ok {
		if err := p.scanErr(); err != nil {
			return "", err
		}
		return "", errEOF
	}
	if p.atEOF {
		return "", errEOF
	}
	return strings.TrimSpace(s), nil
}

func (p *textParser) expect(want string) error {
	s, err := p.lineTrimmed()
	if err != nil {
		return err
	}
	if s != want {
		return p.errorf("%.60q where %q belongs", s, want)
	}
	return nil
}

func (p *textParser) gap(j, n int64) error {
	if n > 6 && j == 3 {
		return p.expect("...,")
	}
	return nil
}

// row reads one printed row of t and records its values at base+i0.
func (p *textParser) row(t *Tensor, base int64) error {
	s, err := p.lineTrimmed()
	if err != nil {
		return err
	}
	inner, ok := strings.CutPrefix(s, "[")
	if ok {
		inner, ok = strings.CutSuffix(inner, "],")
	}
	if !ok {
		return p.errorf("%.60q is not a row of values", s)
	}
	ne0 := t.Ne[0]
	var items []string
	if inner = strings.TrimSpace(inner); inner != "" {
		items = strings.Split(inner, ",")
	}
	want := int(shown(ne0))
	if ne0 > 6 {
		want++ // the "..." item
	}
	if len(items) != want {
		return p.errorf("row has %d items, ne0 = %d prints %d", len(items), ne0, want)
	}
	j := int64(0)
	for k, it := range items {
		it = strings.TrimSpace(it)
		if ne0 > 6 && k == 3 {
			if it != "..." {
				return p.errorf("%.20q where the gap \"...\" belongs", it)
			}
			continue
		}
		v, err := parseC(it)
		if err != nil {
			return p.errorf("value %.20q: %v", it, err)
		}
		t.Known = append(t.Known, probes.Known{Index: base + at(j, ne0), Value: float32(v)})
		j++
	}
	return nil
}

func (p *textParser) sum(t *Tensor) error {
	s, err := p.lineTrimmed()
	if err != nil {
		return err
	}
	v, ok := strings.CutPrefix(s, "sum = ")
	if !ok {
		return p.errorf("%.60q where \"sum = …\" belongs", s)
	}
	f, err := parseC(v)
	if err != nil {
		return p.errorf("sum %.20q: %v", v, err)
	}
	t.Sum, t.HasSum = f, true
	return nil
}

// parseC parses a number printed by C's %f: digits, or nan/inf with an
// optional sign (glibc prints "-nan").
func parseC(s string) (float64, error) {
	switch strings.TrimPrefix(strings.TrimPrefix(s, "-"), "+") {
	case "nan":
		return math.NaN(), nil
	case "inf":
		if strings.HasPrefix(s, "-") {
			return math.Inf(-1), nil
		}
		return math.Inf(1), nil
	}
	return strconv.ParseFloat(s, 64)
}

// header parses "<name> = (<type>) <op>(<sources>) = {ne}" (after the
// prefix). The name is right-aligned in 24 columns and may itself contain
// spaces and parentheses ("Qcur-0 (view) (permuted)").
func (p *textParser) header(t *Tensor, h string) error {
	i := strings.Index(h, " = (")
	if i < 0 {
		return p.errorf("header without \" = (\"")
	}
	t.Name = strings.TrimLeft(h[:i], " ")
	rest := h[i+4:]
	j := strings.Index(rest, ") ")
	if j < 0 {
		return p.errorf("header without a type")
	}
	t.Type = rest[:j]
	rest = strings.TrimLeft(rest[j+2:], " ")
	k := strings.IndexByte(rest, '(')
	if k <= 0 || !opName.MatchString(rest[:k]) {
		return p.errorf("header without an op name")
	}
	t.Op = rest[:k]
	rest = rest[k+1:]
	e := strings.LastIndex(rest, ") = {")
	if e < 0 || !strings.HasSuffix(rest, "}") {
		return p.errorf("header without \") = {ne}\"")
	}
	ne, err := parseNe(rest[e+5 : len(rest)-1])
	if err != nil {
		return p.errorf("shape: %v", err)
	}
	t.Ne = ne
	t.Src = parseSources(rest[:e])
	return nil
}

var opName = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// parseNe parses "a, b, c, d" and bounds the element count.
func parseNe(s string) ([4]int64, error) {
	var ne [4]int64
	f := strings.Split(s, ",")
	if len(f) != 4 {
		return ne, fmt.Errorf("%d dimensions, want 4", len(f))
	}
	n := int64(1)
	for i, x := range f {
		v, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil || v < 0 || v > maxElements {
			return ne, fmt.Errorf("bad dimension %.20q", x)
		}
		ne[i] = v
		if v != 0 && n > maxElements/v {
			return ne, fmt.Errorf("more than 2^50 elements")
		}
		n *= v
	}
	return ne, nil
}

// parseSources parses "src0{ne}, src1{ne}}" or "src0{ne}, }". A source
// whose shape cannot be read keeps its text as the name.
func parseSources(s string) []Source {
	var out []Source
	for s != "" && s != "}" {
		o := strings.IndexByte(s, '{')
		c := strings.IndexByte(s, '}')
		if o < 0 || c < o {
			return append(out, Source{Name: strings.TrimSuffix(s, "}")})
		}
		src := Source{Name: s[:o]}
		if ne, err := parseNe(s[o+1 : c]); err == nil {
			src.Ne = ne
		}
		out = append(out, src)
		s = strings.TrimPrefix(s[c+1:], ", ")
	}
	return out
}

var (
	tokenListLine = regexp.MustCompile(`^Token ids \((\d+)\):$`)
	tokenInList   = regexp.MustCompile(`\((-?\d+)\) `)
)

// maxTokenText bounds the text read for llama-debug's token list.
const maxTokenText = 16 << 20

// tokenList reads llama-debug's "piece(id) piece(id) … " list, which runs to
// the end of the text (a piece may contain newlines). It returns nil unless
// exactly n ids are found.
func (p *textParser) tokenList(count string) []int32 {
	n, err := strconv.Atoi(count)
	if err != nil {
		return nil
	}
	var b bytes.Buffer
	for b.Len() < maxTokenText {
		s, ok := p.next()
		if !ok {
			break
		}
		b.WriteString(s)
		b.WriteByte('\n')
	}
	m := tokenInList.FindAllSubmatch(b.Bytes(), -1)
	if len(m) != n {
		return nil
	}
	ids := make([]int32, n)
	for i, x := range m {
		v, err := strconv.ParseInt(string(x[1]), 10, 32)
		if err != nil {
			return nil
		}
		ids[i] = int32(v)
	}
	return ids
}
