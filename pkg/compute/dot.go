package compute

// Products C = A·Bᵀ whose inner dimension k is long and whose outer
// dimensions are small, such as the weight gradient of a convolution (dW =
// dY·colsᵀ, summed over every output position of the batch: 6×25 outputs
// over 36,864 positions for LeNet's first layer), are mostly packing for
// the tiled kernel: B must be transposed into panels, and each panel is
// used by only a few rows of A. They are computed instead as dot products
// of rows of A with rows of B, both read in place, by blocks of up to 4×4
// outputs (sdotKernel*, one vector accumulator per output); this ran 5–10×
// faster than the tiled kernel on those shapes.

// dotBlock is the number of k values per pass over the rows: the block of
// up to 32 rows of A (2 KB each) stays in L1 while each 4 rows of B stream
// past it once.
const dotBlock = 512

// useDot reports whether c = op(a)·op(b) goes through the dot kernels:
// A·Bᵀ with a long inner dimension and a narrow output.
func useDot(tA, tB bool, m, n, k int) bool {
	return useAVX512VL && !tA && tB && min(m, n) <= 32 && k >= 256
}

// sdot computes c = alpha·a·bᵀ + beta·c by dot products. Every element is
// summed in the same order whatever block computes it, so splitting the
// outputs over threads changes no bit.
func sdot(m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	scaleC(m, n, beta, c, ldc)
	if k == 0 || alpha == 0 {
		return
	}
	var out [16]float32
	kv := k &^ 15
	for p0 := 0; p0 < kv; p0 += dotBlock {
		kb := min(dotBlock, kv-p0)
		for j0 := 0; j0 < n; j0 += 4 {
			nr := min(4, n-j0)
			for i0 := 0; i0 < m; i0 += 4 {
				mr := min(4, m-i0)
				dotKernel(mr, nr, kb, &a[i0*lda+p0], lda, &b[j0*ldb+p0], ldb, &out)
				for i := range mr {
					row := c[(i0+i)*ldc+j0 : (i0+i)*ldc+j0+nr]
					for j := range row {
						row[j] += alpha * out[i*4+j]
					}
				}
			}
		}
	}
	if kv == k {
		return
	}
	for i := range m { // the last k mod 16 values
		ar := a[i*lda+kv : i*lda+k]
		for j := range n {
			br := b[j*ldb+kv : j*ldb+k]
			var s float32
			for p, v := range ar {
				s += v * br[p]
			}
			c[i*ldc+j] += alpha * s
		}
	}
}
