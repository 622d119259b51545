package llamacpp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Errors of a llama.cpp subprocess, wrapped with details.
var (
	ErrNoBinary  = errors.New("llamacpp: no llama.cpp binary")
	ErrExit      = errors.New("llamacpp: llama.cpp failed")
	ErrTimeout   = errors.New("llamacpp: llama.cpp timed out")
	ErrCancelled = errors.New("llamacpp: llama.cpp run cancelled")
	ErrTruncated = errors.New("llamacpp: llama.cpp output is truncated")
	ErrTokens    = errors.New("llamacpp: llama.cpp ran other tokens than requested")
)

// waitDelay bounds how long Wait waits for the output pipes once the
// process group has been killed.
const waitDelay = 5 * time.Second

// run starts bin with args in a process group of its own and waits for it.
// stdout, if set, consumes the process's standard output while it runs
// (what it leaves unread is discarded); every line of standard error goes
// to stderrLine (if set) and the last stderrKeep bytes are kept for error
// messages. On ctx's cancellation or after timeout (0: none) the whole
// group is killed, so a hung llama.cpp and any child it started are gone
// when run returns.
func run(ctx context.Context, timeout time.Duration, bin string, args []string,
	stdout func(io.Reader) error, stderrLine func(string)) error {
	tctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		tctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	cmd := exec.CommandContext(tctx, bin, args...)
	ownProcessGroup(cmd)
	cmd.WaitDelay = waitDelay
	errLog := &logSink{onLine: stderrLine}
	cmd.Stderr = errLog
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("llamacpp: %w", err)
	}
	name := filepath.Base(bin)
	if err := cmd.Start(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %s: %w", ErrCancelled, name, ctx.Err())
		}
		return fmt.Errorf("%w: starting %s: %w", ErrExit, bin, err)
	}
	var consumeErr error
	if stdout != nil {
		consumeErr = stdout(pipe)
	}
	_, _ = io.Copy(io.Discard, pipe)
	waitErr := cmd.Wait()
	errLog.flush()
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("%w: %s (pid %d): %w; its process group was killed", ErrCancelled, name, cmd.Process.Pid, ctx.Err())
	case tctx.Err() != nil:
		return fmt.Errorf("%w: %s (pid %d) did not finish within %v; its process group was killed (raise --timeout)", ErrTimeout, name, cmd.Process.Pid, timeout)
	case waitErr != nil:
		return fmt.Errorf("%w: %s %s: %w%s%s", ErrExit, name, quoteArgs(args), waitErr, signalName(cmd.ProcessState), errLog.tailText())
	}
	return consumeErr
}

// quoteArgs renders args for a message, long ones shortened.
func quoteArgs(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if len(a) > 60 {
			a = a[:57] + "..."
		}
		q[i] = strconv.Quote(a)
		if a != "" && !strings.ContainsAny(a, " \t\"'\\") {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

// logSink collects a process's standard error: it hands each line to
// onLine (lines longer than maxLogLine are cut) and keeps the last
// stderrKeep bytes, so a chatty or endless stream costs bounded memory.
type logSink struct {
	onLine func(string)
	line   []byte
	tail   []byte
}

const (
	stderrKeep = 16 << 10
	maxLogLine = 64 << 10
	tailLines  = 20
)

func (s *logSink) Write(p []byte) (int, error) {
	s.tail = append(s.tail, p...)
	if len(s.tail) > 2*stderrKeep {
		s.tail = append(s.tail[:0], s.tail[len(s.tail)-stderrKeep:]...)
	}
	for _, c := range p {
		if c == '\n' {
			s.emit()
			continue
		}
		if len(s.line) < maxLogLine {
			s.line = append(s.line, c)
		}
	}
	return len(p), nil
}

func (s *logSink) emit() {
	if s.onLine != nil {
		s.onLine(string(s.line))
	}
	s.line = s.line[:0]
}

// flush hands on a last line without its newline.
func (s *logSink) flush() {
	if len(s.line) > 0 {
		s.emit()
	}
}

// tailText is the last lines of standard error, indented, for a message.
func (s *logSink) tailText() string {
	t := s.tail
	if len(t) > stderrKeep {
		t = t[len(t)-stderrKeep:]
	}
	lines := strings.Split(strings.TrimRight(string(t), "\n"), "\n")
	if len(lines) > tailLines {
		lines = lines[len(lines)-tailLines:]
	}
	if len(lines) == 1 && lines[0] == "" {
		return " (no output on stderr)"
	}
	return "; last lines of stderr:\n    " + strings.Join(lines, "\n    ")
}

// tokenLog reads the ids that llama-eval-callback logs to stderr before it
// decodes: "number of input tokens = N", then N lines "  <id>", each line
// after common/log.cpp's prefix when it writes one (a timestamp
// "M.ss.mmm.uuu " and a level letter "I ").
type tokenLog struct {
	ids    []int32
	want   int
	active bool
	done   bool
}

var (
	nTokensLine = regexp.MustCompile(`number of input tokens = (\d+)`)
	logPrefix   = regexp.MustCompile(`^(?:\d+\.\d+\.\d+\.\d+ )?(?:[IWED] )?`)
)

func (t *tokenLog) line(s string) {
	if m := nTokensLine.FindStringSubmatch(s); m != nil {
		n, err := strconv.Atoi(m[1])
		t.ids, t.want, t.active, t.done = nil, n, err == nil && n > 0, false
		return
	}
	if !t.active {
		return
	}
	v, err := strconv.ParseInt(strings.TrimSpace(logPrefix.ReplaceAllString(s, "")), 10, 32)
	if err != nil {
		t.active = false
		return
	}
	t.ids = append(t.ids, int32(v))
	if len(t.ids) == t.want {
		t.active, t.done = false, true
	}
}
