package model_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/layerwise/parity/runtimes/fixtures"
	"github.com/layerwise/parity/runtimes/ggml"
	"github.com/layerwise/parity/runtimes/model"
)

// TestOpenShares: a second Open of an open, unchanged file is a handle on
// the same mapping; closing one handle leaves the other usable; the last
// Close releases the file; a file changed since is opened anew.
func TestOpenShares(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.gguf")
	s := fixtures.Default("llama", ggml.Q8_0)
	if err := fixtures.WriteGGUF(path, s); err != nil {
		t.Fatal(err)
	}
	a, err := model.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := model.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ta, _ := a.ByName("token_embd.weight")
	tb, _ := b.ByName("token_embd.weight")
	if ta == nil || tb == nil || &ta.Data[0] != &tb.Data[0] {
		t.Fatal("second Open did not share the first's tensors")
	}
	if n := model.OpenFileCount(); n != 1 {
		t.Fatalf("%d open files, want 1", n)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil { // a second Close of a handle is a no-op
		t.Fatal(err)
	}
	row := make([]float32, tb.Cols())
	if err := tb.DequantizeRows(1, 1, row); err != nil {
		t.Fatalf("the other handle after the first closed: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if n := model.OpenFileCount(); n != 0 {
		t.Fatalf("%d open files after the last Close, want 0", n)
	}

	// A file rewritten in place (same path, new content) is not shared.
	c, err := model.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s.Seed++
	later := time.Now().Add(2 * time.Second)
	if err := fixtures.WriteGGUF(path, s); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, later, later); err != nil {
		t.Fatal(err)
	}
	d, err := model.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tc, _ := c.ByName("token_embd.weight")
	td, _ := d.ByName("token_embd.weight")
	if &tc.Data[0] == &td.Data[0] {
		t.Error("a changed file was shared with its old mapping")
	}
}
