package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// LlamaResult is what llama-bench reported for one model and thread count.
type LlamaResult struct {
	Speed
	Build   string // build_commit, when reported
	Backend string // backends, when reported
	// PeakRSS is llama-bench's maximum resident set size in bytes
	// (getrusage RUSAGE_CHILDREN after it exits; 0 where unsupported).
	PeakRSS int64
}

// llamaTest is the subset of one llama-bench JSON record parity reads.
type llamaTest struct {
	BuildCommit string  `json:"build_commit"`
	Backends    string  `json:"backends"`
	NPrompt     int     `json:"n_prompt"`
	NGen        int     `json:"n_gen"`
	NThreads    int     `json:"n_threads"`
	AvgTS       float64 `json:"avg_ts"`
}

// RunLlamaBench runs `llama-bench -m model -p prompt -n gen -t threads -r
// reps -o json` and reads its prompt and generation speeds. It is killed
// with ctx.
func RunLlamaBench(ctx context.Context, bin, model string, prompt, gen, threads, reps int) (*LlamaResult, error) {
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoLlamaBench, err)
	}
	cmd := exec.CommandContext(ctx, bin, "-m", model, "-p", strconv.Itoa(prompt), "-n", strconv.Itoa(gen),
		"-t", strconv.Itoa(threads), "-r", strconv.Itoa(reps), "-o", "json")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tail := stderr.Bytes()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return nil, fmt.Errorf("bench: llama-bench: %w\n%s", err, tail)
	}
	r, err := ParseLlamaBenchJSON(stdout.Bytes(), prompt, gen)
	if err != nil {
		return nil, err
	}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.PeakRSS = maxrssBytes(ru.Maxrss)
		}
	}
	return r, nil
}

// ParseLlamaBenchJSON reads llama-bench's `-o json` output (an array of
// test records) and returns the average tokens per second of the prompt
// test with n_prompt = prompt, n_gen = 0 and of the generation test with
// n_prompt = 0, n_gen = gen.
func ParseLlamaBenchJSON(out []byte, prompt, gen int) (*LlamaResult, error) {
	var tests []llamaTest
	if err := json.Unmarshal(out, &tests); err != nil {
		return nil, fmt.Errorf("bench: llama-bench output: %w", err)
	}
	r := &LlamaResult{}
	var havePP, haveTG bool
	for _, t := range tests {
		switch {
		case t.NPrompt == prompt && t.NGen == 0:
			r.PrefillTokS, havePP = t.AvgTS, true
		case t.NPrompt == 0 && t.NGen == gen:
			r.DecodeTokS, haveTG = t.AvgTS, true
		default:
			continue
		}
		r.Build, r.Backend = t.BuildCommit, t.Backends
	}
	if !havePP || !haveTG {
		return nil, errors.New("bench: llama-bench output lacks the pp" + strconv.Itoa(prompt) + " or tg" + strconv.Itoa(gen) + " test")
	}
	return r, nil
}
