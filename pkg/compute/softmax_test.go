package compute

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSoftmaxPiecesMatchScalar checks Max, ExpShift and DivConst on every
// vector path against the plain loops bit for bit, at lengths around the
// lane counts, with zeros, the −87 clamp and NaN.
func TestSoftmaxPiecesMatchScalar(t *testing.T) {
	vectorPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 1))
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 40, 64, 1000} {
			x := randSlice(rng, n, 30)
			if n >= 16 {
				x[3], x[5], x[9] = 0, -200, float32(math.Copysign(0, -1))
			}
			want := float32(math.Inf(-1))
			for _, v := range x {
				want = max(want, v)
			}
			m := Max(x)
			if m != want {
				t.Fatalf("n=%d: Max = %v, want %v", n, m, want)
			}
			e := make([]float32, n)
			ExpShift(e, x, m)
			for i, v := range x {
				if w := expNeg32(v - m); e[i] != w {
					t.Fatalf("n=%d: ExpShift(%v − %v) = %v, scalar %v", n, v, m, e[i], w)
				}
			}
			s := float32(1 + rng.Float64())
			d := append([]float32(nil), e...)
			DivConst(d, s)
			for i, v := range e {
				if d[i] != v/s {
					t.Fatalf("n=%d: %v / %v = %v, want %v", n, v, s, d[i], v/s)
				}
			}
			if n >= 16 {
				x[11] = float32(math.NaN())
				ExpShift(e, x, Max(x))
				if !math.IsNaN(float64(e[11])) {
					t.Errorf("n=%d: e^(NaN − m) = %v", n, e[11])
				}
			}
		}
	})
}

// TestExpShiftFloat64 is math.Exp of the shifted values.
func TestExpShiftFloat64(t *testing.T) {
	x := []float64{-3, 0.5, 2}
	out := make([]float64, 3)
	ExpShift(out, x, Max(x))
	for i, v := range x {
		if want := math.Exp(v - 2); out[i] != want {
			t.Errorf("e^(%v − 2) = %v, want %v", v, out[i], want)
		}
	}
	DivConst(out, 4)
	if want := math.Exp(-5) / 4; out[0] != want {
		t.Errorf("DivConst: %v, want %v", out[0], want)
	}
}
