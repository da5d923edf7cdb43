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
