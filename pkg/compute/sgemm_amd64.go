//go:build !purego

package compute

//go:generate python3 sgemm_gen.py

//go:noescape
func sgemmKernel8x32(kc int, a *float32, astep int, b *float32, bstep int, c *float32, ldc int, alpha float32)

//go:noescape
func sgemmKernel8x32Rows(kc int, a *float32, lda int, b *float32, bstep int, c *float32, ldc int, alpha float32)

//go:noescape
func sgemmKernel8x32Set(kc int, a *float32, astep int, b *float32, bstep int, c *float32, ldc int, alpha float32)

//go:noescape
func sgemmKernel8x32RowsSet(kc int, a *float32, lda int, b *float32, bstep int, c *float32, ldc int, alpha float32)

//go:noescape
func sgemmKernel8x32AVX2(kc int, a *float32, astep int, b *float32, bstep int, c *float32, ldc int, alpha float32)

//go:noescape
func sgemmKernel8x32RowsAVX2(kc int, a *float32, lda int, b *float32, bstep int, c *float32, ldc int, alpha float32)

//go:noescape
func sgemmKernel8x32SetAVX2(kc int, a *float32, astep int, b *float32, bstep int, c *float32, ldc int, alpha float32)

//go:noescape
func sgemmKernel8x32RowsSetAVX2(kc int, a *float32, lda int, b *float32, bstep int, c *float32, ldc int, alpha float32)

//go:noescape
func packB32(kb int, src *float32, ldb int, dst *float32)

//go:noescape
func packBT8AVX2(kb int, src *float32, ldb int, dst *float32)

//go:noescape
func packBT32(kb int, src *float32, ldb int, dst *float32)
