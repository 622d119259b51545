package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/layerwise/parity/diff"
)

// shared returns a path under ../shared (beside the repository root).
func shared(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", rel)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("shared test data missing: %v (the repository expects ../shared beside it)", err)
	}
	return p
}

func parity(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var o, e bytes.Buffer
	code = run(context.Background(), args, &o, &e)
	return o.String(), e.String(), code
}

func TestInspectStories(t *testing.T) {
	out, errOut, code := parity(t, "--color", "never", "inspect", shared(t, "models/stories260K.gguf"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"│ architecture    │ llama", "│ n_embd          │ 64 ", "│ n_layer         │ 5 ",
		"│ n_head          │ 8 ", "│ n_head_kv       │ 4 ", "│ n_vocab         │ 512 ", "48 (f32×48)",
		"blk.4.ffn_down.weight", "rms_eps"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("--color never printed ANSI escapes")
	}
}

func TestInspectJSON(t *testing.T) {
	out, errOut, code := parity(t, "inspect", "--json", shared(t, "models/stories260K.gguf"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var d struct {
		Format string `json:"format"`
		Config struct {
			NEmbd   int `json:"n_embd"`
			NLayer  int `json:"n_layer"`
			NHead   int `json:"n_head"`
			NHeadKV int `json:"n_head_kv"`
			NVocab  int `json:"n_vocab"`
		} `json:"config"`
		Tensors []struct {
			Name  string  `json:"name"`
			Shape []int64 `json:"shape"`
		} `json:"tensors"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, out)
	}
	c := d.Config
	if d.Format != "gguf" || c.NEmbd != 64 || c.NLayer != 5 || c.NHead != 8 || c.NHeadKV != 4 || c.NVocab != 512 || len(d.Tensors) != 48 {
		t.Errorf("unexpected description: %+v, %d tensors", d, len(d.Tensors))
	}
}

func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		code    int
		errLike string
	}{
		{[]string{"version"}, 0, ""},
		{[]string{"inspect", "no-such-file.gguf"}, 3, "no such file"},
		{[]string{"inspect", shared(t, "models/legacy/tinyllamas-stories-260k-f32.gguf")}, 3, "GGUF v1 is not supported"},
		{[]string{"inspect", shared(t, "models/legacy/tinyllamas-stories-260k-q8_0.gguf")}, 3, "blk.0.ffn_down.weight"},
		{[]string{"inspect"}, 3, "accepts 1 arg"},
		{[]string{"--color", "sometimes", "inspect", shared(t, "models/stories260K.gguf")}, 3, "--color must be"},
		{[]string{"inspect", "--no-such-flag"}, 3, "unknown flag"},
		{[]string{"no-such-command"}, 3, "unknown command"},
	} {
		_, errOut, code := parity(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.errLike) {
			t.Errorf("parity %v: exit %d, stderr %q; want exit %d mentioning %q", tc.args, code, errOut, tc.code, tc.errLike)
		}
	}
}

func TestExitCodeSwitch(t *testing.T) {
	for err, want := range map[error]int{
		nil: 0,
		fmt.Errorf("layer 3: %w", diff.ErrDivergence):    1,
		fmt.Errorf("tokens differ: %w", diff.ErrRefused): 2,
		errors.New("disk on fire"):                       3,
		usageErr(errors.New("bad flag")):                 3,
	} {
		if got := exitCode(err); got != want {
			t.Errorf("exitCode(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestFixturesThenInspect(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q.gguf")
	if _, errOut, code := parity(t, "fixtures", "--arch", "qwen3", "--type", "q4_k", "-o", path); code != 0 {
		t.Fatalf("fixtures: exit %d: %s", code, errOut)
	}
	out, errOut, code := parity(t, "inspect", path)
	if code != 0 || !strings.Contains(out, "qwen3") || !strings.Contains(out, "q4_K") {
		t.Fatalf("inspect of a generated qwen3 model: exit %d\n%s%s", code, out, errOut)
	}
	if _, errOut, code := parity(t, "fixtures", "--type", "q9_z", "-o", path); code != 3 || !strings.Contains(errOut, "unknown type") {
		t.Errorf("bad --type: exit %d, %s", code, errOut)
	}
}

func TestTokenize(t *testing.T) {
	m := shared(t, "models/stories260K.gguf")
	out, errOut, code := parity(t, "tokenize", "--json", "--model", m, "--prompt", "Once upon a time")
	var res tokenizeJSON
	if code != 0 || json.Unmarshal([]byte(out), &res) != nil {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	var ids []int32
	for _, tk := range res.Tokens {
		ids = append(ids, tk.ID)
	}
	if fmt.Sprint(ids) != "[1 403 407 261 378]" || res.Text != " Once upon a time" {
		t.Errorf("ids %v text %q", ids, res.Text)
	}
	out, _, code = parity(t, "--color", "never", "tokenize", "--model", m, "--tokens", "1,403,407,261,378")
	if code != 0 || !strings.Contains(out, `text: " Once upon a time"`) || !strings.Contains(out, `" Once"`) {
		t.Errorf("--tokens: exit %d\n%s", code, out)
	}
	if _, errOut, code := parity(t, "tokenize", "--model", m, "--tokens", "1,9999"); code != 3 || !strings.Contains(errOut, "outside the vocabulary") {
		t.Errorf("bad id: exit %d %s", code, errOut)
	}
}
