package model

import (
	"os"
	"sync"
)

// Open shares one opened model per file across the process. A bisection
// opens the same file for runtime A, runtime B and the noise-floor runs;
// each mapping would otherwise count the whole file again in the
// process's resident set (the page cache behind them is one copy, but
// RSS, and anything that watches it, sees several) and parse and convert
// it again. Weights are read-only once built, so handles can share them.

// openFile is one opened model and its open handles.
type openFile struct {
	info   os.FileInfo // identity: os.SameFile, size and modification time
	w      *Weights    // what handles copy; its closer is the file's
	handle int         // open handles
}

var (
	openMu    sync.Mutex
	openFiles []*openFile
)

// sameFile reports whether st is the file f was opened from, unchanged.
func (f *openFile) sameFile(st os.FileInfo) bool {
	return os.SameFile(f.info, st) && f.info.Size() == st.Size() && f.info.ModTime().Equal(st.ModTime())
}

// handleOf returns a new handle on f's Weights, named path. The caller
// holds openMu.
func handleOf(f *openFile, path string) *Weights {
	f.handle++
	h := *f.w
	h.Path = path
	h.closer = &handleCloser{f: f}
	return &h
}

// handleCloser closes one handle; the last one closes the file.
type handleCloser struct {
	f    *openFile
	once sync.Once
}

func (c *handleCloser) Close() error {
	var err error
	c.once.Do(func() {
		openMu.Lock()
		defer openMu.Unlock()
		c.f.handle--
		if c.f.handle > 0 {
			return
		}
		for i, o := range openFiles {
			if o == c.f {
				openFiles = append(openFiles[:i], openFiles[i+1:]...)
				break
			}
		}
		err = c.f.w.Close()
	})
	return err
}

// openShared is Open's sharing: it returns a handle on an already open,
// unchanged copy of path's file, or opens it with open and registers it.
func openShared(path string, open func(string) (*Weights, error)) (*Weights, error) {
	st, err := os.Stat(path)
	if err != nil {
		return open(path) // open reports the error in its words
	}
	openMu.Lock()
	defer openMu.Unlock()
	for _, f := range openFiles {
		if f.sameFile(st) {
			return handleOf(f, path), nil
		}
	}
	w, err := open(path)
	if err != nil {
		return nil, err
	}
	f := &openFile{info: st, w: w}
	openFiles = append(openFiles, f)
	return handleOf(f, path), nil
}
