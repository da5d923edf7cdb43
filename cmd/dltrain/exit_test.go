//go:build unix

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/run"
	"github.com/dltrain/dltrain/pkg/train"
)

// TestExitCodes (issue 16, item 10): every class of failure has its own
// documented exit code; an I/O or environment failure (disk full,
// read-only file system, I/O error, permission denied) is 5 however it is
// wrapped, even inside an error that also says the input was bad.
func TestExitCodes(t *testing.T) {
	full := &fs.PathError{Op: "write", Path: "runs/x/checkpoints/.last.ckpt.tmp-1", Err: syscall.ENOSPC}
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"ok", nil, 0},
		{"internal", errors.New("a bug"), 1},
		{"bad config", fmt.Errorf("%w: bad", config.ErrInvalid), 2},
		{"bad data", fmt.Errorf("%w: bad", data.ErrBadData), 2},
		{"bad checkpoint", fmt.Errorf("%w: bad", train.ErrBadCheckpoint), 2},
		{"missing file", fmt.Errorf("%w: --output: %w", config.ErrInvalid, &fs.PathError{Op: "open", Path: "x/y", Err: syscall.ENOENT}), 2},
		{"run in use", fmt.Errorf("%w: runs/x/1 is being trained by another dltrain process (PID 7)", run.ErrInUse), 2},
		{"diverged", fmt.Errorf("%w at step 3", train.ErrDiverged), 3},
		{"disk full, checkpoint", fmt.Errorf("writing checkpoint %s: %w", "last.ckpt", full), 5},
		{"disk full, predictions", fmt.Errorf("%w: --output /dev/full: cannot write the predictions: %w", config.ErrInvalid, full), 5},
		{"disk quota", &fs.PathError{Op: "write", Path: "x", Err: syscall.EDQUOT}, 5},
		{"read-only file system", &fs.PathError{Op: "open", Path: "x", Err: syscall.EROFS}, 5},
		{"I/O error", &fs.PathError{Op: "read", Path: "x", Err: syscall.EIO}, 5},
		{"permission denied", fmt.Errorf("cannot create the run directory: %w", &fs.PathError{Op: "mkdir", Path: "x", Err: syscall.EACCES}), 5},
		{"not permitted", &fs.PathError{Op: "mkdir", Path: "x", Err: syscall.EPERM}, 5},
		{"unreadable data", &data.Error{File: "d.csv", Msg: "cannot read: permission denied", Err: syscall.EACCES}, 5},
		{"data file missing", &data.Error{File: "d.csv", Msg: "cannot read: no such file or directory", Err: syscall.ENOENT}, 2},
		{"interrupted", fmt.Errorf("%w at epoch 2", train.ErrInterrupted), 130},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := &app{ran: true}
			if got := exitCode(tc.err, a); got != tc.want {
				t.Errorf("exitCode(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
	for sig, want := range map[os.Signal]int{syscall.SIGINT: 130, syscall.SIGTERM: 143, syscall.SIGHUP: 129} {
		a := &app{ran: true, signal: sig}
		if got := exitCode(fmt.Errorf("%w at epoch 2", train.ErrInterrupted), a); got != want {
			t.Errorf("interrupted by %v: exit %d, want %d", sig, got, want)
		}
	}
}
