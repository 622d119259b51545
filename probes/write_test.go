package probes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteFileLeavesNoTemporaries: a write that fails after both files
// were written in full (the trace's name is taken by a directory) removes
// its temporary files; a successful rewrite of an existing pair leaves
// exactly the pair, readable.
func TestWriteFileLeavesNoTemporaries(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run"+TraceSuffix)
	if err := os.Mkdir(path, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, richTrace(t)); err == nil {
		t.Fatal("WriteFile over a directory succeeded")
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := WriteFile(path, richTrace(t)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ReadFile(path); err != nil {
		t.Fatal(err)
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if strings.Contains(e.Name(), ".tmp") || e.Name() != filepath.Base(path) && e.Name() != filepath.Base(SidecarPath(path)) {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}
