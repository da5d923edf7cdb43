//go:build openblas

// Package openblas is the cgo binding to OpenBLAS's own controls (thread
// count, configuration, kernels); the BLAS routines themselves go through
// gonum.org/v1/netlib. It is a package of its own because a Go package
// cannot hold both cgo and Go assembly.
package openblas

/*
#cgo LDFLAGS: -lopenblas
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);
*/
import "C"

import "strings"

// SetThreads sets the number of threads OpenBLAS computes on.
func SetThreads(n int) { C.openblas_set_num_threads(C.int(n)) }

// Threads is the number of threads OpenBLAS computes on.
func Threads() int { return int(C.openblas_get_num_threads()) }

// Config is OpenBLAS's build configuration, e.g. "OpenBLAS 0.3.21
// DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
func Config() string { return strings.TrimSpace(C.GoString(C.openblas_get_config())) }

// Core names the kernels OpenBLAS chose for this CPU (e.g. "Haswell",
// "SkylakeX"); the OPENBLAS_CORETYPE environment variable overrides the
// choice at start-up.
func Core() string { return C.GoString(C.openblas_get_corename()) }
