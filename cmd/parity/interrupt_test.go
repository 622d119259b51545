//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// deadline bounds how long an interrupted command may take to return.
// It is no measurement, only what makes a hang fail the test instead of
// stalling it: a prompt stop takes well under a second.
const deadline = 60 * time.Second

// interrupt runs parity with args, cancels its context (what Ctrl-C does)
// once ready reports true, and returns what parity printed and its exit
// code; it fails the test if parity finishes before the interruption or
// has not returned by deadline after it.
func interrupt(t *testing.T, ready func() bool, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var o, e bytes.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, &o, &e) }()
	for !ready() {
		select {
		case code := <-done:
			t.Fatalf("parity %v finished (exit %d) before it could be interrupted:\n%s%s", args, code, o.String(), e.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	cancel()
	select {
	case code = <-done:
	case <-time.After(deadline):
		t.Fatalf("parity %v did not return within %v of its interruption", args, deadline)
	}
	return o.String(), e.String(), code
}

// entries lists what dir holds, hidden files included.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// TestInterruptBisect cancels a bisection of a 24-layer model over 256
// tokens (and a full trace of it with 250 decode steps) while it runs: parity returns promptly with exit status 3 and
// says it was interrupted, and neither the report directory nor a
// temporary file is left behind. So does an interrupted full trace.
func TestInterruptBisect(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "m.gguf")
	if _, stderr, code := parity(t, "fixtures", "--arch", "llama", "--layers", "24", "--embd", "256", "--ff", "768", "-o", model); code != 0 {
		t.Fatalf("fixtures: %s", stderr)
	}
	tokens := make([]string, 256)
	for i := range tokens {
		tokens[i] = fmt.Sprint(1 + i%200)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"bisect", "--a", model, "--b", model, "--tokens", strings.Join(tokens, ","), "--report", filepath.Join(out, "report")},
		// 250 decode steps after the prompt keep the trace busy for many
		// seconds however fast the engine gets.
		{"trace", "-m", model, "--tokens", strings.Join(tokens, ","), "--full", "-n", "250", "-o", filepath.Join(out, "t.trace.jsonl.zst")},
	} {
		start := time.Now()
		// Interrupt once the engines are under way: opening the model and
		// hashing it take a fraction of the run.
		_, stderr, code := interrupt(t, func() bool { return time.Since(start) > 700*time.Millisecond }, args...)
		if code != exitUsageIO || !strings.Contains(stderr, "interrupted") || !strings.Contains(stderr, "context canceled") {
			t.Errorf("%s: exit %d, %q; want exit 3, interrupted", args[0], code, stderr)
		}
		if left := entries(t, out); len(left) > 0 {
			t.Errorf("%s: the interrupted run left %v in the output directory", args[0], left)
		}
	}
}

// TestInterruptHangingLlamaCpp cancels a trace whose llama.cpp hangs (a
// script that starts a child and sleeps): parity returns promptly, the
// whole process group is gone, the dump directory it made is removed, and
// no trace file is written.
func TestInterruptHangingLlamaCpp(t *testing.T) {
	dir := t.TempDir()
	tmp := filepath.Join(dir, "tmp")
	out := filepath.Join(dir, "out")
	for _, d := range []string{tmp, out} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("TMPDIR", tmp) // where the llamacpp engine makes its dump directory
	pidFile := filepath.Join(dir, "pid")
	bin := filepath.Join(dir, "llama-dump")
	script := fmt.Sprintf("#!/bin/sh\nsleep 600 &\necho $! > '%s.tmp'; mv '%s.tmp' '%s'\nwait\n", pidFile, pidFile, pidFile)
	if err := os.WriteFile(bin, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	started := func() bool { _, err := os.Stat(pidFile); return err == nil }
	_, stderr, code := interrupt(t, started, "trace", "-m", shared(t, "models/stories260K.gguf"), "--engine", "llamacpp",
		"--llama-bin", bin, "--tokens", "1,403,407", "--full", "-o", filepath.Join(out, "x.trace.jsonl.zst"))
	if code != exitUsageIO || !strings.Contains(stderr, "cancelled") || !strings.Contains(stderr, "process group was killed") {
		t.Errorf("exit %d, %q; want exit 3 naming the cancelled llama.cpp", code, stderr)
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Sscan(string(b), &pid)
	// The kill is asynchronous to the script's reaping by init; poll for
	// it rather than time it.
	for i := 0; !processGone(pid); i++ {
		if i == 2000 {
			t.Fatalf("the hanging script's child %d still runs", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if left := entries(t, out); len(left) > 0 {
		t.Errorf("the interrupted trace left %v", left)
	}
	if left := entries(t, tmp); len(left) > 0 {
		t.Errorf("the llamacpp engine left %v in $TMPDIR", left)
	}
}

// processGone reports whether pid has exited (absent, or a zombie).
func processGone(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

// TestInterruptedVerdictIsNoVerdict: a diff interrupted while it measures
// the noise floor stops there (exit 3) instead of judging with fallback
// budgets and printing a verdict.
func TestInterruptedVerdictIsNoVerdict(t *testing.T) {
	dir := t.TempDir()
	m := shared(t, "models/stories260K.gguf")
	a, b := filepath.Join(dir, "a.trace.jsonl.zst"), filepath.Join(dir, "b.trace.jsonl.zst")
	for _, args := range [][]string{
		{"trace", "-m", m, "--engine", "apr", "--tokens", "1,403,407", "--full", "-o", a},
		{"trace", "-m", m, "--engine", "gguf", "--tokens", "1,403,407", "--full", "-o", b},
	} {
		if _, stderr, code := parity(t, args...); code != 0 {
			t.Fatalf("%v: %s", args, stderr)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var o, e bytes.Buffer
	if code := run(ctx, []string{"--color", "never", "diff", a, b}, &o, &e); code != exitUsageIO || o.Len() > 0 || !strings.Contains(e.String(), "interrupted") {
		t.Errorf("diff under a cancelled context: exit %d\n%s%s", code, o.String(), e.String())
	}
}
