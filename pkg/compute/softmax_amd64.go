//go:build !purego

package compute

//go:noescape
func maxAVX512(x *float32, n int) float32

//go:noescape
func maxAVX2(x *float32, n int) float32

//go:noescape
func expShiftAVX512(out, x *float32, n int, m float32, c *[14][16]float32)

//go:noescape
func expShiftAVX2(out, x *float32, n int, m float32, c *[14][16]float32)

//go:noescape
func divConstAVX512(x *float32, n int, s float32)

//go:noescape
func divConstAVX2(x *float32, n int, s float32)

// maxVec returns the length of the longest prefix of x the vector
// kernels handle and its maximum (−∞ for none).
func maxVec(x []float32) (int, float32) {
	switch n := len(x); {
	case useAVX512 && n >= 16:
		n &^= 15
		return n, maxAVX512(&x[0], n)
	case useAVX2 && n >= 8:
		n &^= 7
		return n, maxAVX2(&x[0], n)
	}
	return 0, float32(negInf)
}

// expShiftVec computes the longest prefix of ExpShift the vector kernels
// handle and returns its length.
func expShiftVec(out, x []float32, m float32) int {
	switch n := len(x); {
	case useAVX512 && n >= 16:
		n &^= 15
		expShiftAVX512(&out[0], &x[0], n, m, &expConsts)
		return n
	case useAVX2 && n >= 8:
		n &^= 7
		expShiftAVX2(&out[0], &x[0], n, m, &expConsts)
		return n
	}
	return 0
}

// divConstVec divides the longest prefix of x the vector kernels handle
// by s and returns its length.
func divConstVec(x []float32, s float32) int {
	switch n := len(x); {
	case useAVX512 && n >= 16:
		n &^= 15
		divConstAVX512(&x[0], n, s)
		return n
	case useAVX2 && n >= 8:
		n &^= 7
		divConstAVX2(&x[0], n, s)
		return n
	}
	return 0
}
