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

//go:noescape
func addAVX512(dst, src *float32, n int)

//go:noescape
func sigmoidGradAVX512(dx, y, dy *float32, n int, one *float32)

var one32 = float32(1)

func addVec(dst, src []float32) int {
	if n := len(dst) &^ 15; useAVX512 && n > 0 {
		addAVX512(&dst[0], &src[0], n)
		return n
	}
	return 0
}

func sigmoidGradVec(dx, y, dy []float32) int {
	if n := len(dx) &^ 15; useAVX512 && n > 0 {
		sigmoidGradAVX512(&dx[0], &y[0], &dy[0], n, &one32)
		return n
	}
	return 0
}

//go:noescape
func finiteAVX512(x *float32, n int) (ok bool)

func finiteVec(x []float32) (done int, ok bool) {
	if n := len(x) &^ 15; useAVX512 && n > 0 {
		return n, finiteAVX512(&x[0], n)
	}
	return 0, true
}
