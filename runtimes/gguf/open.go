package gguf

import (
	"fmt"
	"io"
	"math"
	"os"
)

// Open maps the file at path read-only and parses it. When the platform or
// the file system refuses the mapping, Open reads the file into memory
// instead; either way tensor data is served from that one image. The caller
// must Close the File.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, fmt.Errorf("gguf: %w", err)
	}
	size := st.Size()
	if size > math.MaxInt {
		return nil, fmt.Errorf("gguf: %s: %d bytes do not fit the address space", path, size)
	}
	var (
		data  []byte
		unmap func() error
	)
	if size > 0 {
		data, unmap, err = mapFile(fh, size)
	}
	if size == 0 || err != nil {
		data = make([]byte, size)
		if _, err := io.ReadFull(fh, data); err != nil {
			return nil, fmt.Errorf("gguf: reading %s: %w", path, err)
		}
	}
	f, err := parse(data)
	if err != nil {
		if unmap != nil {
			unmap()
		}
		return nil, err
	}
	f.unmap = unmap
	return f, nil
}
