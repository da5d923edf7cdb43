//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package data

import (
	"errors"
	"os"
	"syscall"
)

// haveLocks says lockDir works: the temporary directory of a running
// prepare is locked.
const haveLocks = true

// lockDir takes an exclusive advisory lock (flock) on the directory dir
// without waiting; ok is false when another process (or another open of
// it in this one) holds it. The lock ends with release or with the
// process, however it ends, so a killed prepare never leaves its
// temporary directory looking in use.
func lockDir(dir string) (release func(), ok bool, err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return func() { f.Close() }, true, nil
}
