package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// main turns the first Ctrl-C or SIGTERM into a cancelled context: engines
// stop at their next layer, llama.cpp's process group is killed, temporary
// files are removed and nothing half-written is renamed into place. Once
// that has begun, the signals are let through again, so a second Ctrl-C
// ends parity at once (leaving at most a hidden .*.tmp* file behind).
func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
