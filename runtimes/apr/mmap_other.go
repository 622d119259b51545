//go:build !unix

package apr

import "os"

// mapFile reads the whole file: this platform gets no mapping.
func mapFile(path string) (data []byte, unmap func() error, err error) {
	b, err := os.ReadFile(path)
	return b, func() error { return nil }, err
}
