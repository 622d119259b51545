package apr

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode/utf8"
)

// Writer builds an APR v2 file the way aprender's AprV2Writer does (see the
// package comment). Add tensors in any order; WriteTo sorts them by name and
// lays their payloads out in that order.
type Writer struct {
	md      Metadata
	tensors []pending
	names   map[string]bool
	err     error
}

type pending struct {
	info TensorInfo
	data []byte
	// produce, when set, makes the payload at write time instead of data
	// (AddTensorFunc).
	produce func() ([]byte, error)
}

// NewWriter starts a file with metadata md. md is encoded when WriteTo runs,
// so changes to what its pointers and Raw map refer to until then show up in
// the file.
func NewWriter(md Metadata) *Writer {
	return &Writer{md: md, names: map[string]bool{}}
}

// AddTensor queues a tensor. data must hold exactly PayloadSize(dt, shape)
// bytes (already quantized for the block types, see QuantizeAPRQ4/Q8); it is
// referenced, not copied, and must stay unchanged until the last WriteTo.
// The name must be 1..MaxNameLen bytes of UTF-8 and not repeat. A tensor
// breaking these rules is not added, and the first such error is returned by
// Err and by every WriteTo.
func (w *Writer) AddTensor(name string, dt DType, shape []int64, data []byte) {
	if err := w.check(name, dt, shape, data); err != nil {
		if w.err == nil {
			w.err = err
		}
		return
	}
	w.names[name] = true
	w.tensors = append(w.tensors, pending{
		info: TensorInfo{Name: name, DType: dt, Shape: slices.Clone(shape), Size: int64(len(data))},
		data: data,
	})
}

// AddTensorFunc queues a tensor whose payload produce makes when WriteTo
// reaches it, so that a file of converted tensors is written holding one
// of them at a time rather than all. produce must return exactly
// PayloadSize(dt, shape) bytes, the same bytes on every call (WriteTo
// calls it once per write); its error, or a wrong length, fails WriteTo.
// The name rules and errors are AddTensor's.
func (w *Writer) AddTensorFunc(name string, dt DType, shape []int64, produce func() ([]byte, error)) {
	size, err := PayloadSize(dt, shape)
	if err == nil {
		err = w.checkName(name, dt)
	}
	if err != nil {
		if w.err == nil {
			w.err = fmt.Errorf("apr: tensor %q: %s", name, strings.TrimPrefix(err.Error(), "apr: "))
		}
		return
	}
	w.names[name] = true
	w.tensors = append(w.tensors, pending{
		info:    TensorInfo{Name: name, DType: dt, Shape: slices.Clone(shape), Size: size},
		produce: produce,
	})
}

// checkName checks the name rules and the dtype.
func (w *Writer) checkName(name string, dt DType) error {
	if len(name) == 0 || len(name) > MaxNameLen || !utf8.ValidString(name) {
		return fmt.Errorf("apr: tensor name %q: want 1..%d bytes of UTF-8", name, MaxNameLen)
	}
	if w.names[name] {
		return fmt.Errorf("apr: duplicate tensor name %q", name)
	}
	if !dt.Valid() {
		return fmt.Errorf("apr: tensor %q: dtype %v cannot be written", name, dt)
	}
	return nil
}

func (w *Writer) check(name string, dt DType, shape []int64, data []byte) error {
	if err := w.checkName(name, dt); err != nil {
		return err
	}
	want, err := PayloadSize(dt, shape)
	if err != nil {
		return fmt.Errorf("apr: tensor %q: %s", name, strings.TrimPrefix(err.Error(), "apr: "))
	}
	if int64(len(data)) != want {
		return fmt.Errorf("apr: tensor %q: %d bytes of data, but %v %v takes %d", name, len(data), dt, shape, want)
	}
	return nil
}

// Err returns the first AddTensor error, or nil.
func (w *Writer) Err() error { return w.err }

// WriteTo writes the whole file to out and returns the bytes written. The
// output depends only on the metadata and the set of tensors, not on the
// order they were added in. WriteTo does not change w; calling it again
// writes the same bytes.
func (w *Writer) WriteTo(out io.Writer) (int64, error) {
	if w.err != nil {
		return 0, w.err
	}
	md, err := w.md.MarshalJSON()
	if err != nil {
		return 0, err
	}
	if len(md) > math.MaxUint32 {
		return 0, fmt.Errorf("apr: metadata is %d bytes, more than a u32 size field holds", len(md))
	}
	if len(w.tensors) > math.MaxUint32 {
		return 0, fmt.Errorf("apr: %d tensors, more than a u32 count holds", len(w.tensors))
	}
	ts := slices.Clone(w.tensors)
	slices.SortFunc(ts, func(a, b pending) int { return strings.Compare(a.info.Name, b.info.Name) })
	var index []byte
	var off int64
	for i := range ts {
		ts[i].info.Offset = off
		index = appendEntry(index, &ts[i].info)
		off += align64(ts[i].info.Size)
	}
	h := Header{
		Magic: [4]byte{'A', 'P', 'R', 0}, Major: 2, Minor: 0, Flags: FlagRowMajor,
		TensorCount:    uint32(len(ts)),
		MetadataOffset: HeaderSize,
		MetadataSize:   uint32(len(md)),
		IndexOffset:    HeaderSize + uint64(align64(int64(len(md)))),
	}
	h.DataOffset = h.IndexOffset + uint64(align64(int64(len(index))))
	h.Checksum = h.ComputeChecksum()

	cw := &crcWriter{w: out, crc: crc32.NewIEEE()}
	hb := h.Bytes()
	cw.write(hb[:])
	cw.padded(md)
	cw.padded(index)
	for _, t := range ts {
		data := t.data
		if t.produce != nil && cw.err == nil {
			if data, err = t.produce(); err != nil {
				return cw.n, fmt.Errorf("apr: tensor %q: %w", t.info.Name, err)
			}
			if int64(len(data)) != t.info.Size {
				return cw.n, fmt.Errorf("apr: tensor %q: produced %d bytes, want %d", t.info.Name, len(data), t.info.Size)
			}
		}
		cw.padded(data)
	}
	if cw.err == nil {
		var foot [footerSize]byte
		binary.LittleEndian.PutUint32(foot[:], cw.crc.Sum32())
		cw.write(foot[:])
	}
	if cw.err != nil {
		return cw.n, fmt.Errorf("apr: write: %w", cw.err)
	}
	return cw.n, nil
}

// appendEntry encodes one index entry (layout in the package comment).
func appendEntry(b []byte, t *TensorInfo) []byte {
	b = binary.LittleEndian.AppendUint16(b, uint16(len(t.Name)))
	b = append(b, t.Name...)
	b = append(b, byte(t.DType), byte(len(t.Shape)))
	for _, d := range t.Shape {
		b = binary.LittleEndian.AppendUint64(b, uint64(d))
	}
	b = binary.LittleEndian.AppendUint64(b, uint64(t.Offset))
	return binary.LittleEndian.AppendUint64(b, uint64(t.Size))
}

// crcWriter counts and checksums what it writes and keeps the first error,
// so the layout code can write unconditionally.
type crcWriter struct {
	w   io.Writer
	crc hash.Hash32
	n   int64
	err error
}

var zeros [Alignment]byte

func (c *crcWriter) write(p []byte) {
	if c.err != nil {
		return
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.crc.Write(p[:n])
	c.err = err
}

// padded writes p and zeros up to the next multiple of Alignment.
func (c *crcWriter) padded(p []byte) {
	c.write(p)
	c.write(zeros[:align64(int64(len(p)))-int64(len(p))])
}

// WriteFile writes w to path atomically: into a temporary file in the same
// directory, synced, then renamed over path. On error path is untouched.
func WriteFile(path string, w *Writer) error {
	return WriteFileContext(context.Background(), path, w)
}

// ctxWriter fails every write once ctx is done, so a long write stops at
// the next buffer flush (a megabyte) when the user interrupts it.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// WriteFileContext is WriteFile that stops when ctx is done: the write
// fails with ctx's error, the temporary file is removed and path is left
// as it was.
func WriteFileContext(ctx context.Context, path string, w *Writer) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("apr: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(ctxWriter{ctx, tmp}, 1<<20)
	if _, err = w.WriteTo(bw); err != nil {
		return err
	}
	if err = bw.Flush(); err == nil {
		if err = tmp.Chmod(0o644); err == nil {
			if err = tmp.Sync(); err == nil {
				err = tmp.Close()
			}
		}
	}
	if err != nil {
		return fmt.Errorf("apr: write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("apr: %w", err)
	}
	return nil
}
