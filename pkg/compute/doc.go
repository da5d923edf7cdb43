// Package compute holds the numeric kernels under dltrain's ops: matrix
// multiplication through a BLAS chosen at build time (gonum's pure-Go BLAS by
// default, OpenBLAS through cgo with the `openblas` build tag), and the
// element-wise loops that the ops share. It knows nothing of graphs.
package compute
