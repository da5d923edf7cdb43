//go:build !purego

package compute

//go:noescape
func sgemmKernel8x32(kc int, a, b, c *float32, ldc int, alpha float32)
