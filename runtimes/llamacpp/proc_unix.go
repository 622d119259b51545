//go:build unix

package llamacpp

import (
	"os/exec"
	"syscall"
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
