package compute

import (
	"math"
	"math/rand/v2"
	"testing"
)

func ulps(got float32, want float64) float64 {
	w := float32(want)
	ulp := math.Nextafter32(w, float32(math.Inf(1))) - w
	return math.Abs(float64(got)-want) / float64(ulp)
}

func TestExpNeg32Accuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	worst := 0.0
	for i := 0; i < 200000; i++ {
		x := float32(-87 * rng.Float64())
		if i < 1000 {
			x = float32(-rng.Float64() * 1e-3)
		}
		if u := ulps(expNeg32(x), math.Exp(float64(x))); u > worst {
			worst = u
		}
	}
	if worst > 2 {
		t.Errorf("expNeg32: worst error %.2f ulp, want <= 2", worst)
	}
	t.Logf("worst error %.2f ulp", worst)
	if got := expNeg32(0); got != 1 {
		t.Errorf("e^0 = %v", got)
	}
	if got := expNeg32(-1000); got <= 0 || got > 2e-38 {
		t.Errorf("e^-1000 = %v, want e^-87", got)
	}
	if got := expNeg32(float32(math.NaN())); !math.IsNaN(float64(got)) {
		t.Errorf("e^NaN = %v", got)
	}
}

func TestSigmoid32Accuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(2, 1))
	worst := 0.0
	for i := 0; i < 200000; i++ {
		x := float32(40 * (2*rng.Float64() - 1))
		want := 1 / (1 + math.Exp(-float64(x)))
		if u := ulps(sigmoid32(x), want); u > worst {
			worst = u
		}
	}
	if worst > 3 {
		t.Errorf("sigmoid32: worst error %.2f ulp, want <= 3", worst)
	}
	t.Logf("worst error %.2f ulp", worst)
}

func TestTanh32Accuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	worst := 0.0
	for i := 0; i < 200000; i++ {
		x := float32(10 * (2*rng.Float64() - 1))
		if i%4 == 0 {
			x /= 1000
		}
		if u := ulps(tanh32(x), math.Tanh(float64(x))); u > worst {
			worst = u
		}
	}
	if worst > 3 {
		t.Errorf("tanh32: worst error %.2f ulp, want <= 3", worst)
	}
	t.Logf("worst error %.2f ulp", worst)
	for _, x := range []float32{0, 100, -100} {
		if got, want := tanh32(x), float32(math.Tanh(float64(x))); got != want {
			t.Errorf("tanh32(%v) = %v, want %v", x, got, want)
		}
	}
}

// TestSigmoidMatchesScalar checks the vector kernels against sigmoid32 bit
// for bit, including the tails, zeros and NaN.
func TestSigmoidMatchesScalar(t *testing.T) {
	vectorPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(4, 1))
		for _, n := range []int{0, 1, 8, 15, 16, 17, 40, 1000} {
			x := randSlice(rng, n, 20)
			if n >= 16 {
				x[0], x[1], x[2], x[3], x[4] = 0, float32(math.Copysign(0, -1)), 1000, -1000, float32(math.NaN())
			}
			out := make([]float32, n)
			Sigmoid(out, x)
			for i, v := range x {
				want := sigmoid32(v)
				if math.IsNaN(float64(v)) {
					if !math.IsNaN(float64(out[i])) {
						t.Errorf("n=%d: sigmoid(NaN) = %v", n, out[i])
					}
					continue
				}
				if out[i] != want {
					t.Fatalf("n=%d: sigmoid(%v) = %v, scalar %v", n, v, out[i], want)
				}
			}
		}
	})
}

func TestReluGradMatchesScalar(t *testing.T) {
	vectorPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 1))
		for _, n := range []int{0, 1, 8, 15, 16, 17, 40, 1000} {
			x, dy := randSlice(rng, n, 1), randSlice(rng, n, 1)
			if n >= 16 {
				x[0], x[1], x[2] = 0, float32(math.Copysign(0, -1)), float32(math.NaN())
			}
			dx := make([]float32, n)
			ReluGrad(dx, x, dy)
			for i, v := range x {
				want := float32(0)
				if v > 0 {
					want = dy[i]
				}
				if dx[i] != want {
					t.Fatalf("n=%d: x %v dy %v: dx %v, want %v", n, v, dy[i], dx[i], want)
				}
			}
		}
	})
}

func TestAddAndSigmoidGradMatchScalar(t *testing.T) {
	vectorPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(6, 1))
		for _, n := range []int{0, 1, 15, 16, 17, 100} {
			a, b, y, dy := randSlice(rng, n, 1), randSlice(rng, n, 1), randSlice(rng, n, 1), randSlice(rng, n, 1)
			sum := append([]float32(nil), a...)
			Add(sum, b)
			dx := make([]float32, n)
			SigmoidGrad(dx, y, dy)
			for i := range n {
				if sum[i] != a[i]+b[i] {
					t.Fatalf("Add: element %d = %v, want %v", i, sum[i], a[i]+b[i])
				}
				if want := dy[i] * float32(y[i]*(1-y[i])); dx[i] != want {
					t.Fatalf("SigmoidGrad: element %d = %v, want %v", i, dx[i], want)
				}
			}
		}
	})
}

// TestTanhMatchesScalar checks the vector kernels against tanh32 bit for
// bit on both sides of the polynomial's bound 0.625, including the tails,
// zeros, infinities and NaN.
func TestTanhMatchesScalar(t *testing.T) {
	vectorPaths(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(8, 1))
		for _, n := range []int{0, 1, 8, 15, 16, 17, 40, 1000} {
			x := randSlice(rng, n, 2)
			if n >= 16 {
				x[0], x[1], x[2], x[3] = 0, float32(math.Copysign(0, -1)), 0.625, -0.625
				x[4], x[5], x[6] = math.Nextafter32(0.625, 0), float32(math.Inf(1)), float32(math.Inf(-1))
				x[7], x[8], x[9] = 60, -60, float32(math.NaN())
			}
			out := make([]float32, n)
			Tanh(out, x)
			for i, v := range x {
				if math.IsNaN(float64(v)) {
					if !math.IsNaN(float64(out[i])) {
						t.Errorf("n=%d: tanh(NaN) = %v", n, out[i])
					}
					continue
				}
				if want := tanh32(v); math.Float32bits(out[i]) != math.Float32bits(want) {
					t.Fatalf("n=%d: tanh(%v) = %v, scalar %v", n, v, out[i], want)
				}
			}
		}
	})
}
