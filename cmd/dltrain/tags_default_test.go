//go:build !openblas

package main

// buildTags: the end-to-end tests build the binary they run with the
// build tags of the test itself (none in the default build).
const buildTags = ""
