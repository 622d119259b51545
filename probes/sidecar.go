package probes

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/gguf"
)

// Sidecar KVs: what the file is, so a sidecar is recognisable on its own.
const (
	sidecarKindKey     = "parity.trace.kind"
	sidecarKind        = "tensors"
	sidecarVersionKey  = "parity.trace.version"
	sidecarGGUFVersion = 3
)

// tensorName is a record's tensor name in the sidecar: "s<step>.l<layer>.
// <slot>" for per-layer slots, "s<step>.<slot>" for global ones: at most
// 33 bytes for steps and layers below MaxIndex, within GGUF's 63.
func tensorName(k Key) string {
	if k.Layer < 0 {
		return fmt.Sprintf("s%d.%s", k.Step, k.Slot)
	}
	return fmt.Sprintf("s%d.l%d.%s", k.Step, k.Layer, k.Slot)
}

func hasFull(t *Trace) bool {
	return slices.ContainsFunc(t.Records, func(r Record) bool { return r.Full != nil })
}

// writeSidecar writes the full tensors of t, in record order, as F32 GGUF
// tensors with dims [PerToken, len(Positions)] (ne[0] first: one row per
// position) into a temporary file beside path (see writeTemp), and returns
// that file's name, size and hex SHA-256. Each tensor is encoded when the
// writer reaches it, so writing holds one tensor's bytes beside the trace,
// not a second copy of all of them.
func writeSidecar(path string, t *Trace) (string, int64, string, error) {
	w := gguf.NewWriter(sidecarGGUFVersion)
	w.AddKV(sidecarKindKey, gguf.String(sidecarKind))
	w.AddKV(sidecarVersionKey, gguf.Uint32(FormatVersion))
	for i := range t.Records {
		r := &t.Records[i]
		if r.Full == nil {
			continue
		}
		w.AddTensorFunc(tensorName(r.Key()), ggml.F32, []int64{int64(r.PerToken), int64(len(r.Positions))}, func() ([]byte, error) {
			data := make([]byte, 4*len(r.Full))
			for j, v := range r.Full {
				binary.LittleEndian.PutUint32(data[4*j:], math.Float32bits(v))
			}
			return data, nil
		})
	}
	h := sha256.New()
	var size int64
	tmp, err := writeTemp(path, func(f io.Writer) error {
		n, err := w.WriteTo(io.MultiWriter(f, h))
		size = n
		return err
	})
	if err != nil {
		return "", 0, "", err
	}
	return tmp, size, hex.EncodeToString(h.Sum(nil)), nil
}

// readSidecar checks the sidecar the header names against its recorded
// size and hash, then loads each referenced tensor into its record.
func readSidecar(dir string, d *decoded) error {
	path := filepath.Join(dir, d.sidecar.File)
	if err := checkSidecarFile(path, d.sidecar); err != nil {
		return err
	}
	f, err := gguf.Open(path)
	if err != nil {
		return fmt.Errorf("probes: sidecar: %w", err)
	}
	defer f.Close()
	if kind, _ := f.GetString(sidecarKindKey); kind != sidecarKind {
		return &FormatError{Msg: fmt.Sprintf("sidecar %s is not a parity tensor file", path)}
	}
	if v, _ := f.GetUint(sidecarVersionKey); v != FormatVersion {
		return &FormatError{Msg: fmt.Sprintf("sidecar %s has version %d, want %d", path, v, FormatVersion)}
	}
	for i, name := range d.tensors {
		if name == "" {
			continue
		}
		r := &d.trace.Records[i]
		ti, ok := f.Tensor(name)
		if !ok {
			return &FormatError{Msg: fmt.Sprintf("sidecar has no tensor %q", name)}
		}
		want := []int64{int64(r.PerToken), int64(len(r.Positions))}
		if ti.Type != ggml.F32 || !slices.Equal(ti.Dims, want) {
			return &FormatError{Msg: fmt.Sprintf("sidecar tensor %q is %v %v, want f32 %v", name, ti.Type, ti.Dims, want)}
		}
		data := f.TensorData(ti)
		if int64(len(data)) != 4*r.Count {
			return &FormatError{Msg: fmt.Sprintf("sidecar tensor %q has %d bytes, want %d", name, len(data), 4*r.Count)}
		}
		r.Full = make([]float32, r.Count)
		for j := range r.Full {
			r.Full[j] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*j:]))
		}
		if err := r.Validate(&d.trace.Header); err != nil {
			return &FormatError{Msg: fmt.Sprintf("sidecar tensor %q: %v", name, err), Err: err}
		}
	}
	return nil
}

// checkSidecarFile compares the file's size and SHA-256 with the header's
// record of them, so a sidecar left over from another run is refused.
func checkSidecarFile(path string, ref *sidecarRef) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("probes: sidecar: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return fmt.Errorf("probes: sidecar: %w", err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); n != ref.Size || sum != ref.SHA256 {
		return &FormatError{Msg: fmt.Sprintf("sidecar %s (%d bytes, sha256 %s) is not the one the trace was written with (%d bytes, sha256 %s)",
			path, n, sum, ref.Size, ref.SHA256)}
	}
	return nil
}
