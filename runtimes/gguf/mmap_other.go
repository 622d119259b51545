//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package gguf

import (
	"errors"
	"os"
)

// mapFile fails on platforms without syscall.Mmap, so Open reads the file.
func mapFile(*os.File, int64) ([]byte, func() error, error) {
	return nil, nil, errors.New("gguf: mmap not available")
}
