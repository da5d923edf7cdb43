//go:build !amd64 || purego

package compute

func sgemmKernel8x32(kc int, a, b, c *float32, ldc int, alpha float32) {
	panic("compute: no sgemm kernel on this platform") // sgemm is only called where useAVX512
}
