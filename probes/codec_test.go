package probes

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/layerwise/parity/stats"
)

// richTrace exercises every record feature: full tensors with NaN and
// ±Inf, head values, a partial record with known values and a sum, a
// derived record with a note that needs escaping.
func richTrace(t testing.TB) *Trace {
	e := fakeEngine{prompt: 4, steps: 2, special: true}
	tr := record(t, e, Policy{Slots: []Slot{Embed, Q, FFNSwiGLU, Out, Logits}, Layers: []int{1}, Mode: ModeFull, Head: 4})
	sum := -3.25
	tr.Records = append(tr.Records, Record{
		Step: 0, Layer: 0, Slot: AttnCtx, Positions: []int{0, 1, 2, 3}, PerToken: 8, Count: 32,
		Partial: true, Sum: &sum,
		Known: []Known{{0, 0.25}, {1, float32(math.NaN())}, {31, float32(math.Inf(-1))}},
		Note:  "llama.cpp eval-callback text",
	})
	var s stats.Summary
	row := []float32{1, -2, 3, 0, 5, 6, 7, 8}
	s.AddSlice(row)
	tr.Records = append(tr.Records, Record{
		Step: 1, Layer: 1, Slot: AttnOut, Positions: []int{4}, PerToken: 8, Count: 8,
		Stats: s, PerPos: []stats.Summary{s}, Head: row[:2], Full: row,
		Derived: true, Note: `ffn_inp-1 − l_out-0 "quoted" <b>&</b> ü`,
	})
	if err := tr.Validate(); err != nil {
		t.Fatal(err)
	}
	return tr
}

// tracesEqual compares traces exactly, float values by their bits.
func tracesEqual(a, b *Trace) bool {
	if len(a.Records) != len(b.Records) {
		return false
	}
	strip := func(tr *Trace) *Trace {
		c := &Trace{Header: tr.Header, Records: slices.Clone(tr.Records)}
		for i := range c.Records {
			c.Records[i].Full, c.Records[i].Head, c.Records[i].Known = nil, nil, nil
		}
		return c
	}
	for i := range a.Records {
		ra, rb := &a.Records[i], &b.Records[i]
		if (ra.Full == nil) != (rb.Full == nil) || !bitsEqual(ra.Full, rb.Full) || !bitsEqual(ra.Head, rb.Head) ||
			!slices.EqualFunc(ra.Known, rb.Known, func(x, y Known) bool {
				return x.Index == y.Index && math.Float32bits(x.Value) == math.Float32bits(y.Value)
			}) {
			return false
		}
	}
	return reflect.DeepEqual(strip(a), strip(b))
}

func TestWriteReadRoundTrip(t *testing.T) {
	for name, tr := range map[string]*Trace{
		"rich":       richTrace(t),
		"stats only": record(t, fakeEngine{prompt: 3, steps: 1}, Policy{Positions: Positions{Last: true}, Head: 2}),
	} {
		path := filepath.Join(t.TempDir(), "run"+TraceSuffix)
		if err := WriteFile(path, tr); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back, err := ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !tracesEqual(tr, back) {
			t.Errorf("%s: round trip differs", name)
		}
		_, err = os.Stat(SidecarPath(path))
		if hasFull(tr) != (err == nil) {
			t.Errorf("%s: sidecar present = %v, want %v", name, err == nil, hasFull(tr))
		}
	}
}

// The same trace written twice, to the same name in two directories,
// gives byte-identical trace and sidecar files.
func TestWriteDeterministic(t *testing.T) {
	var files [2][2][]byte
	for i := range 2 {
		tr := richTrace(t) // rebuilt each time: no shared state
		path := filepath.Join(t.TempDir(), "run"+TraceSuffix)
		if err := WriteFile(path, tr); err != nil {
			t.Fatal(err)
		}
		for j, p := range []string{path, SidecarPath(path)} {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files[i][j] = b
		}
	}
	if !bytes.Equal(files[0][0], files[1][0]) || !bytes.Equal(files[0][1], files[1][1]) {
		t.Error("two writes of the same trace differ")
	}
}

func TestWriteRefusesInvalid(t *testing.T) {
	tr := richTrace(t)
	tr.Records[0].Count++
	path := filepath.Join(t.TempDir(), "bad"+TraceSuffix)
	if err := WriteFile(path, tr); !errors.Is(err, ErrInvalid) {
		t.Errorf("WriteFile = %v, want ErrInvalid", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("an invalid trace left a file")
	}
}

func compress(t testing.TB, jsonl []byte) []byte {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(jsonl, nil)
}

// goodLines returns the JSONL of a stats-only trace, one line per element.
func goodLines(t testing.TB) []string {
	tr := record(t, fakeEngine{prompt: 3, steps: 1}, Policy{Slots: []Slot{Q, Logits}, Head: 2})
	b, err := encodeJSONL(tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(string(b), "\n")[:1+len(tr.Records)]
}

func TestReadRejects(t *testing.T) {
	lines := goodLines(t)
	join := func(ls ...string) []byte { return []byte(strings.Join(ls, "")) }
	hdr, rec := lines[0], lines[1:]
	sub := func(s, old, new string) string {
		if !strings.Contains(s, old) {
			t.Fatalf("%q not in %s", old, s)
		}
		return strings.Replace(s, old, new, 1)
	}
	cases := map[string][]byte{
		"empty":           nil,
		"record first":    join(append(slices.Clone(rec), hdr)...),
		"wrong format":    join(append([]string{sub(hdr, `"parity-trace"`, `"other"`)}, rec...)...),
		"future version":  join(append([]string{sub(hdr, `"version":1`, `"version":2`)}, rec...)...),
		"token hash":      join(append([]string{sub(hdr, `"tokens":[100`, `"tokens":[101`)}, rec...)...),
		"fewer records":   join(append([]string{hdr}, rec[:len(rec)-1]...)...),
		"more records":    join(append([]string{hdr}, append(rec, rec[0])...)...),
		"no newline":      bytes.TrimSuffix(join(append([]string{hdr}, rec...)...), []byte("\n")),
		"blank line":      join(append([]string{hdr, "\n"}, rec...)...),
		"trailing data":   join(append([]string{hdr, sub(rec[0], "}\n", "} {}\n")}, rec[1:]...)...),
		"not json":        join(append([]string{hdr, "{\"step\":\n"}, rec[1:]...)...),
		"count":           join(append([]string{hdr, sub(rec[0], `"count":24,`, `"count":23,`)}, rec[1:]...)...),
		"stats not merge": join(append([]string{hdr, sub(rec[0], `"stats":{"count":24,"nan":0,"inf":0,"zero":0,`, `"stats":{"count":24,"nan":0,"inf":0,"zero":1,`)}, rec[1:]...)...),
		"unknown slot":    join(append([]string{hdr, sub(rec[0], `"slot":"q"`, `"slot":"qq"`)}, rec[1:]...)...),
		"global layer":    join(append([]string{hdr, sub(rec[0], `"slot":"q"`, `"slot":"logits"`)}, rec[1:]...)...),
		"future position": join(append([]string{hdr, sub(rec[0], `"positions":"0-2"`, `"positions":"1-3"`)}, rec[1:]...)...),
		"huge positions":  join(append([]string{hdr, sub(rec[0], `"positions":"0-2"`, `"positions":"0-16777215"`)}, rec[1:]...)...),
		"tensor, no file": join(append([]string{hdr, sub(rec[0], `,"head"`, `,"tensor":"s0.l0.q","head"`)}, rec[1:]...)...),
		"sidecar escape":  join(append([]string{sub(hdr, `"records":`, `"tensors":{"file":"../x.gguf","size":1,"sha256":"`+strings.Repeat("0", 64)+`"},"records":`)}, rec...)...),
	}
	// The header announces two records, so it is the duplicate, not the
	// count, that fails.
	cases["duplicate record"] = join(sub(hdr, fmt.Sprintf(`"records":%d`, len(rec)), `"records":2`), rec[0], rec[0])
	for name, jsonl := range cases {
		if _, err := decodeJSONL(bytes.NewReader(jsonl)); err == nil {
			t.Errorf("%s: accepted", name)
		}
		path := filepath.Join(t.TempDir(), "x"+TraceSuffix)
		if err := os.WriteFile(path, compress(t, jsonl), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadFile(path); err == nil {
			t.Errorf("%s: ReadFile accepted", name)
		}
	}
	// The good lines do read, so the cases above fail for their own reason.
	if _, err := decodeJSONL(bytes.NewReader(join(lines...))); err != nil {
		t.Fatal(err)
	}
}

func TestReadErrorPosition(t *testing.T) {
	lines := goodLines(t)
	lines[2] = strings.Replace(lines[2], `"slot":"q"`, `"slot":"x"`, 1)
	_, err := decodeJSONL(bytes.NewReader([]byte(strings.Join(lines, ""))))
	var fe *FormatError
	if !errors.As(err, &fe) || fe.Line != 3 || fe.Off != int64(len(lines[0])+len(lines[1])) {
		t.Fatalf("error %v, want a FormatError at line 3, offset %d", err, len(lines[0])+len(lines[1]))
	}
	if want := fmt.Sprintf("probes: trace line 3 (offset %d): ", fe.Off); !strings.HasPrefix(err.Error(), want) {
		t.Errorf("message %q, want prefix %q", err, want)
	}
}

// A small file that decompresses to a line longer than the limit is
// refused once the decompression budget is spent, not buffered whole; and
// a line longer than the limit is refused however it arrives.
func TestReadLineLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("decompresses 64 MiB")
	}
	bomb := compress(t, bytes.Repeat([]byte{'x'}, maxLine+1))
	if len(bomb) > 1<<16 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	_, err := decodeCompressed(bytes.NewReader(bomb), int64(len(bomb)))
	if !errors.Is(err, errTooLarge) {
		t.Fatalf("bomb: got %v", err)
	}
	_, err = decodeJSONL(io.LimitReader(endless('x'), maxLine+1))
	var fe *FormatError
	if !errors.As(err, &fe) || !strings.Contains(fe.Msg, "longer than") {
		t.Fatalf("long line: got %v", err)
	}
}

// endless reads as an infinite run of b.
type endless byte

func (e endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(e)
	}
	return len(p), nil
}

func TestReadCorruptFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run"+TraceSuffix)
	if err := WriteFile(path, richTrace(t)); err != nil {
		t.Fatal(err)
	}
	trace, _ := os.ReadFile(path)
	sidecar, _ := os.ReadFile(SidecarPath(path))
	restore := func() {
		os.WriteFile(path, trace, 0o644)
		os.WriteFile(SidecarPath(path), sidecar, 0o644)
	}
	for name, corrupt := range map[string]func(){
		"truncated trace":   func() { os.WriteFile(path, trace[:len(trace)/2], 0o644) },
		"flipped trace bit": func() { b := slices.Clone(trace); b[len(b)/2] ^= 1; os.WriteFile(path, b, 0o644) },
		"missing sidecar":   func() { os.Remove(SidecarPath(path)) },
		"tampered sidecar":  func() { b := slices.Clone(sidecar); b[len(b)-1] ^= 1; os.WriteFile(SidecarPath(path), b, 0o644) },
		"other sidecar": func() {
			other := filepath.Join(t.TempDir(), "run"+TraceSuffix)
			tr := richTrace(t)
			tr.Records[0].Full[0]++
			tr.Records[0].Head[0] = tr.Records[0].Full[0]
			tr.Records[0].PerPos[0] = summarize(tr.Records[0].Full[:tr.Records[0].PerToken])
			tr.Records[0].Stats = stats.MergeAll(tr.Records[0].PerPos)
			if err := WriteFile(other, tr); err != nil {
				t.Fatal(err)
			}
			b, _ := os.ReadFile(SidecarPath(other))
			os.WriteFile(SidecarPath(path), b, 0o644)
		},
	} {
		corrupt()
		if _, err := ReadFile(path); err == nil {
			t.Errorf("%s: accepted", name)
		}
		restore()
	}
	if _, err := ReadFile(path); err != nil {
		t.Fatalf("restored files do not read: %v", err)
	}
}

func summarize(xs []float32) stats.Summary {
	var s stats.Summary
	s.AddSlice(xs)
	return s
}

// FuzzReadTrace feeds the decoder JSONL streams, the decompressed form of
// a trace file: mutating compressed bytes would mostly exercise zstd's
// checksums, which klauspost/compress fuzzes itself. Whatever the decoder
// accepts must validate and survive an encode/decode round trip.
func FuzzReadTrace(f *testing.F) {
	for _, tr := range []*Trace{
		richTrace(f),
		record(f, fakeEngine{prompt: 2, steps: 1}, Policy{Slots: []Slot{K, Logits}, Head: 1}),
	} {
		var ref *sidecarRef
		if hasFull(tr) {
			ref = &sidecarRef{File: "x" + SidecarSuffix, Size: 1, SHA256: strings.Repeat("ab", 32)}
		}
		b, err := encodeJSONL(tr, ref)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := decodeJSONL(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := d.trace.Validate(); err != nil {
			t.Fatalf("accepted an invalid trace: %v", err)
		}
		b, err := encodeJSONL(d.trace, d.sidecar)
		if err != nil {
			t.Fatal(err)
		}
		d2, err := decodeJSONL(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("re-encoded trace does not read: %v", err)
		}
		if !tracesEqual(d.trace, d2.trace) {
			t.Fatal("round trip of an accepted trace differs")
		}
	})
}
