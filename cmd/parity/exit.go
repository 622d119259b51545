package main

import (
	"errors"

	"github.com/layerwise/parity/diff"
)

// Exit codes, the contract scripts and CI rely on (DESIGN.md §6).
const (
	exitOK         = 0 // the runs agree (or the command simply succeeded)
	exitDivergence = 1 // the runs part ways
	exitRefused    = 2 // the runs could not be compared honestly
	exitUsageIO    = 3 // bad invocation, unreadable file, failed subprocess …
)

// usageError marks an error as the caller's mistake in invoking parity.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usageErr(err error) error { return &usageError{err} }

// exitCode is the one place an error becomes an exit status.
func exitCode(err error) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, diff.ErrDivergence):
		return exitDivergence
	case errors.Is(err, diff.ErrRefused):
		return exitRefused
	default:
		return exitUsageIO
	}
}
