//go:build !amd64 || purego

package compute

// sgemm only runs where useAVX512 or useFMA is true, which neither is here.

func sgemmKernel8x32(kc int, a *float32, astep int, b *float32, bstep int, c *float32, ldc int, alpha float32) {
	panic("compute: no sgemm kernel on this platform")
}

func sgemmKernel8x32Rows(kc int, a *float32, lda int, b *float32, bstep int, c *float32, ldc int, alpha float32) {
	panic("compute: no sgemm kernel on this platform")
}

func sgemmKernel8x32Set(kc int, a *float32, astep int, b *float32, bstep int, c *float32, ldc int, alpha float32) {
	panic("compute: no sgemm kernel on this platform")
}

func sgemmKernel8x32RowsSet(kc int, a *float32, lda int, b *float32, bstep int, c *float32, ldc int, alpha float32) {
	panic("compute: no sgemm kernel on this platform")
}

func sgemmKernel8x32AVX2(kc int, a *float32, astep int, b *float32, bstep int, c *float32, ldc int, alpha float32) {
	panic("compute: no sgemm kernel on this platform")
}

func sgemmKernel8x32RowsAVX2(kc int, a *float32, lda int, b *float32, bstep int, c *float32, ldc int, alpha float32) {
	panic("compute: no sgemm kernel on this platform")
}

func sgemmKernel8x32SetAVX2(kc int, a *float32, astep int, b *float32, bstep int, c *float32, ldc int, alpha float32) {
	panic("compute: no sgemm kernel on this platform")
}

func sgemmKernel8x32RowsSetAVX2(kc int, a *float32, lda int, b *float32, bstep int, c *float32, ldc int, alpha float32) {
	panic("compute: no sgemm kernel on this platform")
}

func packB32(kb int, src *float32, ldb int, dst *float32) {
	panic("compute: no sgemm kernel on this platform")
}

func packBT32(kb int, src *float32, ldb int, dst *float32) {
	panic("compute: no sgemm kernel on this platform")
}

func packBT8AVX2(kb int, src *float32, ldb int, dst *float32) {
	panic("compute: no sgemm kernel on this platform")
}
