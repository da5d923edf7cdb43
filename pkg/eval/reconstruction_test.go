package eval

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// lowRank returns n samples of width values lying on a k-dimensional
// affine subspace (plus noise of std noise).
func lowRank(n, width, k int, noise float64, rng *rand.Rand) []float32 {
	basis := make([]float64, k*width)
	for i := range basis {
		basis[i] = rng.NormFloat64()
	}
	x := make([]float32, n*width)
	for r := range n {
		for c := range k {
			z := 3 * rng.NormFloat64()
			for j := range width {
				x[r*width+j] += float32(z * basis[c*width+j])
			}
		}
		for j := range width {
			x[r*width+j] += float32(5 + float64(j) + noise*rng.NormFloat64())
		}
	}
	return x
}

// TestPCAReconstructsItsSubspace: data on a 3-dimensional affine subspace
// is reconstructed exactly by 3 components, fitted on other samples of it,
// and not by 2; the explained variance says as much.
func TestPCAReconstructsItsSubspace(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	all := lowRank(300, 10, 3, 0, rng)
	train, test := all[:200*10], all[200*10:]
	p3, err := FitPCA(train, 10, 3)
	if err != nil {
		t.Fatal(err)
	}
	b3 := p3.Baseline(test)
	if b3.MSE > 1e-8 || math.Abs(b3.Explained-1) > 1e-9 || b3.Components != 3 || b3.TrainSamples != 200 {
		t.Errorf("3 components: %+v", b3)
	}
	p2, err := FitPCA(train, 10, 2)
	if err != nil {
		t.Fatal(err)
	}
	if b2 := p2.Baseline(test); b2.MSE < 0.1 || b2.Explained > 0.99 || b2.Explained < 0.3 {
		t.Errorf("2 components: %+v", b2)
	}
	full, _ := FitPCA(train, 10, 10)
	if b := full.Baseline(lowRank(50, 10, 8, 1, rng)); b.MSE > 1e-8 {
		t.Errorf("every component: MSE %v, want 0", b.MSE)
	}
}

// TestPCAMatchesTheLeastSquaresProjection: on noisy data, PCA's training
// MSE equals the sum of the discarded eigenvalues divided by the width,
// and more components never reconstruct worse.
func TestPCAMatchesTheLeastSquaresProjection(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := lowRank(400, 12, 4, 0.5, rng)
	prev := math.Inf(1)
	for k := 1; k <= 12; k++ {
		p, err := FitPCA(x, 12, k)
		if err != nil {
			t.Fatal(err)
		}
		b := p.Baseline(x)
		if b.MSE > prev+1e-9 {
			t.Errorf("%d components: MSE %v above %v with fewer", k, b.MSE, prev)
		}
		prev = b.MSE
		// On the data it was fitted on, the residual variance is the
		// unexplained fraction of the total variance.
		var total float64
		for j := range 12 {
			var m, s float64
			for r := range 400 {
				m += float64(x[r*12+j])
			}
			m /= 400
			for r := range 400 {
				d := float64(x[r*12+j]) - m
				s += d * d
			}
			total += s / 400
		}
		if want := (1 - b.Explained) * total / 12; math.Abs(b.MSE-want) > 1e-4*total {
			t.Errorf("%d components: MSE %v, unexplained variance per value %v", k, b.MSE, want)
		}
	}
}

func TestPCABadInput(t *testing.T) {
	for _, tc := range []struct {
		x        []float32
		width, k int
		want     string
	}{
		{make([]float32, 4), 4, 2, "at least 2 training samples"},
		{make([]float32, 8), 4, 5, "must be in [1, 4]"},
		{make([]float32, 8), 4, 0, "must be in [1, 4]"},
	} {
		if _, err := FitPCA(tc.x, tc.width, tc.k); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("FitPCA(%d values, %d, %d): %v", len(tc.x), tc.width, tc.k, err)
		}
	}
}

func TestReconstructionReport(t *testing.T) {
	g := Reconstruct([]float64{0, 1, 1, 0}, []float64{0.5, 1, 0, 0}, 2)
	if g.N != 2 || g.MSE != (0.25+1)/4 || g.MAE != 1.5/4 {
		t.Errorf("%+v", g)
	}
	g.PCA = &PCABaseline{Components: 1, TrainSamples: 9, MSE: 0.5, MAE: 0.4, Explained: 0.75}
	r := &Report{Split: "test", Checkpoint: "best", Task: "reconstruction", Loss: g.MSE, Reconstruction: &g}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"MSE 0.3125  MAE 0.375", "PCA baseline, 1 component fitted on the 9 training samples (75.0% of their variance): MSE 0.5", "the model beats PCA: its MSE is 62.5% of PCA's"} {
		if !strings.Contains(b.String(), w) {
			t.Errorf("report does not hold %q:\n%s", w, b.String())
		}
	}
	if m := r.Metrics(); m["mse"] != g.MSE || m["mae"] != g.MAE || m["pca_mse"] != 0.5 {
		t.Errorf("metrics %v", m)
	}
}
