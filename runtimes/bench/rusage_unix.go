//go:build unix

package bench

import (
	"runtime"
	"syscall"
)

// peakRSS is getrusage(RUSAGE_SELF).ru_maxrss in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return maxrssBytes(ru.Maxrss)
}

// maxrssBytes converts ru_maxrss, which Linux and the BSDs give in KiB and
// Darwin in bytes.
func maxrssBytes(v int64) int64 {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return v
	}
	return v * 1024
}
