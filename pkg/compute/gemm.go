package compute

import (
	"gonum.org/v1/gonum/blas"
)

// Float is the element type of every tensor dltrain computes on.
type Float interface{ ~float32 | ~float64 }

// BLAS is a full BLAS implementation in both precisions, what Gorgonia's
// own ops need.
type BLAS interface {
	blas.Float32
	blas.Float64
	blas.Complex64
	blas.Complex128
}

// impl is the BLAS behind Gemm; openblas.go replaces it in cgo builds.
var impl BLAS = pureGo{}

// BLASName names the BLAS in use, for `dltrain version` and benchmarks.
var BLASName = "gonum (pure Go)"

// Implementation returns the BLAS this build computes with, so that the
// graph library can be pointed at it too.
func Implementation() BLAS { return impl }

// ProductsAllocate reports whether this build's float32 matrix products
// allocate: gonum's Sgemm does, and it is the one used where the CPU has
// neither AVX-512 nor AVX2 with FMA (and in purego builds). dltrain's own
// kernels and OpenBLAS do not.
func ProductsAllocate() bool {
	_, ok := impl.(pureGo)
	return ok && !(useAVX512 || useFMA)
}

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// Gemm computes c = alpha·op(a)·op(b) + beta·c on row-major matrices, where
// op(a) is m×k, op(b) is k×n and c is m×n.
func Gemm[T Float](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	switch cc := any(c).(type) {
	case []float32:
		impl.Sgemm(trans(transA), trans(transB), m, n, k, float32(alpha), any(a).([]float32), lda,
			any(b).([]float32), ldb, float32(beta), cc, ldc)
	case []float64:
		impl.Dgemm(trans(transA), trans(transB), m, n, k, float64(alpha), any(a).([]float64), lda,
			any(b).([]float64), ldb, float64(beta), cc, ldc)
	}
}
