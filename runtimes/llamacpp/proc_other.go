//go:build !unix

package llamacpp

import (
	"os"
	"os/exec"
)

// ownProcessGroup leaves the command as it is: without process groups,
// cancellation kills the process alone (exec.CommandContext's default).
func ownProcessGroup(*exec.Cmd) {}

// signalName is empty where processes do not end by signals.
func signalName(*os.ProcessState) string { return "" }
