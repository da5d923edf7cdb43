package train

import (
	"math"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
)

// Clock is where training stands when a learning rate is asked for.
type Clock struct {
	Step          int64 // optimizer steps already taken (0 for the first step)
	StepsPerEpoch int   // optimizer steps in one epoch
	Epochs        int   // epochs the run trains for
}

// Epoch is the training time in epochs, fractional inside an epoch.
func (c Clock) Epoch() float64 { return float64(c.Step) / float64(max(c.StepsPerEpoch, 1)) }

// Schedule gives the learning rate of each optimizer step from the
// optimizer's base rate. Epoch-wise schedules (step, multistep,
// exponential) change the rate at epoch boundaries, as PyTorch's
// schedulers stepped once per epoch; cosine and one-cycle change it at
// every step.
type Schedule interface {
	LR(base float64, c Clock) float64
}

// MomentumSchedule is a schedule that also sets the optimizer's momentum
// at every step (one-cycle's cycle_momentum); the optimizer must be a
// MomentumCycler.
type MomentumSchedule interface {
	Schedule
	CyclesMomentum() bool
	Momentum(c Clock) float64
}

// Reactive is a schedule that reacts to the metrics logged at the end of
// each epoch (reduce-on-plateau); its state is saved in checkpoints.
type Reactive interface {
	Schedule
	// Observe is called once per epoch with the epoch's logged metrics and
	// the optimizer's base rate.
	Observe(metrics map[string]float64, base float64)
	// Metric is the logged metric it watches.
	Metric() string
	State() ScheduleState
	SetState(ScheduleState)
}

// ScheduleState is a reactive schedule's state, saved in checkpoints.
type ScheduleState struct {
	LR       float64 // the reduced rate; NaN before the first reduction (the base rate)
	Best     float64
	Bad      int // epochs without improvement
	Cooldown int // epochs left before counting again
}

// schedules is every schedule, by config name; each kind is in its own
// file. A constructor gets the run's length in epochs after warm-up.
var schedules = map[string]func(o *config.Options, epochs float64) Schedule{
	"constant":          newConstant,
	"step":              newStepSchedule,
	"multistep":         newMultiStep,
	"exponential":       newExponential,
	"cosine":            newCosine,
	"one_cycle":         newOneCycle,
	"reduce_on_plateau": newPlateau,
}

// ScheduleNames lists the known schedules.
func ScheduleNames() []string {
	out := make([]string, 0, len(schedules))
	for k := range schedules {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NewSchedule builds the schedule a block describes for a run of epochs
// epochs of stepsPerEpoch optimizer steps (0 when not known yet: the
// config is checked before the data is read). Every schedule takes the
// warm-up options warmup_epochs or warmup_steps and warmup_start_factor.
func NewSchedule(b config.Block, epochs, stepsPerEpoch int) (Schedule, config.Problems) {
	newSched, ok := schedules[b.Kind]
	if !ok {
		return nil, config.Problems{b.Problem("kind", "unknown schedule %q; known: %s", b.Kind, strings.Join(ScheduleNames(), ", "))}
	}
	o := b.Read()
	w := &warmup{
		epochs: o.Int("warmup_epochs", 0),
		steps:  o.Int("warmup_steps", 0),
		start:  o.Float("warmup_start_factor", 0.1),
	}
	o.NonNegative("warmup_epochs", float64(w.epochs))
	o.NonNegative("warmup_steps", float64(w.steps))
	o.Range("warmup_start_factor", w.start, 0, 1)
	if w.epochs > 0 && w.steps > 0 {
		o.Fail("warmup_steps", "give warmup_epochs or warmup_steps, not both")
	}
	if w.epochs >= epochs && w.epochs > 0 {
		o.Fail("warmup_epochs", "must be less than train.epochs (%d), got %d", epochs, w.epochs)
	}
	w.total = int64(w.steps)
	if w.epochs > 0 {
		w.total = int64(w.epochs) * int64(max(stepsPerEpoch, 1))
	}
	rest := float64(epochs) - float64(w.total)/float64(max(stepsPerEpoch, 1))
	switch {
	case stepsPerEpoch <= 0 && w.steps > 0:
		rest = float64(epochs) // the run's steps are not known yet: checked when they are
	case stepsPerEpoch > 0 && w.steps > 0 && int64(w.steps) >= int64(epochs)*int64(stepsPerEpoch):
		o.Fail("warmup_steps", "must be less than the run's %d optimizer steps (%d epochs of %d), got %d", int64(epochs)*int64(stepsPerEpoch), epochs, stepsPerEpoch, w.steps)
		rest = float64(epochs)
	}
	s := newSched(o, rest)
	ps := o.Done()
	if _, isOneCycle := s.(*oneCycle); isOneCycle && w.total > 0 {
		ps = append(ps, b.Problem("warmup_epochs", "one_cycle warms up by itself (pct_start); it takes no warmup_epochs or warmup_steps"))
	}
	if w.total == 0 {
		return s, ps
	}
	w.inner = s
	if r, ok := s.(Reactive); ok {
		return &reactiveWarmup{warmup: w, Reactive: r}, ps
	}
	return w, ps
}

// warmup raises the rate linearly from start·lr to lr over its first
// total steps (torch.optim.lr_scheduler.LinearLR), then hands over to the
// inner schedule, whose time starts when the warm-up ends
// (SequentialLR).
type warmup struct {
	epochs, steps int
	total         int64
	start         float64
	inner         Schedule
}

func (w *warmup) LR(base float64, c Clock) float64 {
	if c.Step < w.total {
		return base * (w.start + (1-w.start)*float64(c.Step)/float64(w.total))
	}
	c.Step -= w.total
	return w.inner.LR(base, c)
}

// reactiveWarmup is a warm-up in front of a reactive schedule.
type reactiveWarmup struct {
	*warmup
	Reactive
}

func (r *reactiveWarmup) LR(base float64, c Clock) float64 { return r.warmup.LR(base, c) }

// required reads a number option that has no default.
func required(o *config.Options, key string) float64 {
	if !o.Block().Has(key) {
		o.Fail(key, "is required for the %s schedule", o.Block().Kind)
		o.Float(key, 0)
		return math.NaN()
	}
	return o.Float(key, math.NaN())
}

// MaxIsBetter says whether larger values of a logged metric are better:
// accuracy, F1 and R²; losses and errors are better smaller.
func MaxIsBetter(metric string) bool {
	for _, suffix := range []string{"accuracy", "f1", "r2"} {
		if strings.HasSuffix(metric, suffix) {
			return true
		}
	}
	return false
}
