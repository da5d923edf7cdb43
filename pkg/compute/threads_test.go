package compute

import (
	"runtime"
	"testing"
)

func TestSetThreads(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	defer SetThreads(before)
	if got := SetThreads(1); got != 1 || runtime.GOMAXPROCS(0) != 1 || Threads() != 1 {
		t.Errorf("SetThreads(1) = %d, GOMAXPROCS %d, Threads %d", got, runtime.GOMAXPROCS(0), Threads())
	}
	if got := SetThreads(0); got != runtime.NumCPU() || Threads() != runtime.NumCPU() {
		t.Errorf("SetThreads(0) = %d, want all %d cores", got, runtime.NumCPU())
	}
}
