package train

import (
	"math"

	"github.com/dltrain/dltrain/pkg/config"
)

// stepSchedule multiplies the rate by gamma every step_size epochs
// (torch.optim.lr_scheduler.StepLR): lr·gamma^⌊epoch/step_size⌋.
type stepSchedule struct {
	size  int
	gamma float64
}

func newStepSchedule(o *config.Options, _ float64) Schedule {
	s := &stepSchedule{gamma: o.Float("gamma", 0.1)}
	switch size := required(o, "step_size"); {
	case math.IsNaN(size):
	case size < 1 || size != math.Trunc(size):
		o.Fail("step_size", "must be a whole number of epochs >= 1, got %v", size)
	default:
		s.size = int(size)
	}
	o.Positive("gamma", s.gamma)
	return s
}

func (s *stepSchedule) LR(base float64, c Clock) float64 {
	e := int(math.Floor(c.Epoch()))
	return base * math.Pow(s.gamma, float64(e/max(s.size, 1)))
}
