package train

import (
	"math"

	"github.com/dltrain/dltrain/pkg/config"
)

// exponential multiplies the rate by gamma every epoch
// (torch.optim.lr_scheduler.ExponentialLR): lr·gamma^epoch.
type exponential struct {
	gamma float64
}

func newExponential(o *config.Options, _ float64) Schedule {
	s := &exponential{gamma: required(o, "gamma")}
	if !math.IsNaN(s.gamma) {
		o.Positive("gamma", s.gamma)
	}
	return s
}

func (s *exponential) LR(base float64, c Clock) float64 {
	return base * math.Pow(s.gamma, math.Floor(c.Epoch()))
}
