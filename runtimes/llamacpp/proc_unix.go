//go:build unix

package llamacpp

import (
	"os"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// ownProcessGroup puts the command in a new process group and makes its
// cancellation kill the whole group, so that children llama.cpp may start
// (OpenMP workers are threads, but a wrapper script is a process) die with
// it.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

// signalName names the signal that ended the process, " (SIGSEGV)", or ""
// if it exited: the exit error says "signal: segmentation fault", and a
// crash report is searched for by the constant's name.
func signalName(ps *os.ProcessState) string {
	if ps == nil {
		return ""
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() {
		return ""
	}
	if name := unix.SignalName(ws.Signal()); name != "" {
		return " (" + name + ")"
	}
	return ""
}
