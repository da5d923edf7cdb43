//go:build !amd64 || purego

package compute

// dotKernel never runs here: the dot path needs useAVX512VL.
func dotKernel(m, n, k int, a *float32, lda int, b *float32, ldb int, out *[16]float32) {
	panic("compute: no dot kernels on this platform")
}

func maxPool2x2AVX512(out *float32, idx *int32, in *float32, oh, ow, w int, tab *[48]int32) {
	panic("compute: no max-pool kernel on this platform")
}

func copy2DAVX512(dst *float32, dstStride int, src *float32, srcStride int, rows, cols int) {
	panic("compute: no vector kernels on this platform")
}

func add2DAVX512(dst *float32, dstStride int, src *float32, srcStride int, rows, cols int) {
	panic("compute: no vector kernels on this platform")
}

func reluAVX512(out, x *float32, n int) { panic("compute: no vector kernels on this platform") }

func addConstAVX512(dst, src *float32, n int, c float32) {
	panic("compute: no vector kernels on this platform")
}

func sumAVX512(x *float32, n int) float32 { panic("compute: no vector kernels on this platform") }

func spinPause() {}

func sqDiffSumAVX512(p, t *float32, n int) float64 {
	panic("compute: no vector kernels on this platform")
}

func scaledDiffAVX512(dx, p, t *float32, n int, s float32) {
	panic("compute: no vector kernels on this platform")
}

func copy2DAVX2(dst *float32, dstStride int, src *float32, srcStride int, rows, cols int) {
	panic("compute: no AVX2 on this platform")
}

func add2DAVX2(dst *float32, dstStride int, src *float32, srcStride int, rows, cols int) {
	panic("compute: no AVX2 on this platform")
}

func sumAVX2(x *float32, n int) float32 {
	panic("compute: no AVX2 on this platform")
}

func maxPool2x2AVX2(out *float32, idx *int32, in *float32, oh, ow, w int, tab *[48]int32) {
	panic("compute: no AVX2 on this platform")
}
