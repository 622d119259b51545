package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/layerwise/parity/probes"
)

// Format is what a report is rendered as (--format).
type Format int

const (
	FormatText Format = iota
	FormatMarkdown
	FormatHTML
	FormatJSON
)

var formatNames = [...]string{FormatText: "text", FormatMarkdown: "markdown", FormatHTML: "html", FormatJSON: "json"}

func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat parses "text", "markdown", "html" or "json".
func ParseFormat(s string) (Format, error) {
	for f, n := range formatNames {
		if s == n {
			return Format(f), nil
		}
	}
	return 0, fmt.Errorf("reports: --format must be text, markdown, html or json, not %q", s)
}

// Write renders d as f. Text takes o; the other formats ignore it (they
// always show every pair).
func Write(w io.Writer, f Format, d *Document, o TextOptions) error {
	switch f {
	case FormatText:
		if d.Kind == "bisect" {
			return Bisection(w, d.bisection(), o)
		}
		return Text(w, d.Result, o)
	case FormatMarkdown:
		return Markdown(w, d)
	case FormatHTML:
		return HTML(w, d)
	case FormatJSON:
		return JSON(w, d)
	}
	return fmt.Errorf("reports: unknown format %d", int(f))
}

// Report directory file names.
const (
	FileMarkdown = "report.md"
	FileHTML     = "report.html"
	FileJSON     = "report.json"
	FileTraceA   = "a" + probes.TraceSuffix
	FileTraceB   = "b" + probes.TraceSuffix
)

// ErrDirNotEmpty means a report directory already holds files and
// overwriting was not asked for.
var ErrDirNotEmpty = errors.New("reports: the report directory is not empty (--force overwrites)")

// DirOptions configure WriteDir.
type DirOptions struct {
	// Force writes into a directory that already holds files, replacing
	// the report's own; anything else there is left alone.
	Force bool
	// A and B, when set, are written beside the report as FileTraceA and
	// FileTraceB (with their full-tensor sidecars), so the report can be
	// re-judged offline with parity diff.
	A, B *probes.Trace
}

// CheckDir returns ErrDirNotEmpty when dir exists, holds anything, and
// force is off; an error when dir exists and is not a directory. Commands
// call it before the work whose result goes there.
func CheckDir(dir string, force bool) error {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("reports: %w", err)
	case !fi.IsDir():
		return fmt.Errorf("reports: %s exists and is not a directory", dir)
	case force:
		return nil
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	if len(ents) > 0 {
		return fmt.Errorf("%w: %s", ErrDirNotEmpty, dir)
	}
	return nil
}

// WriteDir writes the report into dir (created if needed) as FileMarkdown,
// FileHTML and FileJSON, after the traces o names, and records the trace
// names in d.Traces. Every file is written to a temporary file in dir and
// renamed into place, so a failure never leaves a partial file.
func WriteDir(dir string, d *Document, o DirOptions) error {
	if err := CheckDir(dir, o.Force); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	d.Traces = nil
	for _, t := range []struct {
		name string
		tr   *probes.Trace
	}{{FileTraceA, o.A}, {FileTraceB, o.B}} {
		if t.tr == nil {
			continue
		}
		if err := probes.WriteFile(filepath.Join(dir, t.name), t.tr); err != nil {
			return err
		}
		d.Traces = append(d.Traces, t.name)
	}
	for _, f := range []struct {
		name   string
		render func(io.Writer, *Document) error
	}{{FileJSON, JSON}, {FileHTML, HTML}, {FileMarkdown, Markdown}} {
		var b bytes.Buffer
		if err := f.render(&b, d); err != nil {
			return err
		}
		if err := writeAtomic(filepath.Join(dir, f.name), b.Bytes()); err != nil {
			return err
		}
	}
	return nil
}

// writeAtomic writes data through a temporary file renamed to path.
func writeAtomic(path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("reports: writing %s: %w", path, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	return nil
}

// shellQuote joins args into a POSIX shell command line that reproduces
// them exactly: words of safe characters stay bare, anything else is
// single-quoted (a ' inside becomes '\”).
func shellQuote(args []string) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		if a != "" && strings.IndexFunc(a, func(r rune) bool { return !shellSafe(r) }) < 0 {
			b.WriteString(a)
			continue
		}
		b.WriteByte('\'')
		b.WriteString(strings.ReplaceAll(a, "'", `'\''`))
		b.WriteByte('\'')
	}
	return b.String()
}

func shellSafe(r rune) bool {
	return r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r) || strings.ContainsRune("@%+=:,./_-", r))
}

// clean makes a string from a file safe to print on a terminal or inside
// markdown text: control characters (an ESC would let a model path drive
// the terminal) and bidirectional overrides (which reorder what the reader
// sees) become visible \x.. / \u.... escapes, as does U+FFFD (what invalid
// UTF-8 decodes to); line breaks and tabs become spaces.
func clean(s string) string {
	if strings.IndexFunc(s, needsCleaning) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case r < 0x100 && unicode.IsControl(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case needsCleaning(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsCleaning(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError
}
