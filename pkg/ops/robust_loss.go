package ops

import (
	"math"

	G "gorgonia.org/gorgonia"
)

// MeanAbsoluteError returns the mean over every element of |pred − target|,
// as torch.nn.L1Loss. Its gradient at pred = target is 0 (the
// subgradient PyTorch uses).
func MeanAbsoluteError(pred, target *G.Node) (*G.Node, error) {
	return applyPointwise(pointwiseLoss{
		name: "mae",
		f:    func(p, t float64) float64 { return math.Abs(p - t) },
		df:   func(p, t float64) float64 { return sign(p - t) },
	}, pred, target)
}

// Huber returns the mean over every element of the Huber loss with
// threshold delta, as torch.nn.HuberLoss:
//
//	0.5·d²            when |d| < delta
//	delta·(|d| − 0.5·delta) otherwise
func Huber(pred, target *G.Node, delta float64) (*G.Node, error) {
	return applyPointwise(pointwiseLoss{
		name: "huber",
		f: func(p, t float64) float64 {
			d := p - t
			if math.Abs(d) < delta {
				return 0.5 * d * d
			}
			return delta * (math.Abs(d) - 0.5*delta)
		},
		df: func(p, t float64) float64 {
			d := p - t
			if math.Abs(d) < delta {
				return d
			}
			return delta * sign(d)
		},
	}, pred, target)
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}
