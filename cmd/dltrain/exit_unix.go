//go:build unix

package main

import (
	"errors"
	"syscall"
)

// ioErrnos are the system errors that say the machine, not the input,
// failed: no space, no quota, a read-only file system, an I/O error, no
// permission.
var ioErrnos = []syscall.Errno{syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EIO, syscall.EACCES, syscall.EPERM}

// ioFailure says whether err is, or wraps, an I/O or environment failure.
func ioFailure(err error) bool {
	for _, e := range ioErrnos {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
