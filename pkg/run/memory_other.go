//go:build !linux && !darwin

package run

// availableMemory cannot be read here: only train.max_memory limits the
// model's estimated memory.
func availableMemory() (int64, string) { return 0, "" }
