package run

import "golang.org/x/sys/unix"

// availableMemory is the machine's physical memory (hw.memsize): macOS
// has no cheap figure for what is available, so the estimate is held to
// the whole memory, and train.max_memory sets a tighter limit.
func availableMemory() (int64, string) {
	n, err := unix.SysctlUint64("hw.memsize")
	if err != nil || n == 0 {
		return 0, ""
	}
	return int64(n), "hw.memsize, the physical memory"
}
