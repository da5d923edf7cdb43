//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package sweep

import "os"

// flock does not lock where flock is missing: one worker at a time.
func flock(f *os.File, wait bool) error { return nil }
