package train

import (
	"math"

	"github.com/dltrain/dltrain/pkg/config"
)

// oneCycle is Smith's one-cycle policy as torch.optim.lr_scheduler.OneCycleLR
// (without momentum cycling), over every step of the run: from
// max_lr/div_factor up to max_lr during the first pct_start of the steps,
// then down to max_lr/(div_factor·final_div_factor). With three_phase the
// rate comes back to max_lr/div_factor before the final descent.
type oneCycle struct {
	maxLR, pctStart, div, finalDiv float64
	threePhase                     bool
	anneal                         string
}

func newOneCycle(o *config.Options, _ float64) Schedule {
	s := &oneCycle{
		maxLR:      o.Float("max_lr", 0),
		pctStart:   o.Float("pct_start", 0.3),
		div:        o.Float("div_factor", 25),
		finalDiv:   o.Float("final_div_factor", 1e4),
		threePhase: o.Bool("three_phase", false),
		anneal:     o.String("anneal", "cos", "cos", "linear"),
	}
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
	final := initial / s.finalDiv
	total := float64(int64(c.Epochs) * int64(max(c.StepsPerEpoch, 1)))
	step := min(float64(c.Step), total-1)
	type phase struct{ end, from, to float64 }
	up := s.pctStart*total - 1
	phases := []phase{{up, initial, peak}, {total - 1, peak, final}}
	if s.threePhase {
		phases = []phase{{up, initial, peak}, {2*s.pctStart*total - 2, peak, initial}, {total - 1, initial, final}}
	}
	start := 0.0
	for i, p := range phases {
		if step <= p.end || i == len(phases)-1 {
			pct := (step - start) / (p.end - start)
			if s.anneal == "linear" {
				return (p.to-p.from)*pct + p.from
			}
			return p.to + (p.from-p.to)/2*(math.Cos(math.Pi*pct)+1)
		}
		start = p.end
	}
	return peak
}
