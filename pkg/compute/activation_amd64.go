//go:build !purego

package compute

//go:noescape
func reluGradAVX512(dx, x, dy *float32, n int)

//go:noescape
func reluGradAVX2(dx, x, dy *float32, n int)

// reluGradVec computes the longest prefix the vector kernels handle and
// returns its length.
func reluGradVec(dx, x, dy []float32) int {
	switch n := len(dx); {
	case useAVX512 && n >= 16:
		n &^= 15
		reluGradAVX512(&dx[0], &x[0], &dy[0], n)
		return n
	case useAVX2 && n >= 8:
		n &^= 7
		reluGradAVX2(&dx[0], &x[0], &dy[0], n)
		return n
	}
	return 0
}
