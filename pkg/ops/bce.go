package ops

import (
	"math"

	G "gorgonia.org/gorgonia"
)

// BinaryCrossEntropyWithLogits returns the mean over every element of
//
//	−[pw·t·log σ(x) + (1−t)·log(1−σ(x))] = pw·t·softplus(−x) + (1−t)·softplus(x)
//
// as torch.nn.BCEWithLogitsLoss with a scalar pos_weight pw (1 for none).
// The softplus form is finite for any logit: there is no σ(x) to round to
// 0 or 1 and no log(0).
func BinaryCrossEntropyWithLogits(logits, targets *G.Node, posWeight float64) (*G.Node, error) {
	pw := posWeight
	return applyPointwise(pointwiseLoss{
		name: "binary_cross_entropy_with_logits",
		f: func(x, t float64) float64 {
			return pw*t*softplus(-x) + (1-t)*softplus(x)
		},
		// ∂/∂x = −pw·t·σ(−x) + (1−t)·σ(x)
		df: func(x, t float64) float64 {
			return -pw*t*sigmoid(-x) + (1-t)*sigmoid(x)
		},
	}, logits, targets)
}

// softplus is log(1 + eˣ) without overflow for large x or loss of
// precision for very negative x.
func softplus(x float64) float64 {
	return max(x, 0) + math.Log1p(math.Exp(-math.Abs(x)))
}

// BinaryCrossEntropy returns the mean over every element of
//
//	−[t·log p + (1−t)·log(1−p)]
//
// for probabilities p (a sigmoid's output) and targets t in [0, 1], as
// torch.nn.BCELoss: each log is clamped at −100, so p = 0 or 1 gives a
// large finite loss rather than an infinite one, and the gradient is
// (p − t) / max(p·(1−p), 1e-12), PyTorch's. An autoencoder of inputs
// scaled to [0, 1] trains with it.
func BinaryCrossEntropy(probs, targets *G.Node) (*G.Node, error) {
	return applyPointwise(pointwiseLoss{
		name: "binary_cross_entropy",
		f: func(p, t float64) float64 {
			return -(t*max(math.Log(p), -100) + (1-t)*max(math.Log(1-p), -100))
		},
		df: func(p, t float64) float64 {
			return (p - t) / max(p*(1-p), 1e-12)
		},
	}, probs, targets)
}
