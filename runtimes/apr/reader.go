package apr

import (
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"
	"unicode/utf8"
)

// File is a parsed APR v2 file. Its tensor views point into the bytes it was
// parsed from (the mapping, for Open), so they are valid until Close.
type File struct {
	Header   Header
	Metadata Metadata
	// MetadataJSON is the metadata section exactly as stored, for keys or
	// spellings Metadata does not keep. It is a view, valid until Close.
	MetadataJSON []byte
	// Tensors is the index in file order, which Parse has checked is
	// strictly increasing by name.
	Tensors []TensorInfo

	data   []byte
	byName map[string]int
	unmap  func() error
}

// TensorInfo is one tensor index entry.
type TensorInfo struct {
	Name  string
	DType DType
	// Shape is as stored: row-major, outermost first, so a weight matrix
	// is [out, in] (HF order, the reverse of GGUF's ne[]).
	Shape []int64
	// Offset is the payload's position relative to Header.DataOffset.
	Offset int64
	// Size is the payload's exact length, without padding; Parse has
	// checked it equals PayloadSize(DType, Shape).
	Size int64
}

// Elements returns the product of the shape.
func (t *TensorInfo) Elements() int64 { return numElements(t.Shape) }

// Tensor looks a tensor up by name.
func (f *File) Tensor(name string) (*TensorInfo, bool) {
	i, ok := f.byName[name]
	if !ok {
		return nil, false
	}
	return &f.Tensors[i], true
}

// TensorData returns the tensor's payload bytes without copying (capacity
// capped, so appending cannot clobber a neighbour). It returns nil for a
// TensorInfo that does not lie inside the file, or after Close.
func (f *File) TensorData(t *TensorInfo) []byte {
	start := int64(f.Header.DataOffset) + t.Offset
	if t.Offset < 0 || t.Size < 0 || start < 0 || start > int64(len(f.data)) || t.Size > int64(len(f.data))-start {
		return nil
	}
	return f.data[start : start+t.Size : start+t.Size]
}

// Close releases the file mapping, if any. Tensor data and MetadataJSON
// must not be used afterwards. Close is idempotent.
func (f *File) Close() error {
	f.data, f.MetadataJSON = nil, nil
	if f.unmap == nil {
		return nil
	}
	u := f.unmap
	f.unmap = nil
	return u()
}

// Open maps the file at path read-only (reading it instead where mapping
// is unavailable) and parses it like Parse. Close releases the mapping.
func Open(path string) (*File, error) {
	data, unmap, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("apr: %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		unmap()
		return nil, err
	}
	f.unmap = unmap
	return f, nil
}

// Parse validates data as an APR v2 file and indexes it. The returned File
// keeps data (no copy): data must not change while the File is in use.
//
// Everything is checked before Parse returns: magic, version, refused flags,
// header CRC (when non-zero), section bounds and order, metadata JSON and
// field types, every index entry (name 1..256 bytes of UTF-8, known dtype,
// 1..8 dims each ≥ 1, size = PayloadSize, payload inside the data section),
// names strictly increasing, payloads not overlapping, and finally the
// footer CRC (present when the header CRC is non-zero). Errors are
// *FormatError values.
func Parse(data []byte) (*File, error) {
	size := int64(len(data))
	if size < HeaderSize {
		return nil, formatErr(size, ErrLayout, "file is %d bytes, shorter than the %d-byte header", size, HeaderSize)
	}
	h := decodeHeader(data)
	if err := checkHeader(&h); err != nil {
		return nil, err
	}
	// end is where tensor data must stop: the footer, when there is one.
	end := size
	if h.Checksum != 0 {
		if size < HeaderSize+footerSize {
			return nil, formatErr(size, ErrLayout, "checksummed file has no room for the footer CRC")
		}
		end -= footerSize
	}
	if h.MetadataOffset < HeaderSize || h.MetadataOffset > uint64(end) {
		return nil, formatErr(12, ErrLayout, "metadata offset %d outside [%d, %d]", h.MetadataOffset, HeaderSize, end)
	}
	mdOff := int64(h.MetadataOffset)
	mdEnd := mdOff + int64(h.MetadataSize)
	if mdEnd > end {
		return nil, formatErr(20, ErrLayout, "metadata [%d, %d) runs past the end of the data region at %d", mdOff, mdEnd, end)
	}
	if h.IndexOffset < uint64(mdEnd) || h.IndexOffset > uint64(end) {
		return nil, formatErr(24, ErrLayout, "tensor index offset %d outside [%d, %d] (after metadata, inside the file)", h.IndexOffset, mdEnd, end)
	}
	idxOff := int64(h.IndexOffset)
	if h.DataOffset < uint64(idxOff) || h.DataOffset > uint64(end) {
		return nil, formatErr(32, ErrLayout, "data offset %d outside [%d, %d] (after the index, inside the file)", h.DataOffset, idxOff, end)
	}
	dataOff := int64(h.DataOffset)
	if uint64(h.TensorCount) > uint64(dataOff-idxOff)/minEntrySize {
		return nil, formatErr(8, ErrLayout, "tensor count %d cannot fit in the %d-byte index region", h.TensorCount, dataOff-idxOff)
	}

	f := &File{Header: h, data: data, MetadataJSON: data[mdOff:mdEnd:mdEnd]}
	if err := f.Metadata.UnmarshalJSON(f.MetadataJSON); err != nil {
		off := mdOff
		if se, ok := errors.AsType[*json.SyntaxError](err); ok && se.Offset > 0 {
			off += se.Offset - 1 // encoding/json counts the offending byte as read
		}
		return nil, &FormatError{Off: off, Msg: strings.TrimPrefix(err.Error(), "apr: "), Err: errors.Join(ErrMetadata, err)}
	}

	p := indexParser{buf: data[:dataOff], pos: idxOff, dataLen: end - dataOff, maxElems: min(2*size+Alignment, 1<<55)}
	f.Tensors = make([]TensorInfo, 0, h.TensorCount)
	f.byName = make(map[string]int, h.TensorCount)
	for i := range int(h.TensorCount) {
		start := p.pos
		t, err := p.entry()
		if err != nil {
			return nil, err
		}
		if i > 0 {
			switch prev := f.Tensors[i-1].Name; {
			case t.Name == prev:
				return nil, formatErr(start, ErrDuplicateTensor, "duplicate tensor name %q", t.Name)
			case t.Name < prev:
				return nil, formatErr(start, ErrUnsorted, "tensor index not sorted: %q follows %q", t.Name, prev)
			}
		}
		f.byName[t.Name] = i
		f.Tensors = append(f.Tensors, t)
	}
	if err := checkOverlaps(f.Tensors, dataOff); err != nil {
		return nil, err
	}
	if h.Checksum != 0 {
		stored := binary.LittleEndian.Uint32(data[end:])
		if c := crc32.ChecksumIEEE(data[:end]); c != stored {
			return nil, formatErr(end, ErrFooterChecksum, "footer checksum mismatch: stored %#08x, computed %#08x over bytes [0, %d)", stored, c, end)
		}
	}
	return f, nil
}

// checkHeader validates what the header says on its own: magic, version,
// checksum, flags.
func checkHeader(h *Header) error {
	m := h.Magic
	if string(m[:3]) != "APR" {
		return formatErr(0, ErrBadMagic, "bad magic % x, want \"APR\\x00\"", m[:])
	}
	switch m[3] {
	case 0, '2':
	case '1', 'N':
		return formatErr(0, ErrV1, "magic %q is the APR v1 format, not supported", m[:])
	default:
		return formatErr(0, ErrBadMagic, "bad magic % x, want \"APR\\x00\"", m[:])
	}
	if h.Major != 2 {
		return formatErr(4, ErrBadVersion, "format version %d.%d, want 2.x", h.Major, h.Minor)
	}
	if h.Checksum != 0 {
		if c := h.ComputeChecksum(); c != h.Checksum {
			return formatErr(40, ErrHeaderChecksum, "header checksum mismatch: stored %#08x, computed %#08x", h.Checksum, c)
		}
	}
	for _, r := range []struct {
		bit  Flags
		what string
	}{
		{FlagEncrypted, "encrypted payload"},
		{FlagLZ4, "LZ4-compressed payload"},
		{FlagZstd, "zstd-compressed payload"},
		{FlagColumnMajor, "column-major layout flag (aprender LAYOUT-002: a dirty import)"},
	} {
		if h.Flags&r.bit != 0 {
			return formatErr(6, ErrUnsupported, "flags %#04x (%v): %s not supported", uint16(h.Flags), h.Flags, r.what)
		}
	}
	return nil
}

// indexParser walks the index entries. buf ends at the data section, so an
// entry cannot run into tensor data.
type indexParser struct {
	buf      []byte
	pos      int64
	dataLen  int64 // length of the data section (to the footer)
	maxElems int64 // more elements than the file could hold: every dtype takes ≥ 9/16 byte each
}

func (p *indexParser) need(n int64, what string) error {
	if n > int64(len(p.buf))-p.pos {
		return formatErr(p.pos, ErrLayout, "tensor index entry: %s (%d bytes) runs past the data section start at %d", what, n, len(p.buf))
	}
	return nil
}

func (p *indexParser) u64() uint64 {
	v := binary.LittleEndian.Uint64(p.buf[p.pos:])
	p.pos += 8
	return v
}

func (p *indexParser) entry() (TensorInfo, error) {
	var t TensorInfo
	if err := p.need(2, "name length"); err != nil {
		return t, err
	}
	nameLen := int64(binary.LittleEndian.Uint16(p.buf[p.pos:]))
	if nameLen == 0 || nameLen > MaxNameLen {
		return t, formatErr(p.pos, ErrBadEntry, "tensor name length %d, want 1..%d", nameLen, MaxNameLen)
	}
	p.pos += 2
	if err := p.need(nameLen+2, "name, dtype and ndim"); err != nil {
		return t, err
	}
	name := p.buf[p.pos : p.pos+nameLen]
	if !utf8.Valid(name) {
		return t, formatErr(p.pos, ErrBadEntry, "tensor name %q is not valid UTF-8", name)
	}
	t.Name = string(name)
	p.pos += nameLen
	dtPos := p.pos
	dt := DType(p.buf[p.pos])
	ndim := int64(p.buf[p.pos+1])
	p.pos += 2
	if dt != legacyAPRQ4 && dt != legacyAPRQ8 && !dt.Valid() {
		return t, formatErr(dtPos, ErrBadDType, "tensor %q: dtype byte %d not supported (want 0, 1, 12, 14, 30, 128 or 129; 2..9 collide with ggml ids)", t.Name, uint8(dt))
	}
	if ndim == 0 || ndim > MaxDims {
		return t, formatErr(dtPos+1, ErrBadEntry, "tensor %q: %d dimensions, want 1..%d", t.Name, ndim, MaxDims)
	}
	if err := p.need(8*ndim+16, "dims, offset and size"); err != nil {
		return t, err
	}
	dimsPos := p.pos
	t.Shape = make([]int64, ndim)
	for i := range t.Shape {
		d := p.u64()
		if d == 0 || d > uint64(p.maxElems) {
			return t, formatErr(dimsPos+8*int64(i), ErrBadEntry, "tensor %q: dimension %d is %d, want 1..%d", t.Name, i, d, p.maxElems)
		}
		t.Shape[i] = int64(d)
	}
	offPos := p.pos
	off, size := p.u64(), p.u64()
	if off > uint64(p.dataLen) || size > uint64(p.dataLen)-off {
		return t, formatErr(offPos, ErrLayout, "tensor %q: data [%d, +%d) runs past the end of the %d-byte data section", t.Name, off, size, p.dataLen)
	}
	t.Offset, t.Size = int64(off), int64(size)
	t.DType = dt
	if dt == legacyAPRQ4 || dt == legacyAPRQ8 {
		// The pre-GH-438 APR codes share bytes with ggml Q8_0/Q8_1; only
		// the payload size tells which was meant.
		t.DType = dt + APRQ4 - legacyAPRQ4
	}
	want, err := payloadSize(t.DType, t.Shape, p.maxElems)
	if err != nil {
		return t, formatErr(dimsPos, ErrBadEntry, "tensor %q: %s", t.Name, strings.TrimPrefix(err.Error(), "apr: "))
	}
	if t.Size != want {
		if dt != t.DType {
			return t, formatErr(dtPos, ErrBadDType, "tensor %q: dtype byte %d is legacy %v only with size %d, got %d (a ggml type id here is not supported)", t.Name, uint8(dt), t.DType, want, t.Size)
		}
		return t, formatErr(offPos+8, ErrBadEntry, "tensor %q: size %d, but %v %v takes %d bytes", t.Name, t.Size, t.DType, t.Shape, want)
	}
	return t, nil
}

// checkOverlaps refuses payloads sharing bytes. Sizes are all positive, so
// sorting by offset and comparing neighbours finds every overlap.
func checkOverlaps(ts []TensorInfo, dataOff int64) error {
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(ts[a].Offset, ts[b].Offset) })
	for k := 1; k < len(order); k++ {
		prev, cur := &ts[order[k-1]], &ts[order[k]]
		if cur.Offset < prev.Offset+prev.Size {
			return formatErr(dataOff+cur.Offset, ErrLayout, "tensor %q data [%d, +%d) overlaps tensor %q data [%d, +%d)",
				cur.Name, cur.Offset, cur.Size, prev.Name, prev.Offset, prev.Size)
		}
	}
	return nil
}
