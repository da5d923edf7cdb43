package compute

import "math"

// negInf is −∞, the maximum of nothing.
var negInf = math.Inf(-1)

// The pieces of a softmax over a row of scores, each giving the same bits
// on every path (AVX-512, AVX2, plain Go): Max, ExpShift, Sum, DivConst.

// Max returns the largest element of x (−∞ for none). A NaN in x may or
// may not be returned; a softmax over such a row is NaN everywhere either
// way, since ExpShift keeps the NaN.
func Max[T Float](x []T) T {
	m := T(math.Inf(-1))
	if x32, ok := any(x).([]float32); ok {
		done, v := maxVec(x32)
		x, m = x[done:], T(v)
	}
	for _, v := range x {
		if v > m {
			m = v
		}
	}
	return m
}

// ExpShift writes e^(x−m) into out for each x, where m is at least every
// x (a softmax's shift by its row's maximum), so that nothing overflows.
// Float32 computes expNeg32(x − m) (within 2 ulp; below e^−87 it gives
// e^−87), vectorized on amd64 with the same operations in the same order;
// float64 uses math.Exp. out and x may be the same slice.
func ExpShift[T Float](out, x []T, m T) {
	out = out[:len(x)]
	if x32, ok := any(x).([]float32); ok {
		o32 := any(out).([]float32)
		done := expShiftVec(o32, x32, float32(m))
		for i := done; i < len(x32); i++ {
			o32[i] = expNeg32(x32[i] - float32(m))
		}
		return
	}
	for i, v := range x {
		out[i] = T(math.Exp(float64(v - m)))
	}
}

// DivConst divides each element of x by s, in place (vectorized for
// float32 on amd64; division is correctly rounded on every path).
func DivConst[T Float](x []T, s T) {
	if x32, ok := any(x).([]float32); ok {
		done := divConstVec(x32, float32(s))
		x = x[done:]
	}
	for i := range x {
		x[i] /= s
	}
}
