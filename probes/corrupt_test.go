package probes

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/gguf"
)

// readBytes writes a trace file (and optionally a sidecar) into a fresh
// directory and reads it back.
func readBytes(t *testing.T, trace, sidecar []byte) error {
	t.Helper()
	path := filepath.Join(t.TempDir(), "run"+TraceSuffix)
	if err := os.WriteFile(path, trace, 0o644); err != nil {
		t.Fatal(err)
	}
	if sidecar != nil {
		if err := os.WriteFile(SidecarPath(path), sidecar, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	_, err := ReadFile(path)
	return err
}

// isFormatError reports whether err is a positional format error of the
// trace or, for a sidecar whose GGUF container is broken, of the GGUF
// reader.
func isFormatError(err error) bool {
	_, trace := errors.AsType[*FormatError](err)
	_, container := errors.AsType[*gguf.FormatError](err)
	return trace || container
}

// TestTraceCorruptionClasses damages a trace at each layer of its format
// — the zstd frame (magic, checksum, a cut at every byte, trailing
// garbage), the JSONL (format, version, record count, a cut at every line
// boundary, token hash, records that break their header) and the sidecar
// (missing, cut, replaced, or pinned by a forged header yet not a parity
// tensor file, the wrong version, missing tensors, wrong shapes, a broken
// container) — and checks each is refused with a typed error.
func TestTraceCorruptionClasses(t *testing.T) {
	lines := goodLines(t)
	jsonl := []byte(strings.Join(lines, ""))
	good := compress(t, jsonl)
	if err := readBytes(t, good, nil); err != nil {
		t.Fatal(err)
	}
	frame := map[string][]byte{
		"not zstd":         append([]byte("GGUF"), good[4:]...),
		"content checksum": append(bytes.Clone(good[:len(good)-1]), good[len(good)-1]^1),
		"trailing garbage": append(bytes.Clone(good), "junk"...),
		"second frame":     append(bytes.Clone(good), good...),
	}
	for n := range len(good) {
		frame[fmt.Sprintf("cut at byte %d", n)] = good[:n]
	}
	for name, b := range frame {
		if err := readBytes(t, b, nil); !isFormatError(err) {
			t.Errorf("%s: %v, want a *FormatError", name, err)
		}
	}

	sub := func(i int, old, new string) []byte {
		ls := append([]string(nil), lines...)
		if !strings.Contains(ls[i], old) {
			t.Fatalf("%q not in line %d", old, i+1)
		}
		ls[i] = strings.Replace(ls[i], old, new, 1)
		return []byte(strings.Join(ls, ""))
	}
	records := fmt.Sprintf(`"records":%d`, len(lines)-1)
	text := map[string]struct {
		b       []byte
		invalid bool // the error wraps ErrInvalid: a record or header that breaks the rules
	}{
		"format":       {sub(0, `"parity-trace"`, `"parity-trace2"`), false},
		"version":      {sub(0, `"version":1`, `"version":0`), false},
		"more records": {sub(0, records, fmt.Sprintf(`"records":%d`, len(lines))), false},
		"fewer":        {sub(0, records, `"records":1`), false},
		"token hash":   {sub(0, `"tokens":[100`, `"tokens":[7`), true},
		"prompt_len":   {sub(0, `"prompt_len":3`, `"prompt_len":9`), true},
		"layer":        {sub(1, `"layer":0`, `"layer":2`), true},
		"slot scope":   {sub(1, `"layer":0`, `"layer":-1`), true},
		"per_token":    {sub(1, `"per_token":8`, `"per_token":9`), true},
		"position":     {sub(1, `"positions":"0-2"`, `"positions":"0-3"`), true},
		"stats":        {sub(1, `"count":24,"nan":0`, `"count":24,"nan":1`), true},
		"duplicate":    {[]byte(strings.Join(append(append([]string(nil), lines[:2]...), lines[1:len(lines)-1]...), "")), true},
	}
	for i := 1; i < len(jsonl); i++ {
		if jsonl[i-1] == '\n' && i < len(jsonl) {
			text[fmt.Sprintf("cut after byte %d (a line boundary)", i)] = struct {
				b       []byte
				invalid bool
			}{jsonl[:i], false}
		}
	}
	for name, c := range text {
		err := readBytes(t, compress(t, c.b), nil)
		if !isFormatError(err) || c.invalid != errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want a *FormatError (wrapping ErrInvalid: %v)", name, err, c.invalid)
		}
	}

	testSidecarCorruption(t)
}

func testSidecarCorruption(t *testing.T) {
	tr := richTrace(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "run"+TraceSuffix)
	if err := WriteFile(path, tr); err != nil {
		t.Fatal(err)
	}
	trace, _ := os.ReadFile(path)
	sidecar, _ := os.ReadFile(SidecarPath(path))
	if err := readBytes(t, trace, sidecar); err != nil {
		t.Fatal(err)
	}
	if err := readBytes(t, trace, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing sidecar: %v", err)
	}
	g, err := gguf.Parse(sidecar)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 4, 24, int(g.DataOffset), int(g.DataOffset) + 4, len(sidecar) - 1} {
		if err := readBytes(t, trace, sidecar[:n]); !isFormatError(err) {
			t.Errorf("sidecar cut at %d: %v", n, err)
		}
	}

	// Forged headers pin other sidecars by their true size and hash, so
	// the checks behind the hash are reached.
	forged := func(sc []byte) []byte {
		sum := sha256.Sum256(sc)
		b, err := encodeJSONL(tr, &sidecarRef{File: filepath.Base(SidecarPath(path)), Size: int64(len(sc)), SHA256: hex.EncodeToString(sum[:])})
		if err != nil {
			t.Fatal(err)
		}
		return compress(t, b)
	}
	rewrite := func(edit func(w *gguf.Writer, name string, ti *gguf.TensorInfo) bool, kvs ...gguf.KV) []byte {
		w := gguf.NewWriter(3)
		for _, kv := range kvs {
			w.AddKV(kv.Key, kv.Value)
		}
		for i := range g.Tensors {
			ti := &g.Tensors[i]
			if edit == nil || !edit(w, ti.Name, ti) {
				w.AddTensor(ti.Name, ti.Type, ti.Dims, g.TensorData(ti))
			}
		}
		var buf bytes.Buffer
		if _, err := w.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	kind := gguf.KV{Key: sidecarKindKey, Value: gguf.String(sidecarKind)}
	version := gguf.KV{Key: sidecarVersionKey, Value: gguf.Uint32(FormatVersion)}
	first := g.Tensors[0].Name
	for name, sc := range map[string][]byte{
		"not a parity file": rewrite(nil, version),
		"other version":     rewrite(nil, kind, gguf.KV{Key: sidecarVersionKey, Value: gguf.Uint32(FormatVersion + 1)}),
		"tensor missing": rewrite(func(_ *gguf.Writer, n string, _ *gguf.TensorInfo) bool {
			return n == first
		}, kind, version),
		"tensor reshaped": rewrite(func(w *gguf.Writer, n string, ti *gguf.TensorInfo) bool {
			if n != first {
				return false
			}
			w.AddTensor(n, ggml.F32, []int64{ti.Dims[0] * ti.Dims[1]}, g.TensorData(ti))
			return true
		}, kind, version),
		"tensor f16": rewrite(func(w *gguf.Writer, n string, ti *gguf.TensorInfo) bool {
			if n != first {
				return false
			}
			w.AddTensor(n, ggml.F16, ti.Dims, g.TensorData(ti)[:len(g.TensorData(ti))/2])
			return true
		}, kind, version),
		"tensor values changed": rewrite(func(w *gguf.Writer, n string, ti *gguf.TensorInfo) bool {
			if n != first {
				return false
			}
			w.AddTensor(n, ti.Type, ti.Dims, bytes.Repeat([]byte{0x3f}, len(g.TensorData(ti))))
			return true
		}, kind, version),
		"broken container": append([]byte("GGUF\x03\x00\x00\x00"), bytes.Repeat([]byte{0xff}, 64)...),
	} {
		err := readBytes(t, forged(sc), sc)
		if !isFormatError(err) {
			t.Errorf("%s: %v, want a format error", name, err)
		}
	}
}
