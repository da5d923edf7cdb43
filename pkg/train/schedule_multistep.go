package train

import (
	"math"

	"github.com/dltrain/dltrain/pkg/config"
)

// multiStep multiplies the rate by gamma at each milestone epoch
// (torch.optim.lr_scheduler.MultiStepLR): lr·gamma^(milestones ≤ epoch).
type multiStep struct {
	milestones []int
	gamma      float64
}

func newMultiStep(o *config.Options, _ float64) Schedule {
	s := &multiStep{milestones: o.Ints("milestones", nil), gamma: o.Float("gamma", 0.1)}
	if len(s.milestones) == 0 {
		o.Fail("milestones", "is required for the multistep schedule: the epochs at which the rate is multiplied by gamma, e.g. [30, 60]")
	}
	for i, m := range s.milestones {
		if m < 1 || (i > 0 && m <= s.milestones[i-1]) {
			o.Fail("milestones", "must be increasing epochs >= 1, got %v", s.milestones)
			break
		}
	}
	o.Positive("gamma", s.gamma)
	return s
}

func (s *multiStep) LR(base float64, c Clock) float64 {
	e := int(math.Floor(c.Epoch()))
	n := 0
	for _, m := range s.milestones {
		if m <= e {
			n++
		}
	}
	return base * math.Pow(s.gamma, float64(n))
}
