package eval

import (
	"fmt"
	"math"
	"sort"

	"gonum.org/v1/gonum/mat"
)

// Reconstruction is the evaluation of a model that gives back its input
// (an autoencoder): the error of every reconstructed value against the
// clean input, both in the preprocessed units the model sees.
type Reconstruction struct {
	N   int     `json:"n"`   // samples
	MSE float64 `json:"mse"` // mean over every value of every sample
	MAE float64 `json:"mae"`
	// PCA is the baseline: the same samples reconstructed by PCA with as
	// many components as the model's code has values, fitted on the
	// training split. nil when not computed.
	PCA *PCABaseline `json:"pca_baseline,omitempty"`
	// PCASkipped says why the baseline was not computed, when it was not.
	PCASkipped string `json:"pca_baseline_skipped,omitempty"`
}

// PCABaseline is how well a linear projection of the same size as the
// model's code reconstructs the same samples.
type PCABaseline struct {
	Components   int     `json:"components"`
	TrainSamples int     `json:"train_samples"` // the samples PCA was fitted on (the training split)
	MSE          float64 `json:"mse"`
	MAE          float64 `json:"mae"`
	// Explained is the fraction of the training split's variance the
	// components hold.
	Explained float64 `json:"explained_variance"`
}

// Reconstruct scores reconstructions pred against the inputs truth, n
// samples of width values each.
func Reconstruct(truth, pred []float64, width int) Reconstruction {
	r := Reconstruction{N: len(truth) / max(width, 1)}
	if len(truth) == 0 {
		return r
	}
	var sq, abs float64
	for i, t := range truth {
		d := pred[i] - t
		sq += d * d
		abs += math.Abs(d)
	}
	r.MSE, r.MAE = sq/float64(len(truth)), abs/float64(len(truth))
	return r
}

// PCA is a principal component projection fitted on a set of samples:
// x̂ = mean + (x − mean)·V·Vᵀ with V the leading eigenvectors of their
// covariance.
type PCA struct {
	Mean      []float64
	V         *mat.Dense // width × components
	Explained float64    // fraction of the total variance the components hold
	Samples   int        // samples fitted on
}

// FitPCA fits PCA with k components on n samples x of width values each
// (row-major). The covariance is decomposed in float64 by gonum's
// symmetric eigensolver.
func FitPCA(x []float32, width, k int) (*PCA, error) {
	n := len(x) / width
	switch {
	case n < 2:
		return nil, fmt.Errorf("PCA needs at least 2 training samples, got %d", n)
	case k < 1 || k > width:
		return nil, fmt.Errorf("PCA components must be in [1, %d] (the input's width), got %d", width, k)
	}
	mean := make([]float64, width)
	for r := range n {
		for j, v := range x[r*width : (r+1)*width] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	xc := mat.NewDense(n, width, nil)
	for r := range n {
		row := xc.RawRowView(r)
		for j, v := range x[r*width : (r+1)*width] {
			row[j] = float64(v) - mean[j]
		}
	}
	var cov mat.SymDense
	cov.SymOuterK(1/float64(n), xc.T())
	var eig mat.EigenSym
	if !eig.Factorize(&cov, true) {
		return nil, fmt.Errorf("the eigendecomposition of the %d×%d training covariance did not converge", width, width)
	}
	vals := eig.Values(nil)
	var vecs mat.Dense
	eig.VectorsTo(&vecs)
	order := make([]int, width) // largest eigenvalue first
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return vals[order[a]] > vals[order[b]] })
	p := &PCA{Mean: mean, V: mat.NewDense(width, k, nil), Samples: n}
	var total, kept float64
	for i, o := range order {
		total += math.Max(vals[o], 0)
		if i < k {
			kept += math.Max(vals[o], 0)
			for j := range width {
				p.V.Set(j, i, vecs.At(j, o))
			}
		}
	}
	if total > 0 {
		p.Explained = kept / total
	}
	return p, nil
}

// Reconstruct projects n samples x (row-major, the fitted width) onto the
// components and back, returning the reconstructions.
func (p *PCA) Reconstruct(x []float32) []float64 {
	width, _ := p.V.Dims()
	n := len(x) / width
	xc := mat.NewDense(n, width, nil)
	for r := range n {
		row := xc.RawRowView(r)
		for j, v := range x[r*width : (r+1)*width] {
			row[j] = float64(v) - p.Mean[j]
		}
	}
	var code, back mat.Dense
	code.Mul(xc, p.V) // n × k
	back.Mul(&code, p.V.T())
	out := make([]float64, n*width)
	for r := range n {
		row := back.RawRowView(r)
		for j := range width {
			out[r*width+j] = row[j] + p.Mean[j]
		}
	}
	return out
}

// Baseline scores PCA's reconstructions of the samples x.
func (p *PCA) Baseline(x []float32) *PCABaseline {
	_, k := p.V.Dims()
	truth := make([]float64, len(x))
	for i, v := range x {
		truth[i] = float64(v)
	}
	r := Reconstruct(truth, p.Reconstruct(x), 1)
	return &PCABaseline{Components: k, TrainSamples: p.Samples, MSE: r.MSE, MAE: r.MAE, Explained: p.Explained}
}
