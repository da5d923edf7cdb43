package compute

import (
	"runtime"
	"sync/atomic"
)

// blasThreads sets the BLAS's own thread count; nil for BLAS that run on
// goroutines (gonum), which GOMAXPROCS already bounds.
var blasThreads func(n int)

var threads atomic.Int64

// SetThreads makes dltrain compute on n cores, n <= 0 meaning all of them:
// it sets GOMAXPROCS and, in the OpenBLAS build, OpenBLAS's thread count,
// so that Go's and the BLAS's threads do not fight over the same cores.
// It returns the number of threads now in use.
func SetThreads(n int) int {
	if n <= 0 {
		n = runtime.NumCPU()
	}
	runtime.GOMAXPROCS(n)
	if blasThreads != nil {
		blasThreads(n)
	}
	threads.Store(int64(n))
	return n
}

// Threads is the thread count SetThreads last set, or GOMAXPROCS when it
// was never called.
func Threads() int {
	if n := threads.Load(); n > 0 {
		return int(n)
	}
	return runtime.GOMAXPROCS(0)
}

// ThreadInvariant reports whether results are the same bits at any thread
// count: true for the pure-Go build, whose products and parallel jobs
// split work only between independent outputs; OpenBLAS's results change
// with its thread count (measured: last-bit differences).
func ThreadInvariant() bool {
	_, ok := impl.(pureGo)
	return ok
}

// BLASHasThreads reports whether the BLAS computes on threads of its own,
// outside Go's scheduler (the OpenBLAS build): they spin between products,
// so work run meanwhile on other goroutines fights them for the cores.
func BLASHasThreads() bool { return blasThreads != nil }
