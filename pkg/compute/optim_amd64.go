//go:build !purego

package compute

//go:noescape
func adamAVX512(w, grad, m, v *float32, n int, c *[7]float32)

//go:noescape
func adamAVX2(w, grad, m, v *float32, n int, c *[7]float32)

// adamVec updates the longest prefix the vector kernels handle and
// returns its length.
func adamVec(w, g, m, v []float32, c *[7]float32) int {
	switch n := len(w); {
	case useAVX512 && n >= 16:
		n &^= 15
		adamAVX512(&w[0], &g[0], &m[0], &v[0], n, c)
		return n
	case useAVX2 && n >= 8:
		n &^= 7
		adamAVX2(&w[0], &g[0], &m[0], &v[0], n, c)
		return n
	}
	return 0
}
