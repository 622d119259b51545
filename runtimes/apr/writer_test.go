package apr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// TestRoundTrip writes a model, reads it back, compares everything, then
// writes what was read and demands the same bytes.
func TestRoundTrip(t *testing.T) {
	md := sampleMetadata(t)
	ts := sampleTensors()
	first := writeModel(t, md, ts)

	f, err := Parse(first)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(f.Metadata, md) {
		t.Errorf("metadata changed:\n got %+v\nwant %+v", f.Metadata, md)
	}
	if len(f.Tensors) != len(ts) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(ts))
	}
	if !slices.IsSortedFunc(f.Tensors, func(a, b TensorInfo) int { return strings.Compare(a.Name, b.Name) }) {
		t.Error("index not sorted")
	}
	for _, s := range ts {
		ti, ok := f.Tensor(s.name)
		if !ok {
			t.Fatalf("tensor %q missing", s.name)
		}
		if ti.DType != s.dt || !slices.Equal(ti.Shape, s.shape) || !bytes.Equal(f.TensorData(ti), s.data) {
			t.Errorf("tensor %q: got %v %v %d bytes", s.name, ti.DType, ti.Shape, ti.Size)
		}
		if abs := int64(f.Header.DataOffset) + ti.Offset; abs%Alignment != 0 {
			t.Errorf("tensor %q at %d, not 64-aligned", s.name, abs)
		}
	}
	if f.Header.IndexOffset%Alignment != 0 || f.Header.DataOffset%Alignment != 0 {
		t.Errorf("sections not aligned: %+v", f.Header)
	}
	tok, err := f.Metadata.Tokenizer()
	if err != nil || tok == nil || tok.Vocabulary[4] != "<&>\u2028" || tok.Scores[2] != -1e-7 {
		t.Errorf("tokenizer = %+v, %v", tok, err)
	}

	// Rewrite from what was read, tensors added in reverse order.
	w := NewWriter(f.Metadata)
	for i := len(f.Tensors) - 1; i >= 0; i-- {
		ti := &f.Tensors[i]
		w.AddTensor(ti.Name, ti.DType, ti.Shape, f.TensorData(ti))
	}
	var second bytes.Buffer
	if _, err := w.WriteTo(&second); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second.Bytes()) {
		t.Fatal("second write differs from the first")
	}
	// WriteTo leaves the Writer unchanged.
	var third bytes.Buffer
	if _, err := w.WriteTo(&third); err != nil || !bytes.Equal(first, third.Bytes()) {
		t.Fatalf("third write differs (err %v)", err)
	}
}

func TestWriteFileOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.apr")
	md := sampleMetadata(t)
	w := NewWriter(md)
	for _, s := range sampleTensors() {
		w.AddTensor(s.name, s.dt, s.shape, s.data)
	}
	if err := WriteFile(path, w); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, w); err != nil { // over an existing file
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temp files left behind: %v", entries)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sampleTensors() {
		ti, _ := f.Tensor(s.name)
		if !bytes.Equal(f.TensorData(ti), s.data) {
			t.Errorf("%s: data differs after Open", s.name)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	if d := f.TensorData(&f.Tensors[0]); d != nil {
		t.Error("TensorData after Close should be nil")
	}

	bad := NewWriter(md)
	bad.AddTensor("x", F32, []int64{2}, []byte{1})
	if err := WriteFile(path, bad); err == nil {
		t.Fatal("WriteFile with a bad tensor succeeded")
	}
	if f, err := Open(path); err != nil {
		t.Fatal("failed WriteFile damaged the existing file:", err)
	} else {
		f.Close()
	}
	if _, err := Open(filepath.Join(dir, "missing.apr")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open(missing) = %v", err)
	}
	empty := filepath.Join(dir, "empty.apr")
	os.WriteFile(empty, nil, 0o644)
	if _, err := Open(empty); err == nil {
		t.Error("Open(empty file) succeeded")
	}
}

func TestWriterRejects(t *testing.T) {
	md := Metadata{ModelType: "x"}
	for _, tc := range []struct {
		name  string
		tname string
		dt    DType
		shape []int64
		data  []byte
		want  string
	}{
		{"empty name", "", F32, []int64{1}, make([]byte, 4), "tensor name"},
		{"long name", strings.Repeat("n", MaxNameLen+1), F32, []int64{1}, make([]byte, 4), "tensor name"},
		{"bad utf8 name", "a\xffb", F32, []int64{1}, make([]byte, 4), "tensor name"},
		{"colliding dtype", "t", DType(8), []int64{32}, make([]byte, 34), "cannot be written"},
		{"unknown dtype", "t", DType(200), []int64{1}, make([]byte, 4), "cannot be written"},
		{"no dims", "t", F32, nil, nil, "dimensions"},
		{"nine dims", "t", F32, []int64{1, 1, 1, 1, 1, 1, 1, 1, 1}, make([]byte, 4), "dimensions"},
		{"zero dim", "t", F32, []int64{3, 0}, nil, "dimension 1 is 0"},
		{"short data", "t", F32, []int64{3}, make([]byte, 11), "takes 12"},
		{"q4k row padding", "t", Q4_K, []int64{2, 300}, make([]byte, 3*144), "takes 576"},
		{"aprq8 no scale", "t", APRQ8, []int64{4}, make([]byte, 4), "takes 8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := NewWriter(md)
			w.AddTensor("ok", F32, []int64{1}, make([]byte, 4))
			w.AddTensor(tc.tname, tc.dt, tc.shape, tc.data)
			w.AddTensor("later", F32, []int64{1}, make([]byte, 4))
			if err := w.Err(); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "apr: ") {
				t.Fatalf("Err() = %v, want it to mention %q", err, tc.want)
			}
			if _, err := w.WriteTo(&bytes.Buffer{}); err == nil {
				t.Fatal("WriteTo succeeded")
			}
		})
	}
	w := NewWriter(md)
	w.AddTensor("t", F32, []int64{1}, make([]byte, 4))
	w.AddTensor("t", F32, []int64{1}, make([]byte, 4))
	if err := w.Err(); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate name: %v", err)
	}

	for _, bad := range []Metadata{
		{ModelType: "x", Raw: map[string]json.RawMessage{"num_hidden_layers": []byte("2")}},
		{ModelType: "x", Raw: map[string]json.RawMessage{"hidden_size": []byte("2")}},
		{ModelType: "x", Raw: map[string]json.RawMessage{"k": []byte("{")}},
		{ModelType: "x", RopeTheta: new(float32(0)), RMSNormEps: new(float32(math.Inf(1)))},
		{ModelType: "bad \xff utf8"},
	} {
		if _, err := NewWriter(bad).WriteTo(&bytes.Buffer{}); err == nil {
			t.Errorf("metadata %+v written without error", bad)
		}
	}
}

// failWriter fails after n bytes.
type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("disk full")
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteToError(t *testing.T) {
	w := NewWriter(sampleMetadata(t))
	for _, s := range sampleTensors() {
		w.AddTensor(s.name, s.dt, s.shape, s.data)
	}
	n, err := w.WriteTo(&failWriter{n: 1000})
	if err == nil || n != 1000 || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("WriteTo = %d, %v", n, err)
	}
}

// TestAddTensorFunc: payloads made at write time give the bytes of the
// same tensors added whole, each producer runs once per write, and a
// producer's error or wrong length fails the write naming the tensor.
func TestAddTensorFunc(t *testing.T) {
	md := sampleMetadata(t)
	ts := sampleTensors()
	want := writeModel(t, md, ts)
	w := NewWriter(md)
	calls := 0
	for _, s := range ts {
		w.AddTensorFunc(s.name, s.dt, s.shape, func() ([]byte, error) {
			calls++
			return slices.Clone(s.data), nil
		})
	}
	var got bytes.Buffer
	if _, err := w.WriteTo(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) || calls != len(ts) {
		t.Fatalf("lazy write differs from the eager one (%d producer calls for %d tensors)", calls, len(ts))
	}

	s := ts[0]
	for _, c := range []struct {
		produce func() ([]byte, error)
		msg     string
	}{
		{func() ([]byte, error) { return nil, errors.New("encoder broke") }, "encoder broke"},
		{func() ([]byte, error) { return s.data[:len(s.data)-1], nil }, "produced"},
	} {
		w := NewWriter(md)
		w.AddTensorFunc(s.name, s.dt, s.shape, c.produce)
		if _, err := w.WriteTo(io.Discard); err == nil || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), s.name) {
			t.Errorf("WriteTo = %v, want an error about %q naming %q", err, c.msg, s.name)
		}
	}
	w = NewWriter(md)
	w.AddTensorFunc(s.name, s.dt, s.shape, func() ([]byte, error) { return s.data, nil })
	w.AddTensorFunc(s.name, s.dt, s.shape, func() ([]byte, error) { return s.data, nil })
	if w.Err() == nil {
		t.Error("duplicate name accepted by AddTensorFunc")
	}
}

// TestWriteFileContext: a write cancelled part-way (here by a payload
// producer, as Ctrl-C would at any moment) fails with the context's error
// and leaves neither the file nor a temporary one; a file already at the
// path is left as it was.
func TestWriteFileContext(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.apr")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewWriter(sampleMetadata(t))
	big := make([]byte, 4<<20) // more than the write buffer, so a write reaches the file after the cancel
	w.AddTensorFunc("a.weight", F32, []int64{int64(len(big) / 4)}, func() ([]byte, error) {
		cancel()
		return big, nil
	})
	err := WriteFileContext(ctx, path, w)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteFileContext = %v, want context.Canceled", err)
	}
	es, _ := os.ReadDir(dir)
	if len(es) != 1 {
		t.Errorf("directory holds %d entries after the cancelled write, want only the old file", len(es))
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Errorf("the old file was changed: %q", b)
	}
}
