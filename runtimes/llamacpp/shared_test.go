package llamacpp

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/layerwise/parity/probes"
	"github.com/layerwise/parity/runtimes/model"
)

// sharedDir finds ../shared beside the module root.
func sharedDir(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		up := filepath.Dir(dir)
		if up == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = up
	}
}

// dumpDirs lists the recorded dump directories.
func dumpDirs(t testing.TB) []string {
	t.Helper()
	dirs, _ := filepath.Glob(filepath.Join(sharedDir(t), "llamacpp", "*-*"))
	var out []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "index.tsv")); err == nil {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		t.Fatal("no dumps under ../shared/llamacpp")
	}
	return out
}

// dumpModel resolves the model a dump's ABOUT.txt names.
func dumpModel(t testing.TB, dir string) string {
	t.Helper()
	about, err := os.ReadFile(filepath.Join(dir, "ABOUT.txt"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`model=(\S+)`).FindSubmatch(about)
	if m == nil {
		t.Fatalf("%s: no model= in ABOUT.txt", dir)
	}
	models := filepath.Join(sharedDir(t), "models")
	for _, p := range []string{filepath.Join(models, string(m[1])), filepath.Join(models, "derived", string(m[1]))} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("%s: model %s not under %s", dir, m[1], models)
	return ""
}

// modelDims returns the arch and dims of a model file.
func modelDims(t testing.TB, path string) (string, probes.Dims) {
	t.Helper()
	w, err := model.OpenGGUF(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c := w.Config
	return c.Arch.Name, probes.Dims{Embd: c.NEmbd, Layers: c.NLayer, Heads: c.NHead, KVHeads: c.NHeadKV,
		HeadDim: c.HeadDim, FF: c.NFF, Vocab: c.NVocab}
}
