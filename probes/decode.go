package probes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/layerwise/parity/stats"
)

// decodeJSONL reads the uncompressed JSONL stream and validates it.
func decodeJSONL(r io.Reader) (*decoded, error) {
	lr := &lineReader{br: bufio.NewReaderSize(r, 1<<16)}
	line, err := lr.read()
	if err == io.EOF {
		return nil, &FormatError{Msg: "empty file"}
	}
	if err != nil {
		return nil, err
	}
	var wh wireHeader
	if err := strictUnmarshal(line, &wh); err != nil {
		return nil, lr.errf(err, "header: %s", msg(err))
	}
	if wh.Format != FormatName {
		return nil, lr.errf(nil, "format %q, want %q", wh.Format, FormatName)
	}
	if wh.Version != FormatVersion {
		return nil, lr.errf(nil, "unsupported version %d (this reader knows %d)", wh.Version, FormatVersion)
	}
	if err := wh.Header.Validate(); err != nil {
		return nil, lr.errf(err, "header: %s", msg(err))
	}
	if err := wh.Tensors.check(); err != nil {
		return nil, lr.errf(err, "header: %s", msg(err))
	}
	if wh.Records < 0 {
		return nil, lr.errf(nil, "negative record count")
	}
	d := &decoded{trace: &Trace{Header: wh.Header}, sidecar: wh.Tensors}
	t := d.trace
	// The announced count is not trusted for memory: a header claiming
	// 2^62 records must cost no more than one that is honest, so the
	// records grow with the lines actually read.
	t.Records = make([]Record, 0, min(wh.Records, 64))
	seen := make(map[Key]bool)
	for {
		line, err := lr.read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		rec, tensor, err := decodeRecord(line, &t.Header)
		if err != nil {
			return nil, lr.errf(err, "%s", msg(err))
		}
		if seen[rec.Key()] {
			return nil, lr.errf(ErrInvalid, "duplicate record %v", rec.Key())
		}
		seen[rec.Key()] = true
		if tensor != "" && wh.Tensors == nil {
			return nil, lr.errf(ErrInvalid, "record %v names tensor %q but the header names no sidecar", rec.Key(), tensor)
		}
		if len(t.Records) == wh.Records {
			return nil, lr.errf(nil, "more records than the %d the header announces", wh.Records)
		}
		t.Records = append(t.Records, rec)
		d.tensors = append(d.tensors, tensor)
	}
	if len(t.Records) != wh.Records {
		return nil, &FormatError{Line: lr.line, Off: lr.off,
			Msg: fmt.Sprintf("%d records, header announces %d (truncated file?)", len(t.Records), wh.Records)}
	}
	return d, nil
}

// msg is err's text without the package prefix, for messages that get
// their own.
func msg(err error) string { return strings.TrimPrefix(err.Error(), "probes: ") }

// strictUnmarshal decodes one JSON value and rejects trailing data.
// Unknown keys are ignored, so a later version may add fields that older
// readers can skip; changes they must not skip bump FormatVersion.
// json.Unmarshal reads b in place (a json.Decoder would copy the whole
// line into its own buffer first) and refuses anything after the value.
func strictUnmarshal(b []byte, v any) error {
	if len(bytes.TrimSpace(b)) == 0 {
		return errors.New("blank line")
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	return nil
}

// wireRecord is a record line as JSON.
type wireRecord struct {
	Step      int             `json:"step"`
	Layer     int             `json:"layer"`
	Slot      Slot            `json:"slot"`
	Positions string          `json:"positions"`
	PerToken  int             `json:"per_token"`
	Count     int64           `json:"count"`
	Stats     stats.Summary   `json:"stats"`
	PerPos    []stats.Summary `json:"per_pos"`
	Head      []f32           `json:"head"`
	Tensor    string          `json:"tensor"`
	Partial   bool            `json:"partial"`
	Sum       *f64            `json:"sum"`
	Known     []known         `json:"known"`
	Derived   bool            `json:"derived"`
	Note      string          `json:"note"`
}

// decodeRecord decodes and validates one record line, returning the
// record and its tensor name (checked against its key).
func decodeRecord(line []byte, h *Header) (Record, string, error) {
	var w wireRecord
	if err := strictUnmarshal(line, &w); err != nil {
		return Record{}, "", err
	}
	// Positions are distinct and index tokens, so a list longer than the
	// tokens is invalid: refuse it before expanding the ranges.
	pos, err := parseRuns(w.Positions, len(h.Tokens))
	if err != nil {
		return Record{}, "", fmt.Errorf("%w: positions: %w", ErrInvalid, err)
	}
	r := Record{
		Step: w.Step, Layer: w.Layer, Slot: w.Slot, Positions: pos,
		PerToken: w.PerToken, Count: w.Count, Stats: w.Stats, PerPos: w.PerPos,
		Partial: w.Partial, Derived: w.Derived, Note: w.Note,
	}
	if len(w.Head) > 0 {
		r.Head = make([]float32, len(w.Head))
		for i, v := range w.Head {
			r.Head[i] = float32(v)
		}
	}
	if w.Sum != nil {
		s := float64(*w.Sum)
		r.Sum = &s
	}
	if len(w.Known) > 0 {
		r.Known = make([]Known, len(w.Known))
		for i, k := range w.Known {
			r.Known[i] = Known(k)
		}
	}
	if err := r.Validate(h); err != nil {
		return Record{}, "", err
	}
	if w.Tensor != "" && w.Tensor != tensorName(r.Key()) {
		return Record{}, "", fmt.Errorf("%w: %v: tensor %q, want %q", ErrInvalid, r.Key(), w.Tensor, tensorName(r.Key()))
	}
	return r, w.Tensor, nil
}

// f32 and f64 read stats.AppendFloat's encoding.
type (
	f32 float32
	f64 float64
)

func (f *f32) UnmarshalJSON(b []byte) error {
	v, err := stats.ParseFloat(b, 32)
	*f = f32(v)
	return err
}

func (f *f64) UnmarshalJSON(b []byte) error {
	v, err := stats.ParseFloat(b, 64)
	*f = f64(v)
	return err
}

// known reads a Known written as [index, value].
type known Known

func (k *known) UnmarshalJSON(b []byte) error {
	var pair []json.RawMessage
	if err := json.Unmarshal(b, &pair); err != nil {
		return err
	}
	if len(pair) != 2 {
		return fmt.Errorf("known value %s is not an [index, value] pair", b)
	}
	if err := json.Unmarshal(pair[0], &k.Index); err != nil {
		return err
	}
	v, err := stats.ParseFloat(pair[1], 32)
	k.Value = float32(v)
	return err
}

// check validates a sidecar reference from a header.
func (s *sidecarRef) check() error {
	if s == nil {
		return nil
	}
	if s.File == "" || s.File == "." || s.File == ".." || bytes.ContainsAny([]byte(s.File), `/\`) {
		return fmt.Errorf("%w: sidecar file %q is not a plain file name", ErrInvalid, s.File)
	}
	if s.Size < 0 || len(s.SHA256) != 64 {
		return fmt.Errorf("%w: sidecar size or sha256 malformed", ErrInvalid)
	}
	return nil
}
