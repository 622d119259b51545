//go:build unix

package llamacpp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/layerwise/parity/probes"
)

// fakeBin writes an executable shell script named name into a fresh
// directory. The script first saves its arguments, one per line, to the
// file whose path it returns second.
func fakeBin(t *testing.T, name, body string) (bin, argsFile string) {
	t.Helper()
	dir := t.TempDir()
	bin, argsFile = filepath.Join(dir, name), filepath.Join(dir, "args")
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$@\" > '%s'\n%s\n", argsFile, body)
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin, argsFile
}

// fakeDumper imitates llama-dump by copying a recorded dump into its -o
// directory, then running extra.
func fakeDumper(t *testing.T, dump, extra string) (bin, argsFile string) {
	body := fmt.Sprintf("out=\nwhile [ $# -gt 0 ]; do [ \"$1\" = -o ] && out=$2; shift; done\ncp '%s'/* \"$out\"/\n%s",
		filepath.Join(sharedDir(t), "llamacpp", dump), extra)
	return fakeBin(t, "llama-dump", body)
}

// fakeEvalCallback imitates llama-eval-callback: the token ids on stderr,
// the recorded text (its first lines, if lines > 0) on stdout.
func fakeEvalCallback(t *testing.T, ids []int32, lines int, extra string) (bin, argsFile string) {
	var b strings.Builder
	// As llama.cpp 3f545bec writes its log: with a timestamp and level.
	fmt.Fprintf(&b, "echo 'llama_model_loader: loaded meta data' >&2\necho '0.00.011.448 I number of input tokens = %d' >&2\n", len(ids))
	for _, id := range ids {
		fmt.Fprintf(&b, "echo '0.00.011.461 I   %d' >&2\n", id)
	}
	text := filepath.Join(sharedDir(t), "llamacpp", "eval-callback", "tiny-qwen2-bpe-f32.txt")
	if lines > 0 {
		fmt.Fprintf(&b, "head -n %d '%s'\n", lines, text)
	} else {
		fmt.Fprintf(&b, "cat '%s'\n", text)
	}
	b.WriteString(extra)
	return fakeBin(t, "llama-eval-callback", b.String())
}

func readArgs(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(strings.TrimSpace(string(b)), "\n", " ")
}

func modelPath(t *testing.T, name string) string {
	t.Helper()
	for _, p := range []string{filepath.Join(sharedDir(t), "models", name), filepath.Join(sharedDir(t), "models", "derived", name)} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("no model %s", name)
	return ""
}

func open(t *testing.T, modelName string, o Options) *Runtime {
	t.Helper()
	rt, err := Open(modelPath(t, modelName), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close() })
	return rt
}

// traceOf builds and validates the trace a run's records make.
func traceOf(t *testing.T, rt *Runtime, rec *probes.Recorder, res *Result, promptLen int) *probes.Trace {
	t.Helper()
	h := probes.Header{Engine: rt.Engine(), EngineOptions: rt.Options(), Model: rt.Model()}
	h.SetTokens(res.Fed, promptLen)
	tr, err := rec.Trace(h)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestRunDump(t *testing.T) {
	for _, mode := range Modes {
		dump := "stories260K-" + mode
		d, err := ReadDump(filepath.Join(sharedDir(t), "llamacpp", dump))
		if err != nil {
			t.Fatal(err)
		}
		bin, args := fakeDumper(t, dump, "")
		rt := open(t, "stories260K.gguf", Options{Bin: bin, Mode: mode, Threads: 2})
		rec, _ := probes.NewRecorder(probes.Policy{Head: 4})
		var progress []int
		res, err := rt.Run(context.Background(), Request{Prompt: d.Prompt, Decode: len(d.Gen),
			Progress: func(s int) { progress = append(progress, s) }}, rec)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Fed, append(slices.Clone(d.Prompt), d.Gen...)) || !slices.Equal(res.Next[:len(d.Gen)], d.Gen) ||
			len(res.Logits) != len(d.Gen)+1 || len(res.Logits[0]) != 512 || !slices.Equal(progress, seq(0, len(d.Gen)+1)) {
			t.Errorf("%s: fed %v next %v, %d logits, progress %v", mode, res.Fed, res.Next, len(res.Logits), progress)
		}
		got := readArgs(t, args)
		for _, want := range []string{"--tokens 1,403,407,261,378", "-n 4", "--mode " + mode, "-t 2", "--filter " + DumpFilter("llama")} {
			if !strings.Contains(got, want) {
				t.Errorf("%s: args %q lack %q", mode, got, want)
			}
		}
		tr := traceOf(t, rt, rec, res, len(d.Prompt))
		last := tr.Find(probes.Key{Step: 0, Layer: tr.Header.Model.Dims.Layers - 1, Slot: probes.FFNOut})
		if want := map[string]int{"exact": 5, "default": 1}[mode]; last == nil || len(last.Positions) != want {
			t.Errorf("%s: last layer ffn_out %+v, want %d positions", mode, last, want)
		}
		if opts := rt.Options(); !strings.Contains(opts["unavailable"], "ffn_act") || opts["mode"] != mode {
			t.Errorf("%s: options %v", mode, opts)
		}
	}
}

func TestRunDumpTokens(t *testing.T) {
	d, err := ReadDump(filepath.Join(sharedDir(t), "llamacpp", "stories260K-exact"))
	if err != nil {
		t.Fatal(err)
	}
	bin, args := fakeDumper(t, "stories260K-exact", "")
	rt := open(t, "stories260K.gguf", Options{Bin: bin})
	ctx := context.Background()
	if _, err := rt.Run(ctx, Request{Prompt: d.Prompt, Decode: 4, Force: d.Gen}, nil); err != nil {
		t.Fatal(err)
	}
	if got := readArgs(t, args); !strings.Contains(got, "--force 432,383,286,261") {
		t.Errorf("args %q lack the forced ids", got)
	}
	for name, req := range map[string]Request{
		"other prompt":        {Prompt: []int32{1, 403, 407}, Decode: 4},
		"other forced tokens": {Prompt: d.Prompt, Decode: 4, Force: []int32{432, 383, 286, 9}},
		"fewer steps":         {Prompt: d.Prompt, Decode: 2},
	} {
		_, err := rt.Run(ctx, req, nil)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if name != "fewer steps" && (!errors.Is(err, ErrTokens) || !strings.Contains(err.Error(), "requested")) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Nodes the adapter does not know are kept out of the trace and reported.
func TestRunDumpUnmapped(t *testing.T) {
	extra := `cp "$out/s000-00000-embd.npy" "$out/s000-99999-mystery-0.npy"
printf '99999\t0\tmystery-0\tADD\tf32\t64\t5\t1\t1\ts000-99999-mystery-0.npy\t0\t0\t0\t0\t0\n' >> "$out/index.tsv"`
	bin, _ := fakeDumper(t, "stories260K-exact", extra)
	rt := open(t, "stories260K.gguf", Options{Bin: bin})
	rec, _ := probes.NewRecorder(probes.Policy{})
	res, err := rt.Run(context.Background(), Request{Prompt: []int32{1, 403, 407, 261, 378}, Decode: 4}, rec)
	if err != nil {
		t.Fatal(err)
	}
	if u := rt.LastReport().Unmapped; !slices.Equal(u, []string{"mystery-0"}) || !strings.Contains(rt.Options()["unmapped"], "mystery-0") {
		t.Errorf("unmapped %v", u)
	}
	traceOf(t, rt, rec, res, 5)
}

var bpePrompt = []int32{72, 101, 296, 267, 111, 114, 108, 100, 33, 300, 32, 113, 117, 105, 99, 107}

func TestRunStock(t *testing.T) {
	bin, args := fakeEvalCallback(t, bpePrompt, 0, "")
	rt := open(t, "tiny-qwen2-bpe-f32.gguf", Options{Bin: bin})
	rec, _ := probes.NewRecorder(probes.Policy{})
	res, err := rt.Run(context.Background(), Request{Prompt: bpePrompt}, rec)
	if err != nil {
		t.Fatal(err)
	}
	if got := readArgs(t, args); !strings.Contains(got, "-p Hello world! The quick") || !strings.HasSuffix(got, "-fa off -ctk f32 -ctv f32") {
		t.Errorf("args %q", got)
	}
	tr := traceOf(t, rt, rec, res, len(bpePrompt))
	if len(tr.Records) == 0 || res.Logits != nil || !slices.Equal(res.Fed, bpePrompt) {
		t.Fatalf("%d records, result %+v", len(tr.Records), res)
	}
	for _, r := range tr.Records {
		if !r.Partial || r.Sum == nil || len(r.Known) == 0 {
			t.Errorf("%v: not partial with sum and values", r.Key())
		}
	}
	if r := tr.Find(probes.Key{Step: 0, Layer: 1, Slot: probes.AttnOut}); r == nil || r.Derived || len(r.Positions) != 16 || !strings.Contains(r.Note, "attn_output") {
		t.Errorf("attn_out from the unnamed node: %+v", r)
	}
	if r := tr.Find(probes.Key{Step: 0, Layer: -1, Slot: probes.Logits}); r == nil || !slices.Equal(r.Positions, []int{15}) {
		t.Errorf("logits %+v, want the last position only", r)
	}
	if _, err := rt.Run(context.Background(), Request{Prompt: bpePrompt, Decode: 1}, nil); err == nil || !strings.Contains(err.Error(), "make llama-dump") {
		t.Errorf("decode steps with a stock tool: %v", err)
	}
}

func TestRunStockRefuses(t *testing.T) {
	other := slices.Clone(bpePrompt)
	other[3] = 9
	cases := []struct {
		name  string
		ids   []int32
		lines int
		extra string
		want  error
		msg   string
	}{
		{"other tokens", other, 0, "", ErrTokens, "llama.cpp [72 101 296 9"},
		{"no tokens", nil, 0, "", ErrTokens, "no token list"},
		{"truncated", bpePrompt, 1218, "", ErrTruncated, "stops"},
		{"truncated mid-line", bpePrompt, 1203, "printf '            [      0.24'", ErrTruncated, "stops inside"},
		{"exit status", bpePrompt, 0, "echo 'fatal: bad magic' >&2; exit 3", ErrExit, "fatal: bad magic"},
	}
	for _, c := range cases {
		bin, _ := fakeEvalCallback(t, c.ids, c.lines, c.extra)
		rt := open(t, "tiny-qwen2-bpe-f32.gguf", Options{Bin: bin})
		_, err := rt.Run(context.Background(), Request{Prompt: bpePrompt}, nil)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: %v, want %v mentioning %q", c.name, err, c.want, c.msg)
		}
	}
	bin, _ := fakeBin(t, "llama-eval-callback", "head -c 100000 /dev/urandom; echo; echo hello")
	rt := open(t, "tiny-qwen2-bpe-f32.gguf", Options{Bin: bin})
	if _, err := rt.Run(context.Background(), Request{Prompt: bpePrompt}, nil); !errors.Is(err, ErrNoTensors) {
		t.Errorf("garbage: %v", err)
	}
}

// A failing run's error carries the end of stderr, bounded however much
// llama.cpp printed.
func TestRunExitBoundedStderr(t *testing.T) {
	bin, _ := fakeBin(t, "llama-dump", "yes 'loading tensor blk.0 of a very long log line' | head -n 50000 >&2\necho 'error: failed to load model' >&2\nexit 1")
	rt := open(t, "stories260K.gguf", Options{Bin: bin})
	_, err := rt.Run(context.Background(), Request{Prompt: []int32{1}}, nil)
	if !errors.Is(err, ErrExit) || !strings.Contains(err.Error(), "failed to load model") || !strings.Contains(err.Error(), "exit status 1") {
		t.Fatalf("%v", err)
	}
	if len(err.Error()) > 4096 {
		t.Errorf("error of %d bytes", len(err.Error()))
	}
}

// A hung llama.cpp is killed with its whole process group, on timeout and
// on cancellation.
func TestRunKillsProcessGroup(t *testing.T) {
	for _, how := range []string{"timeout", "cancel"} {
		dir := t.TempDir()
		pidFile := filepath.Join(dir, "pid")
		bin, _ := fakeBin(t, "llama-dump", fmt.Sprintf("sleep 600 &\necho $! > '%s.tmp'; mv '%s.tmp' '%s'\nwait", pidFile, pidFile, pidFile))
		o := Options{Bin: bin}
		ctx, cancel := context.WithCancel(context.Background())
		if how == "timeout" {
			o.Timeout = 300 * time.Millisecond
		} else {
			go func() {
				waitFor(func() bool { _, err := os.Stat(pidFile); return err == nil })
				cancel()
			}()
		}
		rt := open(t, "stories260K.gguf", o)
		_, err := rt.Run(ctx, Request{Prompt: []int32{1}}, nil)
		cancel()
		want := map[string]error{"timeout": ErrTimeout, "cancel": ErrCancelled}[how]
		if !errors.Is(err, want) || !strings.Contains(err.Error(), "process group was killed") {
			t.Errorf("%s: %v", how, err)
		}
		b, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatalf("%s: the script did not start its child: %v", how, err)
		}
		var pid int
		fmt.Sscan(string(b), &pid)
		if !waitFor(func() bool { return gone(pid) }) {
			t.Errorf("%s: child %d of the killed script is still running", how, pid)
		}
	}
}

// waitFor polls cond for up to 20 s; it does not measure anything.
func waitFor(cond func() bool) bool {
	for range 2000 {
		if cond() {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// gone reports whether pid has exited (absent, or a zombie awaiting its
// new parent's wait).
func gone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

func TestTokenLog(t *testing.T) {
	for _, lines := range [][]string{
		{"main: loading", "number of input tokens = 3", "  1", "  403", "  9", "system_info: ..."},
		{"0.00.011.448 I number of input tokens = 3", "0.00.011.461 I   1", "0.00.011.461 I   403", "0.00.011.462 I   9"},
		{"number of input tokens = 2", "  5", "oops", "number of input tokens = 3", "  1", "  403", "  9"},
	} {
		var tl tokenLog
		for _, l := range lines {
			tl.line(l)
		}
		if !tl.done || !slices.Equal(tl.ids, []int32{1, 403, 9}) {
			t.Errorf("%q: %v (done %v)", lines, tl.ids, tl.done)
		}
	}
	var tl tokenLog
	for _, l := range []string{"number of input tokens = 3", "  1", "  403"} {
		tl.line(l)
	}
	if tl.done {
		t.Error("an incomplete list reads as done")
	}
}

func TestOpen(t *testing.T) {
	m := modelPath(t, "stories260K.gguf")
	_, err := Open(m, Options{Bin: filepath.Join(t.TempDir(), "llama-dump")})
	if !errors.Is(err, ErrNoBinary) || !strings.Contains(err.Error(), "make llama-dump LLAMA_CPP_DIR=") {
		t.Errorf("missing --llama-bin: %v", err)
	}
	t.Setenv(EnvBin, "")
	t.Setenv("PATH", t.TempDir())
	if _, err = Open(m, Options{}); !errors.Is(err, ErrNoBinary) || !strings.Contains(err.Error(), EnvBin) {
		t.Errorf("nothing found: %v", err)
	}
	bin, _ := fakeBin(t, "llama-debug", "")
	t.Setenv(EnvBin, bin)
	rt, err := Open(m, Options{})
	if err != nil || rt.tool != toolDebug || rt.Options()["bin"] != bin {
		t.Fatalf("from $%s: %v", EnvBin, err)
	}
	rt.Close()
	if _, err := Open(m, Options{Mode: "fast"}); err == nil {
		t.Error("unknown mode accepted")
	}
	if _, err := Open(filepath.Join(sharedDir(t), "llamacpp", "README.md"), Options{Bin: bin}); err == nil {
		t.Error("a non-GGUF model accepted")
	}
}

// llama-debug gets --no-warmup and lists its tokens on stdout.
func TestRunDebug(t *testing.T) {
	text := filepath.Join(sharedDir(t), "llamacpp", "eval-callback", "tiny-qwen2-bpe-f32.txt")
	var list strings.Builder
	for _, id := range bpePrompt {
		fmt.Fprintf(&list, "x(%d) ", id)
	}
	bin, args := fakeBin(t, "llama-debug", fmt.Sprintf("cat '%s'\nprintf 'Token ids (%d):\\n%s\\n\\n'", text, len(bpePrompt), list.String()))
	rt := open(t, "tiny-qwen2-bpe-f32.gguf", Options{Bin: bin, Mode: "default"})
	if _, err := rt.Run(context.Background(), Request{Prompt: bpePrompt}, nil); err != nil {
		t.Fatal(err)
	}
	if got := readArgs(t, args); !strings.HasSuffix(got, "--no-warmup") {
		t.Errorf("args %q", got)
	}
}
