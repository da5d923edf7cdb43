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
// package's tests. A kernel's arithmetic is written once, as a generic body
// over the element type, which typed runs in float32 or float64.
//
// Besides the layers of image and tabular models (dense, convolution,
// pooling, normalization, losses), the N-D ops that sequence models are
// built from live here: broadcasting arithmetic, slices, concatenation,
// permutations, batched products, embedding lookup, masks, softmax over
// the last axis, dense layers over the last axis and the sequence
// cross-entropy (docs/ops-nd.md).
package ops
