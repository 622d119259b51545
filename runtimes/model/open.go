package model

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/layerwise/parity/runtimes/gguf"
)

// Open opens a model file of either format as Weights, telling them apart by
// the magic: "GGUF", or "APR" followed by any fourth byte (the apr reader
// then accepts "APR\0" and "APR2" and names the v1 family it refuses).
// runtimes.DetectFormat does the same check, but runtimes imports this
// package, so it cannot be shared.
//
// Opening a file that is already open in this process, unchanged, returns
// another handle on the same Weights (share.go): each handle must be
// closed, and the mapping goes when the last one is.
func Open(path string) (*Weights, error) {
	return openShared(path, openFormat)
}

func openFormat(path string) (*Weights, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("model: %w", err)
	}
	var magic [4]byte
	_, err = io.ReadFull(f, magic[:])
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("model: %s: too short to be a model file: %w", path, err)
	}
	switch {
	case bytes.Equal(magic[:], []byte("GGUF")):
		return OpenGGUF(path)
	case bytes.Equal(magic[:3], []byte("APR")):
		return OpenAPR(path)
	}
	return nil, fmt.Errorf("model: %s: unknown file format (magic %q); parity reads GGUF and APR", path, magic[:])
}

// ViewGGUF returns Weights over an already open GGUF file, configured and
// validated exactly as OpenGGUF does; name (usually the file's path) labels
// the Weights and its errors. The file stays the caller's: Close on
// the result does nothing, and the tensors are valid while f is open.
// runtimes/convert uses it to refuse a model the engines could not run,
// as aprender's completeness gate refuses an incomplete one.
func ViewGGUF(f *gguf.File, name string) (*Weights, error) {
	w, err := fromGGUF(f, name)
	if err != nil {
		return nil, err
	}
	w.closer = nil
	return w, nil
}
