package train

import (
	"math"

	"github.com/dltrain/dltrain/pkg/config"
)

// cosine anneals the rate from lr to min_lr along half a cosine over
// period epochs, updated at every step (Loshchilov & Hutter's SGDR, as
// torch's CosineAnnealingLR; with restarts, CosineAnnealingWarmRestarts):
//
//	lr(t) = min_lr + (lr − min_lr)·(1 + cos(π·t/T))/2
//
// Without restarts the rate stays at min_lr after the period; with
// restarts it jumps back to lr and the next period is period_mult times
// longer.
type cosine struct {
	period, minLR float64
	restarts      bool
	mult          int
}

func newCosine(o *config.Options, epochs float64) Schedule {
	s := &cosine{
		period:   o.Float("period", epochs),
		minLR:    o.Float("min_lr", 0),
		restarts: o.Bool("restarts", false),
		mult:     o.Int("period_mult", 1),
	}
	o.Positive("period", s.period)
	o.NonNegative("min_lr", s.minLR)
	if s.mult < 1 {
		o.Fail("period_mult", "must be >= 1, got %d", s.mult)
	}
	if !s.restarts && o.Block().Has("period_mult") {
		o.Fail("period_mult", "applies only with restarts: true")
	}
	return s
}

func (s *cosine) LR(base float64, c Clock) float64 {
	t, T := c.Epoch(), s.period
	if s.restarts {
		for t >= T {
			t -= T
			T *= float64(s.mult)
		}
	} else {
		t = min(t, T)
	}
	return s.minLR + (base-s.minLR)*(1+math.Cos(math.Pi*t/T))/2
}
