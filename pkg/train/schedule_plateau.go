package train

import (
	"math"

	"github.com/dltrain/dltrain/pkg/config"
)

// plateau multiplies the rate by factor when the watched metric has not
// improved for patience epochs, as torch.optim.lr_scheduler.ReduceLROnPlateau:
// an improvement beats the best by threshold (relative: best·(1∓threshold);
// absolute: best∓threshold); after a reduction, cooldown epochs pass before
// epochs without improvement count again; the rate never goes below min_lr.
type plateau struct {
	metric                  string
	max                     bool
	factor, threshold, minR float64
	relative                bool
	patience, cooldown      int
	st                      ScheduleState
}

var _ Reactive = (*plateau)(nil)

func newPlateau(o *config.Options, _ float64) Schedule {
	s := &plateau{
		metric:    o.String("metric", "val_loss"),
		factor:    o.Float("factor", 0.1),
		patience:  o.Int("patience", 10),
		threshold: o.Float("threshold", 1e-4),
		relative:  o.String("threshold_mode", "rel", "rel", "abs") == "rel",
		cooldown:  o.Int("cooldown", 0),
		minR:      o.Float("min_lr", 0),
	}
	switch o.String("mode", "auto", "auto", "min", "max") {
	case "auto":
		s.max = MaxIsBetter(s.metric)
	case "max":
		s.max = true
	}
	if !(s.factor > 0 && s.factor < 1) {
		o.Fail("factor", "must be in (0, 1), got %v", s.factor)
	}
	o.NonNegative("patience", float64(s.patience))
	o.NonNegative("threshold", s.threshold)
	o.NonNegative("cooldown", float64(s.cooldown))
	o.NonNegative("min_lr", s.minR)
	s.st = ScheduleState{LR: math.NaN(), Best: math.Inf(1)}
	if s.max {
		s.st.Best = math.Inf(-1)
	}
	return s
}

func (s *plateau) LR(base float64, _ Clock) float64 {
	if math.IsNaN(s.st.LR) {
		return base
	}
	return s.st.LR
}

func (s *plateau) better(v float64) bool {
	b, th := s.st.Best, s.threshold
	switch {
	case s.max && s.relative:
		return v > b*(1+th)
	case s.max:
		return v > b+th
	case s.relative:
		return v < b*(1-th)
	}
	return v < b-th
}

// Observe implements Reactive.
func (s *plateau) Observe(metrics map[string]float64, base float64) {
	v, ok := metrics[s.metric]
	if !ok || math.IsNaN(v) {
		return
	}
	if s.better(v) {
		s.st.Best, s.st.Bad = v, 0
	} else {
		s.st.Bad++
	}
	if s.st.Cooldown > 0 {
		s.st.Cooldown--
		s.st.Bad = 0
	}
	if s.st.Bad > s.patience {
		old := s.st.LR
		if math.IsNaN(old) {
			old = base
		}
		if next := max(old*s.factor, s.minR); old-next > 1e-8 {
			s.st.LR = next
		}
		s.st.Cooldown, s.st.Bad = s.cooldown, 0
	}
}

// Metric implements Reactive.
func (s *plateau) Metric() string { return s.metric }

// State implements Reactive.
func (s *plateau) State() ScheduleState { return s.st }

// SetState implements Reactive.
func (s *plateau) SetState(st ScheduleState) { s.st = st }
