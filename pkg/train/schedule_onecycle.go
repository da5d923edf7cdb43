package train

import (
	"math"

	"github.com/dltrain/dltrain/pkg/config"
)

// oneCycle is Smith's one-cycle policy as torch.optim.lr_scheduler.OneCycleLR,
// over every step of the run: from max_lr/div_factor up to max_lr during
// the first pct_start of the steps, then down to
// max_lr/(div_factor·final_div_factor). With three_phase the rate comes
// back to max_lr/div_factor before the final descent. With cycle_momentum
// (the default, as PyTorch) the momentum (SGD's momentum, RMSprop's
// momentum, Adam's beta1) moves the other way, from max_momentum down to
// base_momentum while the rate rises, and back up while it falls.
type oneCycle struct {
	maxLR, pctStart, div, finalDiv float64
	threePhase                     bool
	anneal                         string
	cycleMomentum                  bool
	baseMomentum, maxMomentum      float64
}

var _ MomentumSchedule = (*oneCycle)(nil)

func newOneCycle(o *config.Options, _ float64) Schedule {
	s := &oneCycle{
		maxLR:      o.Float("max_lr", 0),
		pctStart:   o.Float("pct_start", 0.3),
		div:        o.Float("div_factor", 25),
		finalDiv:   o.Float("final_div_factor", 1e4),
		threePhase: o.Bool("three_phase", false),
		anneal:     o.String("anneal", "cos", "cos", "linear"),

		cycleMomentum: o.Bool("cycle_momentum", true),
		baseMomentum:  o.Float("base_momentum", 0.85),
		maxMomentum:   o.Float("max_momentum", 0.95),
	}
	o.Range("base_momentum", s.baseMomentum, 0, 1)
	o.Range("max_momentum", s.maxMomentum, 0, 1)
	o.NonNegative("max_lr", s.maxLR)
	if !(s.pctStart > 0 && s.pctStart < 1) {
		o.Fail("pct_start", "must be in (0, 1), got %v", s.pctStart)
	}
	o.Positive("div_factor", s.div)
	o.Positive("final_div_factor", s.finalDiv)
	return s
}

func (s *oneCycle) LR(base float64, c Clock) float64 {
	peak := s.maxLR
	if peak == 0 {
		peak = base
	}
	initial := peak / s.div
	return s.at(c, initial, peak, peak, initial, initial/s.finalDiv)
}

// CyclesMomentum implements MomentumSchedule.
func (s *oneCycle) CyclesMomentum() bool { return s.cycleMomentum }

// Momentum implements MomentumSchedule: max_momentum at the start, down to
// base_momentum at the peak rate, back to max_momentum (two phases) or
// staying there during the last phase (three).
func (s *oneCycle) Momentum(c Clock) float64 {
	return s.at(c, s.maxMomentum, s.baseMomentum, s.baseMomentum, s.maxMomentum, s.maxMomentum)
}

// at anneals between the values at the phase boundaries: start → mid at
// the end of the rise; then mid2 → back (three phases: back at the end of
// the second phase, then → final), or mid2 → final (two phases).
func (s *oneCycle) at(c Clock, start, mid, mid2, back, final float64) float64 {
	total := float64(int64(c.Epochs) * int64(max(c.StepsPerEpoch, 1)))
	step := min(float64(c.Step), total-1)
	type phase struct{ end, from, to float64 }
	up := s.pctStart*total - 1
	phases := []phase{{up, start, mid}, {total - 1, mid2, final}}
	if s.threePhase {
		phases = []phase{{up, start, mid}, {2*s.pctStart*total - 2, mid2, back}, {total - 1, back, final}}
	}
	from := 0.0
	for i, p := range phases {
		if step <= p.end || i == len(phases)-1 {
			pct := (step - from) / (p.end - from)
			if s.anneal == "linear" {
				return (p.to-p.from)*pct + p.from
			}
			return p.to + (p.from-p.to)/2*(math.Cos(math.Pi*pct)+1)
		}
		from = p.end
	}
	return mid
}
