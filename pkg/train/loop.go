package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/ops"
	"gorgonia.org/tensor"
)

// ErrDiverged is returned when the loss or a gradient stops being finite,
// or the loss explodes (exit code 3).
var ErrDiverged = errors.New("training diverged")

// ErrInterrupted is returned when the context is cancelled; the loop stops
// after finishing the current optimizer step.
var ErrInterrupted = errors.New("training interrupted")

// State is where a loop stands; checkpoints save it so a resumed run
// continues exactly where it stopped.
type State struct {
	Epoch     int   // epochs completed
	Batch     int   // mini-batches completed in the current epoch
	Step      int64 // optimizer steps taken
	LossSum   float64
	LossCount int // samples seen this epoch, for the mean train loss
	PenSum    float64
	Best      float64 // best value of the monitored metric so far
	BestEpoch int     // epoch (1-based) of Best; 0 when none yet
	// Elapsed is the training time so far. Checkpoints do not hold it (it
	// would make identical runs' files differ): a resumed run takes it
	// from the metrics row of the epoch it resumes after (ElapsedAt).
	Elapsed   time.Duration
	LR        float64       // learning rate of the last step
	FirstLoss float64       // loss of the run's first mini-batch (divergence test)
	Stop      StopState     // early stopping
	Stopped   bool          // early stopping ended the training
	Schedule  ScheduleState // a reactive schedule's state
	// PhaseLoss and PhaseCount sum each phase's loss over its samples this
	// epoch, in the order of the phases (every update counted); WatchSum
	// and WatchCount each watched output's values, the phases' watches one
	// after the other.
	PhaseLoss  []float64
	PhaseCount []int
	WatchSum   []float64
	WatchCount []int
}

// EpochStats is what one epoch measured.
type EpochStats struct {
	Epoch     int   // 1-based
	Step      int64 // steps taken at the end of the epoch
	LR        float64
	TrainLoss float64            // mean loss over the epoch's samples, penalty excluded
	Penalty   float64            // mean regularization penalty added to the loss
	Val       map[string]float64 // val_loss, val_accuracy, ... (empty without a val split)
	Phases    map[string]float64 // the phases' metrics (Phase.Metric) and watched outputs; empty when none
	Elapsed   time.Duration      // wall time since the start of training
	Improved  bool               // the monitored metric improved (or there is none)
	Stopped   bool               // early stopping ends the training after this epoch
}

// Metrics returns every logged metric of the epoch by name: train_loss,
// penalty, lr and the validation metrics.
func (s EpochStats) Metrics() map[string]float64 {
	m := map[string]float64{"train_loss": s.TrainLoss, "penalty": s.Penalty, "lr": s.LR}
	for k, v := range s.Val {
		m[k] = v
	}
	for k, v := range s.Phases {
		m[k] = v
	}
	return m
}

// StepStats is what one optimizer step did.
type StepStats struct {
	Loss    float64 // mean loss of the step's samples, penalty excluded
	Samples int     // samples in the step (all accumulated mini-batches)
	LR      float64
}

// Hook observes the loop. Every method may be a no-op; an error stops the
// loop.
type Hook interface {
	BeforeRun(l *Loop) error
	AfterStep(l *Loop, s StepStats) error
	AfterEpoch(l *Loop, s EpochStats) error
	AtEnd(l *Loop, err error) error
}

// Monitor names the metric that decides the best epoch.
type Monitor struct {
	Metric string // e.g. "val_loss", "val_accuracy", "train_loss"
	Max    bool   // larger is better
}

// Better reports whether v improves on best.
func (m Monitor) Better(v, best float64) bool {
	if math.IsNaN(v) {
		return false
	}
	if math.IsNaN(best) {
		return true
	}
	if m.Max {
		return v > best
	}
	return v < best
}

// Loop trains a model for a number of epochs. Each optimizer step runs
// its training phases in order (phase.go); a loop that lists none has one,
// DefaultPhase: Optimizer, Schedule and Reg over every trainable
// parameter, with the session's loss.
type Loop struct {
	Session *Session
	// Phases are the updates of each step, in order; nil: the one phase
	// the three fields below describe.
	Phases    []*Phase
	Optimizer Optimizer
	Schedule  Schedule // nil: the optimizer's rate throughout
	Reg       Regularizer
	Data      *data.Dataset
	Epochs    int
	BatchSize int
	// Accumulate is the number of mini-batches whose gradients are
	// averaged (weighted by their sizes) into one optimizer step; 0 or 1
	// steps after every mini-batch.
	Accumulate int
	Seed       uint64
	Monitor    Monitor
	EarlyStop  *EarlyStopping // nil: off
	// DivergeFactor: a mini-batch loss above DivergeFactor·max(1, first
	// loss) is a divergence; 0 checks only for NaN and Inf.
	DivergeFactor float64
	Hooks         []Hook
	State         State
	// Best holds the parameters of the best epoch so far; Run restores
	// them when training ends (a resumed run loads them from best.ckpt).
	Best []TensorRecord
	// NoPrefetch gathers each mini-batch when its step starts instead of
	// during the step before (prefetch.go); the results are the same bits
	// either way. The OpenBLAS build always does: its threads, outside
	// Go's scheduler, hold the cores during the step.
	NoPrefetch bool

	single  []*Phase    // the one phase when Phases is nil
	pf      *prefetcher // during Run, unless NoPrefetch
	order   []int       // the current epoch's order of the training samples
	batches [][]int     // and its mini-batches (slices of order)
}

// NewState returns the state of a loop that has not started.
func NewState() State {
	return State{Best: math.NaN(), Stop: StopState{Best: math.NaN()}, Schedule: ScheduleState{LR: math.NaN()}}
}

// StepsPerEpoch is the number of optimizer steps in one epoch.
func (l *Loop) StepsPerEpoch() int {
	batches := (l.Data.Train.N + l.BatchSize - 1) / l.BatchSize
	k := max(l.Accumulate, 1)
	return (batches + k - 1) / k
}

// Clock is the loop's position for schedules.
func (l *Loop) Clock() Clock {
	return Clock{Step: l.State.Step, StepsPerEpoch: l.StepsPerEpoch(), Epochs: l.Epochs}
}

// LR is the learning rate of the next step (of the first phase).
func (l *Loop) LR() float64 { return l.TrainingPhases()[0].LR(l.Clock()) }

// TrainingPhases returns the phases each step runs: Phases, or the one
// phase of the loop's Optimizer, Schedule and Reg, which follows any change
// to them.
func (l *Loop) TrainingPhases() []*Phase {
	if l.Phases != nil {
		return l.Phases
	}
	if l.single == nil {
		l.single = []*Phase{{Name: DefaultPhase}}
	}
	p := l.single[0]
	p.Optimizer, p.Schedule, p.Reg = l.Optimizer, l.Schedule, l.Reg
	return l.single
}

// PhaseStates returns every phase's optimizer and schedule state, in
// order, for a checkpoint.
func (l *Loop) PhaseStates() []PhaseState {
	phases := l.TrainingPhases()
	out := make([]PhaseState, len(phases))
	for i, p := range phases {
		out[i] = p.State()
	}
	return out
}

// Run trains until the configured number of epochs is complete, early
// stopping ends it, the context is cancelled (ErrInterrupted, after the
// current step), or the training diverges (ErrDiverged). When training
// ends normally the weights of the best epoch are restored.
func (l *Loop) Run(ctx context.Context) error {
	err := l.run(ctx)
	for _, h := range l.Hooks {
		if herr := h.AtEnd(l, err); herr != nil && err == nil {
			err = herr
		}
	}
	if err == nil && l.Best != nil {
		err = RestoreParams(l.Session.Model.Params(), l.Best)
	}
	return err
}

// prefetchWithBLASThreads prefetches even in a build whose BLAS has its
// own threads (OpenBLAS), where it is off because the gathering goroutine
// would compete with them; tests set it to check that prefetching stays
// bit-identical there too.
var prefetchWithBLASThreads = false

func (l *Loop) run(ctx context.Context) error {
	if l.Phases != nil {
		if err := CheckPhases(l.Phases); err != nil {
			return err
		}
	}
	for _, h := range l.Hooks {
		if err := h.BeforeRun(l); err != nil {
			return err
		}
	}
	start := time.Now().Add(-l.State.Elapsed)
	k := max(l.Accumulate, 1)
	if !l.NoPrefetch && (prefetchWithBLASThreads || !compute.BLASHasThreads()) {
		l.pf = newPrefetcher()
		defer func() {
			l.pf.stop()
			l.pf = nil
		}()
	}
	for !l.State.Stopped && l.State.Epoch < l.Epochs {
		batches := l.epochBatches()
		for l.State.Batch < len(batches) {
			if err := ctx.Err(); err != nil {
				l.State.Elapsed = time.Since(start)
				return fmt.Errorf("%w at epoch %d, step %d", ErrInterrupted, l.State.Epoch+1, l.State.Step)
			}
			s, err := l.step(batches, k)
			if err != nil {
				return err
			}
			l.State.Elapsed = time.Since(start)
			for _, h := range l.Hooks {
				if err := h.AfterStep(l, s); err != nil {
					return err
				}
			}
		}
		l.State.Elapsed = time.Since(start)
		stats, err := l.endEpoch()
		if err != nil {
			return err
		}
		for _, h := range l.Hooks {
			if err := h.AfterEpoch(l, stats); err != nil {
				return err
			}
		}
	}
	return nil
}

// epochBatches returns the mini-batches of the current epoch, in the
// loop's reused buffers (no gather may be in flight from the epoch before:
// only mini-batches of one epoch are prefetched).
func (l *Loop) epochBatches() [][]int {
	if l.pf != nil {
		l.pf.wait()
	}
	l.order = data.OrderInto(l.order, l.Data.Train.N, l.Seed, l.State.Epoch)
	l.batches = data.BatchesInto(l.batches, l.order, l.BatchSize)
	return l.batches
}

// step runs one optimizer step over the group of mini-batches of the
// epoch's batches that starts at l.State.Batch (k of them, fewer at the
// end of the epoch): each phase in turn updates its parameter group from
// them, Steps times. The loss logged is the first phase's first update's.
func (l *Loop) step(batches [][]int, k int) (StepStats, error) {
	first := l.State.Batch
	group := batches[first:min(first+k, len(batches))]
	n := 0
	for _, idx := range group {
		n += len(idx)
	}
	var lr, lossSum, pen float64
	l.resetPhaseSums(true) // sized once: a loop's first step, or a checkpoint of another shape
	for i, p := range l.TrainingPhases() {
		for r := range max(p.Steps, 1) {
			plr, ploss, ppen, err := l.update(p, batches, first, group, n)
			if err != nil {
				return StepStats{}, err
			}
			if i == 0 && r == 0 {
				lr, lossSum, pen = plr, ploss, ppen
			}
			if l.Phases != nil {
				l.State.PhaseLoss[i] += ploss
				l.State.PhaseCount[i] += n
			}
		}
	}
	l.State.LossSum += lossSum
	l.State.PenSum += pen * float64(n)
	l.State.LossCount += n
	l.State.Batch += len(group)
	l.State.Step++
	l.State.LR = lr
	return StepStats{Loss: lossSum / float64(n), Samples: n, LR: lr}, nil
}

// update is one update of phase p from the mini-batches group (the
// epoch's batches from first on, n samples): forward and backward on each,
// gradients averaged by sample count, regularization, the optimizer's
// step. It returns the learning rate, the loss summed over the samples
// and the penalty.
func (l *Loop) update(p *Phase, batches [][]int, first int, group [][]int, n int) (float64, float64, float64, error) {
	lr := p.LR(l.Clock())
	var (
		params  []*models.Param
		grads   []*tensor.Dense
		lossSum float64
	)
	for i, idx := range group {
		g, err := l.forward(p, batches, first+i)
		if err != nil {
			return 0, 0, 0, err
		}
		if err := l.guard(g); err != nil {
			return 0, 0, 0, err
		}
		lossSum += g.Loss * float64(len(idx))
		l.addWatched(p, g.Watched)
		params = g.Params
		if len(group) == 1 {
			grads = g.Grads
			continue
		}
		grads = p.accumulate(g.Grads, float64(len(idx))/float64(n), i == 0)
	}
	pen := p.Reg.Penalize(params, grads)
	p.Reg.Clip(grads)
	wd := p.Reg.WeightDecay
	if d, ok := p.Optimizer.(Decayer); ok {
		wd = d.WeightDecay()
	}
	p.Reg.Decay(lr, wd, params)
	if ms, ok := p.Schedule.(MomentumSchedule); ok && ms.CyclesMomentum() {
		if mc, ok := p.Optimizer.(MomentumCycler); ok {
			mc.SetMomentum(ms.Momentum(l.Clock()))
		}
	}
	if err := p.Optimizer.Step(lr, params, grads); err != nil {
		return 0, 0, 0, err
	}
	if name := firstNonFiniteParam(params); name != "" {
		return 0, 0, 0, fmt.Errorf("%w at %s: the update made %s non-finite (learning rate %g); lower %s", ErrDiverged, l.where(), name, lr, l.lrKey(p))
	}
	return lr, lossSum, pen, nil
}

// addWatched adds the sums of phase p's watched outputs over one
// mini-batch to the epoch's.
func (l *Loop) addWatched(p *Phase, sums []Watched) {
	if len(sums) == 0 {
		return
	}
	off := 0
	for _, q := range l.Phases {
		if q == p {
			break
		}
		off += len(q.Watch)
	}
	for i, w := range sums {
		l.State.WatchSum[off+i] += w.Sum
		l.State.WatchCount[off+i] += w.N
	}
}

// resetPhaseSums sizes and zeroes the epoch's sums of the phases' losses
// and watched outputs (a resumed run's state holds them already).
func (l *Loop) resetPhaseSums(keep bool) {
	if l.Phases == nil {
		return
	}
	watches := 0
	for _, p := range l.Phases {
		watches += len(p.Watch)
	}
	if keep && len(l.State.PhaseLoss) == len(l.Phases) && len(l.State.WatchSum) == watches {
		return
	}
	l.State.PhaseLoss, l.State.PhaseCount = make([]float64, len(l.Phases)), make([]int, len(l.Phases))
	l.State.WatchSum, l.State.WatchCount = make([]float64, watches), make([]int, watches)
}

// phaseMetrics are the epoch's means of the phases' losses and watched
// outputs, by name.
func (l *Loop) phaseMetrics() map[string]float64 {
	m := map[string]float64{}
	k := 0
	for i, p := range l.Phases {
		if p.Metric != "" {
			m[p.Metric] = l.State.PhaseLoss[i] / float64(max(l.State.PhaseCount[i], 1))
		}
		for _, w := range p.Watch {
			m[w.Name] = l.State.WatchSum[k] / float64(max(l.State.WatchCount[k], 1))
			k++
		}
	}
	return m
}

// lrKey names the setting of phase p's learning rate, for messages.
func (l *Loop) lrKey(p *Phase) string {
	if l.Phases == nil {
		return "train.optimizer.lr"
	}
	return fmt.Sprintf("the learning rate of phase %q", p.Name)
}

// forward runs phase p's training graph on mini-batch j of the epoch's
// batches: with the inputs the prefetcher gathered during the step before
// when it did, else gathered now. It then starts gathering mini-batch
// j+1 for the first phase's graph.
func (l *Loop) forward(p *Phase, batches [][]int, j int) (Gradients, error) {
	idx := batches[j]
	c, err := l.Session.phaseGraph(&p.Objective, len(idx))
	if err != nil {
		return Gradients{}, err
	}
	at := batchPos{l.State.Epoch, j}
	if l.pf != nil && l.pf.take(c, at) {
		c.useSpare()
	} else {
		c.fillAt(l.Data.Train, idx, at)
	}
	if l.pf != nil && j+1 < len(batches) {
		next := batches[j+1]
		nc, err := l.Session.phaseGraph(&l.TrainingPhases()[0].Objective, len(next))
		if err != nil {
			return Gradients{}, err
		}
		// No gather is in flight (take waited for it): fillSpare, on the
		// prefetcher's goroutine, reads spareAt after start hands it over.
		nc.spareAt = batchPos{l.State.Epoch, j + 1}
		l.pf.start(nc, l.Data.Train, next, nc.spareAt)
	}
	return c.forward()
}

// where names the step being taken, for errors.
func (l *Loop) where() string {
	return fmt.Sprintf("epoch %d, step %d", l.State.Epoch+1, l.State.Step+1)
}

// guard stops training on a non-finite or exploding loss or a non-finite
// gradient, naming what went wrong first.
func (l *Loop) guard(g Gradients) error {
	where := l.where

	if math.IsNaN(g.Loss) || math.IsInf(g.Loss, 0) {
		what := "no gradient is non-finite yet"
		if name := firstNonFinite(g.Params, g.Grads); name != "" {
			what = "the first non-finite gradient is that of " + name
		}
		return fmt.Errorf("%w at %s: the loss is %v (%s); lower train.optimizer.lr or check the data", ErrDiverged, where(), g.Loss, what)
	}
	if name := firstNonFinite(g.Params, g.Grads); name != "" {
		return fmt.Errorf("%w at %s: the gradient of %s is not finite (loss %g); lower train.optimizer.lr or clip gradients (train.regularization.clip_norm)", ErrDiverged, where(), name, g.Loss)
	}
	if l.State.Step == 0 && l.State.FirstLoss == 0 {
		l.State.FirstLoss = g.Loss
	}
	if limit := l.DivergeFactor * max(1, l.State.FirstLoss); l.DivergeFactor > 0 && g.Loss > limit {
		name, norm := largestGradient(g.Params, g.Grads)
		return fmt.Errorf("%w at %s: the loss %.4g exceeds train.diverge_factor (%g) × the first loss (%.4g); the largest gradient is that of %s (norm %.4g); lower train.optimizer.lr",
			ErrDiverged, where(), g.Loss, l.DivergeFactor, max(1, l.State.FirstLoss), name, norm)
	}
	return nil
}

// Healthy checks the weights as they are now before they are saved: the
// evaluation graph's loss on the first mini-batch of the training split
// must be finite and, once the first loss is known, within the divergence
// limit. An update can leave finite weights whose very next step diverges
// (a huge learning rate): such a state is not a good checkpoint to resume
// from. It changes no weight, running statistic or random stream.
func (l *Loop) Healthy() error {
	split := l.Data.Train
	if split == nil || split.N == 0 {
		return nil
	}
	idx := make([]int, min(max(l.BatchSize, 1), split.N))
	for i := range idx {
		idx[i] = i
	}
	loss, err := l.Session.Predict(split, idx, nil)
	if err != nil {
		return err
	}
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return fmt.Errorf("%w after step %d: the weights give a non-finite loss (%v) on a training batch; they were not saved; lower train.optimizer.lr", ErrDiverged, l.State.Step, loss)
	}
	if limit := l.DivergeFactor * max(1, l.State.FirstLoss); l.DivergeFactor > 0 && l.State.FirstLoss != 0 && loss > limit {
		return fmt.Errorf("%w after step %d: the weights give a loss of %.4g on a training batch, above train.diverge_factor (%g) × the first loss (%.4g); they were not saved; lower train.optimizer.lr",
			ErrDiverged, l.State.Step, loss, l.DivergeFactor, max(1, l.State.FirstLoss))
	}
	return nil
}

// accumulate adds w·grads into the phase's accumulation buffers (reset
// first when first is set) and returns them.
func (p *Phase) accumulate(grads []*tensor.Dense, w float64, first bool) []*tensor.Dense {
	if len(p.acc) != len(grads) {
		p.acc = make([]*tensor.Dense, len(grads))
		for i, g := range grads {
			p.acc[i] = tensor.New(tensor.WithShape(g.Shape().Clone()...), tensor.Of(g.Dtype()))
		}
	}
	for i, g := range grads {
		ops.Must(ops.Dispatch(g.Dtype(), axpyArgs{p.acc[i], g, w, first}, axpy[float32], axpy[float64]))
	}
	return p.acc
}

// axpyArgs is an accumulation buffer a, a gradient g, its weight w and
// whether it is the first of its group.
type axpyArgs struct {
	a, g  *tensor.Dense
	w     float64
	first bool
}

// axpy sets a to w·g (first) or adds w·g to it.
func axpy[T compute.Float](x axpyArgs) error {
	a, g, w := ops.Floats[T](x.a), ops.Floats[T](x.g), T(x.w)
	if x.first {
		for j, v := range g {
			a[j] = w * v
		}
		return nil
	}
	for j, v := range g {
		a[j] += w * v
	}
	return nil
}

func (l *Loop) endEpoch() (EpochStats, error) {
	s := EpochStats{
		Epoch:     l.State.Epoch + 1,
		Step:      l.State.Step,
		LR:        l.State.LR,
		TrainLoss: l.State.LossSum / float64(max(l.State.LossCount, 1)),
		Penalty:   l.State.PenSum / float64(max(l.State.LossCount, 1)),
		Val:       map[string]float64{},
		Elapsed:   l.State.Elapsed,
	}
	if l.Phases != nil {
		s.Phases = l.phaseMetrics()
	}
	if l.Data.Val.N > 0 {
		r, err := Evaluate(l.Session, l.Data.Val, max(l.BatchSize, 256), l.Data.Meta)
		if err != nil {
			return s, err
		}
		for k, v := range r.Metrics() {
			s.Val["val_"+k] = v
		}
	}
	metrics := s.Metrics()
	s.Improved = true
	if v, ok := metrics[l.Monitor.Metric]; ok {
		better := l.Monitor.Better(v, l.State.Best)
		if better {
			l.State.Best = v
		}
		// An undefined metric (NaN: R² of a constant target) never
		// improves, but the first epoch is the best until one does, so
		// that a run always has a best checkpoint.
		s.Improved = better || l.State.BestEpoch == 0
	}
	if s.Improved {
		l.State.BestEpoch = s.Epoch
		l.Best = CaptureParamsInto(l.Best, l.Session.Model.Params())
	}
	if l.EarlyStop != nil {
		s.Stopped = l.EarlyStop.Observe(&l.State.Stop, s.Epoch, metrics)
		l.State.Stopped = s.Stopped
	}
	for i, p := range l.TrainingPhases() {
		if r, ok := p.Schedule.(Reactive); ok {
			r.Observe(metrics, p.Optimizer.LR())
			if i == 0 {
				l.State.Schedule = r.State()
			}
		}
	}
	l.State.Epoch++
	l.State.Batch, l.State.LossSum, l.State.PenSum, l.State.LossCount = 0, 0, 0, 0
	l.resetPhaseSums(false)
	return s, nil
}

func firstNonFinite(params []*models.Param, grads []*tensor.Dense) string {
	for i, g := range grads {
		if !finite(g) {
			return params[i].Name
		}
	}
	return ""
}

// firstNonFiniteParam names the first parameter holding a NaN or an
// infinity, or returns "".
func firstNonFiniteParam(params []*models.Param) string {
	for _, p := range params {
		if !finite(p.Value) {
			return p.Name
		}
	}
	return ""
}

// finite reports whether a tensor holds no NaN or infinity (vectorized:
// the loop checks every gradient and weight at every step).
func finite(t *tensor.Dense) bool {
	return ops.MustValue(ops.DispatchValue(t.Dtype(), t, allFinite[float32], allFinite[float64]))
}

func allFinite[T compute.Float](t *tensor.Dense) bool { return compute.AllFinite(ops.Floats[T](t)) }

// largestGradient names the parameter whose gradient has the largest L2
// norm.
func largestGradient(params []*models.Param, grads []*tensor.Dense) (string, float64) {
	name, best := "", -1.0
	for i, g := range grads {
		if n := GlobalNorm([]*tensor.Dense{g}); n > best {
			name, best = params[i].Name, n
		}
	}
	return name, best
}
