package compute

import "math"

// Constants of exp32 (Cephes' expf): e^t = 2^n·e^r with n = round(t/ln 2)
// and r = t − n·ln 2 in [−ln2/2, ln2/2], ln 2 split in two so that n·ln2Hi
// is exact.
const (
	log2e   = 1.44269504088896341
	ln2Hi   = 0.693359375
	ln2Lo   = -2.12194440e-4
	expMin  = -87.0 // e^−87 is the smallest result kept normal
	expP0   = 1.9875691500e-4
	expP1   = 1.3981999507e-3
	expP2   = 8.3334519073e-3
	expP3   = 4.1665795894e-2
	expP4   = 1.6666665459e-1
	expP5   = 5.0000001201e-1
	expHalf = 0.5
)

// expNeg32 returns e^t for t <= 0 in float32, within 2 ulp; t below −87 is
// taken as −87 (e^−87 ≈ 1.6e−38) so that no result is subnormal. Each
// operation is rounded as written, so that the vector kernels, which do
// the same operations in the same order, give the same bits.
func expNeg32(t float32) float32 {
	t = max(t, expMin) // NaN stays NaN
	fx := float32(t*log2e) + expHalf
	n := float32(math.Floor(float64(fx)))
	r := t - float32(n*ln2Hi)
	r -= float32(n * ln2Lo)
	p := float32(expP0*r) + expP1
	p = float32(p*r) + expP2
	p = float32(p*r) + expP3
	p = float32(p*r) + expP4
	p = float32(p*r) + expP5
	p = float32(float32(p*float32(r*r)) + r)
	p += 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// sigmoid32 is the logistic function 1/(1+e^−x) in float32, computed
// from e^−|x| so that neither tail overflows: 1/(1+z) for x >= 0, z/(1+z)
// below.
func sigmoid32(x float32) float32 {
	z := expNeg32(-abs32(x))
	d := 1 + z
	if math.Signbit(float64(x)) { // as the vector kernels test it; -0 gives 1/2 either way
		return z / d
	}
	return 1 / d
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

func sigmoid64(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

func tanh64(x float64) float64 { return math.Tanh(x) }

// Coefficients of Cephes' tanhf on |x| < 0.625: tanh x ≈ x + x·x²·P(x²).
const (
	tanhT0 = -5.70498872745e-3
	tanhT1 = 2.06390887954e-2
	tanhT2 = -5.37397155531e-2
	tanhT3 = 1.33314422036e-1
	tanhT4 = -3.33332819422e-1
)

// tanh32 is tanh in float32 within 2 ulp: a polynomial near 0, where
// 1 − e^−2|x| would cancel, else (1 − e^−2|x|)/(1 + e^−2|x|) with x's sign.
func tanh32(x float32) float32 {
	a := abs32(x)
	if a < 0.625 {
		z := x * x
		p := float32(tanhT0*z) + tanhT1
		p = float32(p*z) + tanhT2
		p = float32(p*z) + tanhT3
		p = float32(p*z) + tanhT4
		return x + float32(float32(x*z)*p)
	}
	e := expNeg32(-2 * a)
	y := (1 - e) / (1 + e)
	if x < 0 {
		return -y
	}
	return y
}
