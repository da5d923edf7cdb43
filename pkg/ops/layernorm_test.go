package ops

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestLayerNormGradientsReuseTheForwardStatistics: the gradients read the
// row statistics the forward pass kept for the same input and get the
// bits they get computing them afresh; for another input (or after the
// input changed storage) they compute them.
func TestLayerNormGradientsReuseTheForwardStatistics(t *testing.T) {
	const rows, d, eps = 5, 8, 1e-5
	rng := rand.New(rand.NewPCG(3, 1))
	vec := func(n int) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		return v
	}
	x, other, gamma, beta, dy := vec(rows*d), vec(rows*d), vec(d), vec(d), vec(rows*d)
	grads := func(st *lnStats, x []float32) (dx, dg []float32) {
		dx, dg = make([]float32, rows*d), make([]float32, d)
		layerNormBackX(st, eps, dx, x, gamma, dy)
		layerNormBackGamma(st, eps, dg, x, dy, make([]float64, d))
		return dx, dg
	}
	st := new(lnStats)
	layerNormForward(st, eps, make([]float32, rows*d), x, gamma, beta)
	if st.n != len(x) || len(st.mean) != rows {
		t.Fatalf("the forward pass kept %d statistics of %d values", len(st.mean), st.n)
	}
	kept := slices.Clone(st.mean)
	dx, dg := grads(st, x)
	wantX, wantG := grads(nil, x)
	if !slices.Equal(dx, wantX) || !slices.Equal(dg, wantG) {
		t.Errorf("gradients from the kept statistics differ from those computed afresh")
	}
	if !slices.Equal(st.mean, kept) {
		t.Errorf("the gradients changed the kept statistics")
	}
	dx, dg = grads(st, other)
	wantX, wantG = grads(nil, other)
	if !slices.Equal(dx, wantX) || !slices.Equal(dg, wantG) {
		t.Errorf("gradients of another input used the first input's statistics")
	}
}
