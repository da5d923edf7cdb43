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
	size := required(o, "step_size")
	o.Positive("step_size", size)
	if size == math.Trunc(size) {
		s.size = int(size)
	} else if !math.IsNaN(size) {
		o.Fail("step_size", "must be a whole number of epochs, got %v", size)
	}
	o.Positive("gamma", s.gamma)
	return s
}

func (s *stepSchedule) LR(base float64, c Clock) float64 {
	e := int(math.Floor(c.Epoch()))
	return base * math.Pow(s.gamma, float64(e/max(s.size, 1)))
}
