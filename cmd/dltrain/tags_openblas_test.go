//go:build openblas

package main

// buildTags: the end-to-end tests build the binary they run with the
// build tags of the test itself, so that `go test -tags openblas` tests the
// OpenBLAS binary.
const buildTags = "openblas"
