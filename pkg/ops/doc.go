// Package ops implements dltrain's own Gorgonia operations.
//
// Gorgonia supplies the expression graph, shape and type checking, symbolic
// differentiation and the tape machine; the arithmetic of every op that a
// dltrain model runs is here, behind one small Kernel interface, because
// several of Gorgonia's ops are wrong (dropout's gradient, average pooling,
// LogSumExp, 4-D reductions) or slow (see GORGONIA_NOTES in the README).
// Each kernel writes its output into a buffer the tape machine reuses from
// step to step, and builds its gradient from other kernels, so that every
// op, forward and backward, is checked against finite differences in this
// package's tests.
package ops
