//go:build !unix

package main

import (
	"errors"
	"io/fs"
	"syscall"
)

// ioFailure says whether err is, or wraps, an I/O or environment failure:
// no space or no permission.
func ioFailure(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, fs.ErrPermission)
}
