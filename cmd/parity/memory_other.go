//go:build !linux

package main

// physicalMemory is unknown here: --max-memory auto sets no limit.
func physicalMemory() int64 { return 0 }
