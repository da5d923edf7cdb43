//go:build !purego

package compute

import "math"

// expConsts holds, replicated across 16 lanes, the constants of
// sigmoid32 in the order the vector kernels read them: sign bit, −87,
// log₂e, ½, ln2Hi, ln2Lo, P0…P5, 1, the exponent bias 127 (as an int32).
var expConsts = func() (c [14][16]float32) {
	vals := [14]float32{math.Float32frombits(1 << 31), expMin, log2e, expHalf, ln2Hi, ln2Lo,
		expP0, expP1, expP2, expP3, expP4, expP5, 1, math.Float32frombits(127)}
	for i, v := range vals {
		for j := range c[i] {
			c[i][j] = v
		}
	}
	return c
}()

//go:noescape
func sigmoidAVX512(out, x *float32, n int, c *[14][16]float32)

//go:noescape
func sigmoidAVX2(out, x *float32, n int, c *[14][16]float32)

// sigmoidVec computes the longest prefix the vector kernels handle and
// returns its length.
func sigmoidVec(out, x []float32) int {
	switch n := len(x); {
	case useAVX512 && n >= 16:
		n &^= 15
		sigmoidAVX512(&out[0], &x[0], n, &expConsts)
		return n
	case useAVX2 && n >= 8:
		n &^= 7
		sigmoidAVX2(&out[0], &x[0], n, &expConsts)
		return n
	}
	return 0
}

// tanhConsts holds, replicated across 16 lanes, the constants of tanh32's
// polynomial in the order the vector kernels read them: T0…T4, 0.625.
var tanhConsts = func() (c [6][16]float32) {
	vals := [6]float32{tanhT0, tanhT1, tanhT2, tanhT3, tanhT4, 0.625}
	for i, v := range vals {
		for j := range c[i] {
			c[i][j] = v
		}
	}
	return c
}()

//go:noescape
func tanhAVX512(out, x *float32, n int, c *[14][16]float32, t *[6][16]float32)

//go:noescape
func tanhAVX2(out, x *float32, n int, c *[14][16]float32, t *[6][16]float32)

// tanhVec computes the longest prefix of Tanh the vector kernels handle
// and returns its length.
func tanhVec(out, x []float32) int {
	switch n := len(x); {
	case useAVX512 && n >= 16:
		n &^= 15
		tanhAVX512(&out[0], &x[0], n, &expConsts, &tanhConsts)
		return n
	case useAVX2 && n >= 8:
		n &^= 7
		tanhAVX2(&out[0], &x[0], n, &expConsts, &tanhConsts)
		return n
	}
	return 0
}
