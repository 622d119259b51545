package probes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/klauspost/compress/zstd"

	"github.com/layerwise/parity/stats"
)

// File format constants; see the package documentation.
const (
	FormatName    = "parity-trace"
	FormatVersion = 1

	// TraceSuffix and SidecarSuffix name a trace and its sidecar:
	// NAME.trace.jsonl.zst and NAME.tensors.gguf.
	TraceSuffix   = ".trace.jsonl.zst"
	SidecarSuffix = ".tensors.gguf"
)

// Reader limits. They bound what a hostile file can make the reader
// allocate; real traces are far below them. Trace JSONL compresses 4-8×
// (per-position statistics are mostly distinct floats), so a ratio of 1024
// refuses only crafted streams, and a small file cannot claim more than
// a few MiB of decompressed text.
const (
	maxLine         = 64 << 20 // bytes in one decompressed JSONL line
	minDecompressed = 1 << 20  // decompressed bytes always allowed
	maxRatio        = 1024     // decompressed bytes allowed per compressed byte beyond that
	zstdWindow      = 1 << 23  // encoder window; the decoder accepts twice that
)

// FormatError reports a malformed trace file: the 1-based line of the
// decompressed JSONL stream (0 when the problem is not in one line) and the
// byte offset of that line's start in the decompressed stream.
type FormatError struct {
	Line int
	Off  int64
	Msg  string
	Err  error // underlying cause, if any (e.g. ErrInvalid)
}

func (e *FormatError) Error() string {
	if e.Line == 0 {
		return "probes: trace: " + e.Msg
	}
	return fmt.Sprintf("probes: trace line %d (offset %d): %s", e.Line, e.Off, e.Msg)
}

func (e *FormatError) Unwrap() error { return e.Err }

// SidecarPath returns the sidecar path for a trace path: NAME.tensors.gguf
// for NAME.trace.jsonl.zst, else the path with SidecarSuffix appended.
func SidecarPath(tracePath string) string {
	return strings.TrimSuffix(tracePath, TraceSuffix) + SidecarSuffix
}

// wireHeader is line 1: the file's own fields, then the Header's.
type wireHeader struct {
	Format  string      `json:"format"`
	Version int         `json:"version"`
	Records int         `json:"records"`
	Tensors *sidecarRef `json:"tensors,omitempty"`
	Header
}

// sidecarRef names the full-tensor sidecar and pins its content.
type sidecarRef struct {
	File   string `json:"file"` // base name, in the trace's directory
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// WriteFile validates t and writes it to path (conventionally ending in
// TraceSuffix). Records with full tensors go to a sidecar at
// SidecarPath(path). Both files are written completely to temporary files
// in the same directory and only then renamed into place, sidecar first,
// so a failure leaves neither a partial file nor a new file beside an old
// one; the trace pins its sidecar's size and SHA-256, so even a crash
// between the two renames is refused on reading rather than misread. The
// same trace always gives the same bytes.
func WriteFile(path string, t *Trace) (err error) {
	if err := t.Validate(); err != nil {
		return err
	}
	var (
		ref   *sidecarRef
		scTmp string
	)
	if hasFull(t) {
		var size int64
		var sum string
		if scTmp, size, sum, err = writeSidecar(SidecarPath(path), t); err != nil {
			return err
		}
		defer func() {
			if err != nil {
				os.Remove(scTmp)
			}
		}()
		ref = &sidecarRef{File: filepath.Base(SidecarPath(path)), Size: size, SHA256: sum}
	}
	jsonl, err := encodeJSONL(t, ref)
	if err != nil {
		return err
	}
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(zstd.SpeedDefault),
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(zstdWindow),
		zstd.WithEncoderCRC(true))
	if err != nil {
		return fmt.Errorf("probes: zstd: %w", err)
	}
	defer enc.Close()
	tmp, err := writeTemp(path, func(w io.Writer) error {
		_, err := w.Write(enc.EncodeAll(jsonl, nil))
		return err
	})
	if err != nil {
		return err
	}
	if scTmp != "" {
		if err = os.Rename(scTmp, SidecarPath(path)); err != nil {
			os.Remove(tmp)
			return fmt.Errorf("probes: %w", err)
		}
	}
	if err = os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("probes: %w", err)
	}
	return nil
}

// writeTemp writes a complete file, mode 0644, under a hidden temporary
// name beside path and returns that name; on error nothing is left.
func writeTemp(path string, write func(io.Writer) error) (name string, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return "", fmt.Errorf("probes: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return "", fmt.Errorf("probes: writing %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return "", fmt.Errorf("probes: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return "", fmt.Errorf("probes: %w", err)
	}
	return tmp.Name(), nil
}

// encodeJSONL returns the uncompressed file: header line, record lines.
func encodeJSONL(t *Trace, ref *sidecarRef) ([]byte, error) {
	var buf bytes.Buffer
	e := json.NewEncoder(&buf)
	e.SetEscapeHTML(false)
	if err := e.Encode(wireHeader{FormatName, FormatVersion, len(t.Records), ref, t.Header}); err != nil {
		return nil, fmt.Errorf("probes: encoding header: %w", err)
	}
	b := buf.Bytes()
	for i := range t.Records {
		b = appendRecord(b, &t.Records[i])
		b = append(b, '\n')
	}
	return b, nil
}

// appendRecord writes one record line (without the newline); keys in a
// fixed order, optional keys omitted when empty.
func appendRecord(b []byte, r *Record) []byte {
	b = append(b, `{"step":`...)
	b = strconv.AppendInt(b, int64(r.Step), 10)
	b = append(b, `,"layer":`...)
	b = strconv.AppendInt(b, int64(r.Layer), 10)
	b = append(b, `,"slot":"`...)
	b = append(b, r.Slot.String()...)
	b = append(b, `","positions":"`...)
	b = appendRuns(b, r.Positions)
	b = append(b, `","per_token":`...)
	b = strconv.AppendInt(b, int64(r.PerToken), 10)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, r.Count, 10)
	if !r.Partial {
		b = append(b, `,"stats":`...)
		b = r.Stats.AppendJSON(b)
	}
	if len(r.PerPos) > 0 {
		b = append(b, `,"per_pos":[`...)
		for i, s := range r.PerPos {
			if i > 0 {
				b = append(b, ',')
			}
			b = s.AppendJSON(b)
		}
		b = append(b, ']')
	}
	if len(r.Head) > 0 {
		b = append(b, `,"head":[`...)
		for i, v := range r.Head {
			if i > 0 {
				b = append(b, ',')
			}
			b = stats.AppendFloat(b, float64(v), 32)
		}
		b = append(b, ']')
	}
	if r.Full != nil {
		b = append(b, `,"tensor":"`...)
		b = append(b, tensorName(r.Key())...)
		b = append(b, '"')
	}
	if r.Partial {
		b = append(b, `,"partial":true`...)
	}
	if r.Sum != nil {
		b = append(b, `,"sum":`...)
		b = stats.AppendFloat(b, *r.Sum, 64)
	}
	if len(r.Known) > 0 {
		b = append(b, `,"known":[`...)
		for i, kv := range r.Known {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, '[')
			b = strconv.AppendInt(b, kv.Index, 10)
			b = append(b, ',')
			b = stats.AppendFloat(b, float64(kv.Value), 32)
			b = append(b, ']')
		}
		b = append(b, ']')
	}
	if r.Derived {
		b = append(b, `,"derived":true`...)
	}
	if r.Note != "" {
		note, _ := json.Marshal(r.Note) // a string always marshals
		b = append(b, `,"note":`...)
		b = append(b, note...)
	}
	return append(b, '}')
}

// ReadFile reads and validates the trace at path, and the full tensors of
// its sidecar if the header names one (checking the sidecar's size and
// SHA-256 first). Any malformation is an error, never a panic; the memory
// it may allocate is bounded by a constant factor of the decompressed size,
// which is itself bounded (see the package documentation).
func ReadFile(path string) (*Trace, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("probes: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("probes: %w", err)
	}
	d, err := decodeCompressed(f, st.Size())
	if err != nil {
		return nil, err
	}
	if d.sidecar != nil {
		if err := readSidecar(filepath.Dir(path), d); err != nil {
			return nil, err
		}
	}
	return d.trace, nil
}

// decoded is a trace as read from the JSONL stream, before the sidecar:
// tensors[i] is record i's tensor name, or "".
type decoded struct {
	trace   *Trace
	sidecar *sidecarRef
	tensors []string
}

// decodeCompressed decompresses a zstd stream of compressedSize bytes and
// decodes it, allowing at most minDecompressed + maxRatio·compressedSize
// decompressed bytes. The decoder's window is capped by the same budget
// (rounded up to a power of two):
// it allocates the window a frame header declares before reading any data,
// and a window larger than all the bytes the reader will take is never
// needed by an honest file.
func decodeCompressed(r io.Reader, compressedSize int64) (*decoded, error) {
	limit := int64(minDecompressed)
	if compressedSize < (math.MaxInt64-limit)/maxRatio {
		limit += maxRatio * compressedSize
	}
	// A power of two, so that the window another zstd writer picks for a
	// stream of unknown size (2 MiB at zstd's default level) still fits.
	window := min(uint64(1)<<bits.Len64(uint64(limit-1)), 2*zstdWindow)
	zr, err := zstd.NewReader(r,
		zstd.WithDecoderConcurrency(1),
		zstd.WithDecoderMaxWindow(window),
		zstd.WithDecoderMaxMemory(window))
	if err != nil {
		return nil, fmt.Errorf("probes: zstd: %w", err)
	}
	defer zr.Close()
	return decodeJSONL(&limitReader{r: zr, n: limit})
}

// limitReader fails, rather than stopping quietly, past its budget, so an
// over-long stream is an error and not a truncated trace.
type limitReader struct {
	r io.Reader
	n int64
}

var errTooLarge = errors.New("decompressed trace exceeds the size limit")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errTooLarge
	}
	p = p[:min(int64(len(p)), l.n)]
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// lineReader yields '\n'-terminated lines with their number and offset.
type lineReader struct {
	br   *bufio.Reader
	line int
	off  int64 // offset of the line last returned
	next int64 // offset of the line after it
	buf  []byte
}

// read returns the next line without its newline, or io.EOF at a clean end.
func (lr *lineReader) read() ([]byte, error) {
	lr.buf = lr.buf[:0]
	lr.line++
	lr.off = lr.next
	for {
		chunk, err := lr.br.ReadSlice('\n')
		if len(lr.buf)+len(chunk) > maxLine {
			return nil, lr.errf(nil, "line longer than %d bytes", maxLine)
		}
		// Double the buffer rather than let append grow it by 1.25×,
		// which would allocate five times a long line's length in all.
		if cap(lr.buf)-len(lr.buf) < len(chunk) {
			lr.buf = slices.Grow(lr.buf, max(len(lr.buf), len(chunk)))
		}
		lr.buf = append(lr.buf, chunk...)
		switch {
		case err == nil:
			lr.next += int64(len(lr.buf))
			return lr.buf[:len(lr.buf)-1], nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == io.EOF && len(lr.buf) == 0:
			return nil, io.EOF
		case err == io.EOF:
			return nil, lr.errf(io.ErrUnexpectedEOF, "last line has no newline")
		default:
			return nil, lr.errf(err, "%v", err)
		}
	}
}

func (lr *lineReader) errf(cause error, format string, args ...any) *FormatError {
	return &FormatError{Line: lr.line, Off: lr.off, Msg: fmt.Sprintf(format, args...), Err: cause}
}
