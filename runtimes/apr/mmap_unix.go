//go:build unix

package apr

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile maps path read-only. It falls back to reading the file when it
// cannot be mapped (empty, not a regular file, too large for int, or the
// mmap call fails); unmap is then a no-op.
func mapFile(path string) (data []byte, unmap func() error, err error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, nil, err
	}
	if size := st.Size(); st.Mode().IsRegular() && size > 0 && int64(int(size)) == size {
		if b, err := unix.Mmap(int(fh.Fd()), 0, int(size), unix.PROT_READ, unix.MAP_SHARED); err == nil {
			return b, func() error { return unix.Munmap(b) }, nil
		}
	}
	b, err := io.ReadAll(fh)
	return b, func() error { return nil }, err
}
