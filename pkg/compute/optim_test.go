package compute

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(rng *rand.Rand, n int, scale float64) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(scale * rng.NormFloat64())
	}
	return s
}

// vectorPaths runs f once per kernel this CPU has (AVX-512, AVX2, none),
// switching the others off.
func vectorPaths(t *testing.T, f func(t *testing.T)) {
	save512, save2 := useAVX512, useAVX2
	defer func() { useAVX512, useAVX2 = save512, save2 }()
	paths := []struct {
		name      string
		avx512, a bool
	}{{"avx512", true, true}, {"avx2", false, true}, {"scalar", false, false}}
	for _, p := range paths {
		if (p.avx512 && !save512) || (p.a && !save2) {
			continue
		}
		useAVX512, useAVX2 = p.avx512, p.a
		t.Run(p.name, f)
	}
}

// TestAdamStepMatchesReference checks the vector kernels against the
// plain loop bit for bit, at lengths around the lane counts, over several
// steps so that the moments are non-trivial.
func TestAdamStepMatchesReference(t *testing.T) {
	vectorPaths(t, func(t *testing.T) {
		for _, n := range []int{0, 1, 7, 8, 9, 15, 16, 17, 31, 33, 100, 1027} {
			rng := rand.New(rand.NewPCG(uint64(n), 1))
			w := randSlice(rng, n, 1)
			wRef := append([]float32(nil), w...)
			m, v := make([]float32, n), make([]float32, n)
			mRef, vRef := make([]float32, n), make([]float32, n)
			for step := int64(1); step <= 5; step++ {
				g := randSlice(rng, n, 0.1)
				p := NewAdamParams(1e-3, 0.9, 0.999, 1e-8, step)
				AdamStep(w, g, m, v, p)
				adamRef(wRef, g, mRef, vRef, p)
			}
			for i := range w {
				if w[i] != wRef[i] || m[i] != mRef[i] || v[i] != vRef[i] {
					t.Fatalf("n=%d, element %d: w %v m %v v %v, want %v %v %v", n, i, w[i], m[i], v[i], wRef[i], mRef[i], vRef[i])
				}
			}
		}
	})
}

// TestAdamStepFormula checks one step against the published formula in
// float64 on known numbers (torch.optim.Adam, first step: the update is
// lr·g/(|g| + ε·…) ≈ lr·sign(g)).
func TestAdamStepFormula(t *testing.T) {
	w := []float64{1, -2, 0.5}
	g := []float64{0.1, -0.3, 0}
	m, v := make([]float64, 3), make([]float64, 3)
	const lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
	for step := int64(1); step <= 2; step++ {
		AdamStep(w, g, m, v, NewAdamParams(lr, b1, b2, eps, step))
	}
	// Two steps with the same gradient: m̂ = g, v̂ = g², so each step moves
	// lr·g/(|g|+ε) exactly.
	for i, w0 := range []float64{1, -2, 0.5} {
		want := w0
		for range 2 {
			want -= lr * g[i] / (math.Abs(g[i]) + eps)
		}
		if math.Abs(w[i]-want) > 1e-12 {
			t.Errorf("w[%d] = %v, want %v", i, w[i], want)
		}
	}
}

func TestMomentumStepFormula(t *testing.T) {
	for _, nesterov := range []bool{false, true} {
		w, b := []float64{1}, []float64{0}
		const lr, mu = 0.1, 0.9
		g := []float64{2}
		MomentumStep(w, g, b, lr, mu, 0, nesterov, true) // b = 2
		MomentumStep(w, g, b, lr, mu, 0, nesterov, false)
		// b₂ = 0.9·2 + 2 = 3.8.
		want := 1 - lr*2 - lr*3.8
		if nesterov {
			want = 1 - lr*(2+mu*2) - lr*(2+mu*3.8)
		}
		if math.Abs(w[0]-want) > 1e-12 || math.Abs(b[0]-3.8) > 1e-12 {
			t.Errorf("nesterov=%v: w %v b %v, want %v 3.8", nesterov, w[0], b[0], want)
		}
	}
	w := []float32{1, 2}
	SGDStep(w, []float32{1, -1}, 0.5)
	if w[0] != 0.5 || w[1] != 2.5 {
		t.Errorf("SGDStep: %v, want [0.5 2.5]", w)
	}
}

func TestAllFinite(t *testing.T) {
	vectorPaths(t, testAllFinite)
}

func testAllFinite(t *testing.T) {
	long := func(bad float32, at int) []float32 {
		x := make([]float32, 100)
		for i := range x {
			x[i] = float32(i) - 50
		}
		if at >= 0 {
			x[at] = bad
		}
		return x
	}
	for _, c := range []struct {
		x    []float32
		want bool
	}{
		{nil, true},
		{[]float32{1, -3e38, 0}, true},
		{[]float32{1, float32(math.NaN())}, false},
		{[]float32{float32(math.Inf(-1)), 1}, false},
		{long(0, -1), true},
		{long(float32(math.NaN()), 3), false},
		{long(float32(math.Inf(1)), 40), false},
		{long(float32(math.Inf(-1)), 70), false},
		{long(float32(math.NaN()), 99), false},
		{long(3e38, 64), true},
	} {
		if got := AllFinite(c.x); got != c.want {
			t.Errorf("AllFinite(%v) = %v", c.x, got)
		}
	}
}

func BenchmarkAllFinite(b *testing.B) {
	x := randSlice(rand.New(rand.NewPCG(1, 1)), 235146, 1)
	b.SetBytes(4 * 235146)
	for b.Loop() {
		AllFinite(x)
	}
}

func BenchmarkAdamStep(b *testing.B) {
	const n = 235146 // the mlp workload's parameters
	rng := rand.New(rand.NewPCG(1, 1))
	w, g := randSlice(rng, n, 1), randSlice(rng, n, 0.1)
	m, v := make([]float32, n), make([]float32, n)
	p := NewAdamParams(1e-3, 0.9, 0.999, 1e-8, 10)
	b.Run("vector", func(b *testing.B) {
		b.SetBytes(7 * 4 * n)
		for b.Loop() {
			AdamStep(w, g, m, v, p)
		}
	})
	b.Run("scalar", func(b *testing.B) {
		b.SetBytes(7 * 4 * n)
		for b.Loop() {
			adamRef(w, g, m, v, p)
		}
	})
}
