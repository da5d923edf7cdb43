//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package run

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the file in a run directory that a training process holds
// an exclusive lock (flock) on, and writes its process ID into.
const LockFile = ".lock"

// lockRun takes the run directory's lock without waiting: two processes
// training one run at once would interleave its metrics and checkpoints.
// A run held by another process is ErrInUse, naming that process.
// The lock ends with release or with the process, however it ends (a
// kill -9 leaves no stale lock); the file stays.
func lockRun(dir string) (release func(), err error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot lock the run directory %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("cannot lock the run directory %s: %w", dir, err)
		}
		who := "another dltrain process"
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			who += fmt.Sprintf(" (PID %d)", pid)
		}
		return nil, fmt.Errorf("%w: %s is being trained by %s; wait for it to finish or stop it (SIGINT or SIGTERM saves a checkpoint), then resume", ErrInUse, dir, who)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil
}
