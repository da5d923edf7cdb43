package main

import (
	"errors"
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/gradcheck"
	"github.com/dltrain/dltrain/pkg/run"
	"github.com/dltrain/dltrain/pkg/train"
)

// Exit codes; docs/exit-codes-and-signals.md documents them.
const (
	exitOK          = 0
	exitInternal    = 1
	exitUsage       = 2 // bad config, data, checkpoint or command line
	exitDiverged    = 3
	exitGradient    = 4   // dltrain gradcheck found a gradient above the tolerance
	exitIO          = 5   // the machine failed us: disk full, read-only file system, I/O error, permission denied
	exitInterrupted = 130 // 143 after SIGTERM, 129 after SIGHUP
)

var errUsage = errors.New("usage")

func usageErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errUsage}, args...)...)
}

// exitCode maps an error to the process exit code.
func exitCode(err error, a *app) int {
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, train.ErrInterrupted):
		if a.signal != nil {
			return signalCode(a.signal)
		}
		return exitInterrupted
	case errors.Is(err, train.ErrDiverged):
		return exitDiverged
	case errors.Is(err, gradcheck.ErrMismatch):
		return exitGradient
	case ioFailure(err):
		// Before the usage errors: a write that fails for want of space
		// is not the input's fault, whatever the error also says.
		return exitIO
	case errors.Is(err, errUsage), errors.Is(err, config.ErrInvalid), errors.Is(err, data.ErrBadData),
		errors.Is(err, train.ErrBadCheckpoint), errors.Is(err, run.ErrInUse), !a.ran:
		// Errors before any command ran are cobra's: unknown command or flag.
		return exitUsage
	}
	return exitInternal
}
