package runtimes

import (
	"os"
	"path/filepath"
	"testing"
)

func TestDetectFormat(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		content string
		want    Format
		ok      bool
	}{
		"g": {"GGUF\x03\x00\x00\x00", FormatGGUF, true},
		"a": {"APR\x00\x02\x00", FormatAPR, true},
		"b": {"APR2\x02\x00", FormatAPR, true},
		"x": {"PK\x03\x04zip", "", false},
		"s": {"GG", "", false},
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(tc.content), 0o644)
		got, err := DetectFormat(p)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%q: %q, %v", tc.content, got, err)
		}
	}
}

func TestDescribeEveryLoadableSharedModel(t *testing.T) {
	paths, _ := filepath.Glob(filepath.Join("..", "..", "shared", "models", "*.gguf"))
	more, _ := filepath.Glob(filepath.Join("..", "..", "shared", "models", "derived", "*.gguf"))
	paths = append(paths, more...)
	if len(paths) < 10 {
		t.Fatalf("found %d shared models; is ../shared beside the repository?", len(paths))
	}
	for _, p := range paths {
		d, err := Describe(p, true)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if d.Config == nil || len(d.Problems) > 0 {
			t.Errorf("%s: config %v, problems %v", p, d.Config, d.Problems)
		}
		if len(d.KV) == 0 || len(d.Tensors) == 0 {
			t.Errorf("%s: %d keys, %d tensors", p, len(d.KV), len(d.Tensors))
		}
	}
}
