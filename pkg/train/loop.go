package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"gorgonia.org/tensor"
)

// ErrDiverged is returned when the loss or a gradient stops being finite
// (exit code 3).
var ErrDiverged = errors.New("training diverged")

// ErrInterrupted is returned when the context is cancelled; the loop stops
// after finishing the current step.
var ErrInterrupted = errors.New("training interrupted")

// State is where a loop stands; checkpoints save it so a resumed run
// continues exactly where it stopped.
type State struct {
	Epoch     int   // epochs completed
	Batch     int   // batches completed in the current epoch
	Step      int64 // optimizer steps taken
	LossSum   float64
	LossCount int // samples seen this epoch, for the mean train loss
	PenSum    float64
	Best      float64 // best value of the monitored metric so far
	BestEpoch int     // epoch (1-based) of Best; 0 when none yet
	Elapsed   time.Duration
}

// EpochStats is what one epoch measured.
type EpochStats struct {
	Epoch     int   // 1-based
	Step      int64 // steps taken at the end of the epoch
	LR        float64
	TrainLoss float64            // mean loss over the epoch's samples, penalty excluded
	Penalty   float64            // mean regularization penalty added to the loss
	Val       map[string]float64 // val_loss, val_accuracy, ... (empty without a val split)
	Elapsed   time.Duration      // wall time since the start of training
	Improved  bool               // the monitored metric improved (or there is none)
}

// Hook observes the loop. Every method may be a no-op; an error stops the
// loop.
type Hook interface {
	AfterStep(l *Loop, loss float64) error
	AfterEpoch(l *Loop, s EpochStats) error
	AtEnd(l *Loop, err error) error
}

// Monitor names the validation metric that decides the best epoch.
type Monitor struct {
	Metric string // e.g. "val_loss", "val_accuracy"
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

// Loop trains a model for a number of epochs.
type Loop struct {
	Session   *Session
	Optimizer Optimizer
	Data      *data.Dataset
	Epochs    int
	BatchSize int
	Seed      uint64
	L2        float64
	Monitor   Monitor
	Hooks     []Hook
	State     State
}

// NewState returns the state of a loop that has not started.
func NewState() State { return State{Best: math.NaN()} }

// Run trains until the configured number of epochs is complete, the
// context is cancelled (ErrInterrupted, after the current step), or the
// training diverges (ErrDiverged).
func (l *Loop) Run(ctx context.Context) (err error) {
	defer func() {
		for _, h := range l.Hooks {
			if herr := h.AtEnd(l, err); herr != nil && err == nil {
				err = herr
			}
		}
	}()
	start := time.Now().Add(-l.State.Elapsed)
	train := l.Data.Train
	for l.State.Epoch < l.Epochs {
		batches := data.Batches(data.Order(train.N, l.Seed, l.State.Epoch), l.BatchSize)
		for l.State.Batch < len(batches) {
			if err := ctx.Err(); err != nil {
				l.State.Elapsed = time.Since(start)
				return fmt.Errorf("%w at epoch %d, step %d", ErrInterrupted, l.State.Epoch+1, l.State.Step)
			}
			idx := batches[l.State.Batch]
			loss, err := l.step(idx)
			if err != nil {
				return err
			}
			for _, h := range l.Hooks {
				if err := h.AfterStep(l, loss); err != nil {
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

// step runs one mini-batch: forward, backward, regularization, update.
func (l *Loop) step(idx []int) (float64, error) {
	g, err := l.Session.Forward(l.Data.Train, idx)
	if err != nil {
		return 0, err
	}
	where := fmt.Sprintf("epoch %d, step %d", l.State.Epoch+1, l.State.Step+1)
	if math.IsNaN(g.Loss) || math.IsInf(g.Loss, 0) {
		return 0, fmt.Errorf("%w at %s: the loss is %v; lower the learning rate or check the data", ErrDiverged, where, g.Loss)
	}
	if name := firstNonFinite(g.Params, g.Grads); name != "" {
		return 0, fmt.Errorf("%w at %s: the gradient of %s is not finite", ErrDiverged, where, name)
	}
	pen := applyL2(l.L2, g.Params, g.Grads)
	if err := l.Optimizer.Step(l.Optimizer.LR(), g.Params, g.Grads); err != nil {
		return 0, err
	}
	if name := l.Session.Model.Params().FirstNonFinite(); name != "" {
		return 0, fmt.Errorf("%w at %s: the update made %s non-finite", ErrDiverged, where, name)
	}
	n := float64(len(idx))
	l.State.LossSum += g.Loss * n
	l.State.PenSum += pen * n
	l.State.LossCount += len(idx)
	l.State.Batch++
	l.State.Step++
	return g.Loss, nil
}

func (l *Loop) endEpoch() (EpochStats, error) {
	s := EpochStats{
		Epoch:     l.State.Epoch + 1,
		Step:      l.State.Step,
		LR:        l.Optimizer.LR(),
		TrainLoss: l.State.LossSum / float64(max(l.State.LossCount, 1)),
		Penalty:   l.State.PenSum / float64(max(l.State.LossCount, 1)),
		Val:       map[string]float64{},
		Elapsed:   l.State.Elapsed,
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
	s.Improved = true
	if v, ok := s.Val[l.Monitor.Metric]; ok {
		s.Improved = l.Monitor.Better(v, l.State.Best)
		if s.Improved {
			l.State.Best, l.State.BestEpoch = v, s.Epoch
		}
	} else {
		l.State.BestEpoch = s.Epoch // no validation: the best is the last
	}
	l.State.Epoch++
	l.State.Batch, l.State.LossSum, l.State.PenSum, l.State.LossCount = 0, 0, 0, 0
	return s, nil
}

// applyL2 adds l2·w to the gradient of every weight (not biases or
// normalization parameters) and returns the penalty 0.5·l2·Σw².
func applyL2(l2 float64, params []*models.Param, grads []*tensor.Dense) float64 {
	if l2 == 0 {
		return 0
	}
	var pen float64
	for i, p := range params {
		if p.Role != models.Weight {
			continue
		}
		switch w := p.Value.Data().(type) {
		case []float32:
			g := grads[i].Data().([]float32)
			c := float32(l2)
			for j, v := range w {
				g[j] += c * v
				pen += float64(v) * float64(v)
			}
		case []float64:
			g := grads[i].Data().([]float64)
			for j, v := range w {
				g[j] += l2 * v
				pen += v * v
			}
		}
	}
	return 0.5 * l2 * pen
}

func firstNonFinite(params []*models.Param, grads []*tensor.Dense) string {
	for i, g := range grads {
		switch d := g.Data().(type) {
		case []float32:
			for _, v := range d {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return params[i].Name
				}
			}
		case []float64:
			for _, v := range d {
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return params[i].Name
				}
			}
		}
	}
	return ""
}
