package run

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/train"
)

// TrialStatus is how a call of Trial ended.
type TrialStatus string

// The outcomes of a trial that are not errors.
const (
	TrialCompleted TrialStatus = "completed" // trained to train.epochs, or early stopping ended it
	TrialPaused    TrialStatus = "paused"    // stopped at its epoch budget; Trial resumes it from its checkpoint
	TrialPruned    TrialStatus = "pruned"    // the Prune rule stopped it
)

// TrialOptions are the inputs of Trial: one experiment, with overrides,
// trained into a directory the caller names and judged on one validation
// metric.
type TrialOptions struct {
	Config string   // experiment file
	Sets   []string // key=value overrides, as --set
	// Dir is the trial's run directory. When it holds a checkpoint the
	// trial resumes from it (a promotion, or a trial interrupted before);
	// otherwise whatever is there is removed and a new run starts.
	Dir    string
	Metric string // the logged metric the trial is judged by, e.g. val_accuracy
	Max    bool   // larger Metric is better
	// Budget stops training after this many epochs in all (a checkpoint
	// is saved, status TrialPaused); 0 trains to train.epochs.
	Budget int
	// Prune, when set, is asked after every epoch with the epoch and the
	// best Metric so far; true stops the trial (status TrialPruned).
	Prune func(epoch int, best float64) bool
	// NoTest skips the final test evaluation: a sweep chooses on
	// validation data only, so it sets it.
	NoTest    bool
	Stderr    io.Writer // the training log; nil is silent
	LogFormat string
}

// TrialResult is what a trial reached.
type TrialResult struct {
	Dir       string
	Status    TrialStatus
	Best      float64   // best Metric over the epochs trained; NaN when none
	BestEpoch int       // epoch (1-based) of Best; 0 when none
	Epochs    int       // epochs trained in all, over every call
	Curve     []float64 // Metric at each epoch (NaN where it was not finite)
	// FromEpoch and FromStep are where this call started training: the
	// epochs completed and optimizer steps taken in the checkpoint it
	// resumed from (within an epoch when the run was stopped mid-epoch);
	// both 0 for a trial that started afresh.
	FromEpoch int
	FromStep  int64
}

var (
	errBudget = errors.New("epoch budget reached")
	errPruned = errors.New("pruned")
)

// Trial trains one experiment with overrides into opt.Dir, or resumes it
// there, until its epoch budget, the Prune rule or the end of training,
// and reports its best validation metric. Reaching the budget and being
// pruned are outcomes, not errors; an interrupted trial (ctx cancelled)
// returns train.ErrInterrupted with its checkpoint saved, to be resumed
// by the next call.
func Trial(ctx context.Context, opt TrialOptions) (*TrialResult, error) {
	if opt.Dir == "" {
		return nil, fmt.Errorf("%w: a trial needs a run directory", config.ErrInvalid)
	}
	topt := TrainOptions{Stderr: opt.Stderr, LogFormat: opt.LogFormat, NoTest: opt.NoTest}
	if _, err := os.Stat(filepath.Join(opt.Dir, "checkpoints", "last.ckpt")); err == nil {
		topt.Resume = opt.Dir
	} else {
		// Killed before its first checkpoint: nothing to continue from.
		if err := os.RemoveAll(opt.Dir); err != nil {
			return nil, err
		}
		topt.Config, topt.Sets, topt.Dir = opt.Config, opt.Sets, opt.Dir
	}
	stop := &trialStop{opt: opt, best: math.NaN()}
	topt.Hooks = []train.Hook{stop}
	_, err := Train(ctx, topt)
	status := TrialCompleted
	switch {
	case errors.Is(err, errBudget):
		status = TrialPaused
	case errors.Is(err, errPruned):
		status = TrialPruned
	case err != nil:
		return nil, err
	}
	res := &TrialResult{Dir: opt.Dir, Status: status, Best: math.NaN(), FromEpoch: stop.from.Epoch, FromStep: stop.from.Step}
	if res.Curve, err = ReadMetric(opt.Dir, opt.Metric); err != nil {
		return nil, err
	}
	res.Epochs = len(res.Curve)
	m := train.Monitor{Metric: opt.Metric, Max: opt.Max}
	for i, v := range res.Curve {
		if m.Better(v, res.Best) {
			res.Best, res.BestEpoch = v, i+1
		}
	}
	return res, nil
}

// trialStop ends a trial at its budget or when its Prune rule says so. It
// runs after the checkpointer, so the epoch it stops at is saved; its
// errors wrap train.ErrInterrupted, so the checkpointer saves at the end
// too.
type trialStop struct {
	train.NopHook
	opt  TrialOptions
	best float64
	from train.State // where the call started
}

func (h *trialStop) BeforeRun(l *train.Loop) error {
	h.from = l.State
	// A resumed trial: its best so far, from the epochs already logged.
	curve, err := ReadMetric(h.opt.Dir, h.opt.Metric)
	if err != nil {
		return err
	}
	m := train.Monitor{Metric: h.opt.Metric, Max: h.opt.Max}
	for _, v := range curve[:min(len(curve), l.State.Epoch)] {
		if m.Better(v, h.best) {
			h.best = v
		}
	}
	// Resumed where an earlier call stopped (its caller died before
	// taking the result): stop again without training another epoch.
	if e := l.State.Epoch; e > 0 && !l.State.Stopped && e < l.Epochs {
		if h.opt.Budget > 0 && e >= h.opt.Budget {
			return fmt.Errorf("%w (%d): %w", errBudget, h.opt.Budget, train.ErrInterrupted)
		}
		if h.opt.Prune != nil && h.opt.Prune(e, h.best) {
			return fmt.Errorf("%w at epoch %d: %w", errPruned, e, train.ErrInterrupted)
		}
	}
	return nil
}

func (h *trialStop) AfterEpoch(l *train.Loop, s train.EpochStats) error {
	if v, ok := s.Metrics()[h.opt.Metric]; ok {
		if (train.Monitor{Metric: h.opt.Metric, Max: h.opt.Max}).Better(v, h.best) {
			h.best = v
		}
	}
	if s.Stopped || s.Epoch >= l.Epochs {
		return nil // the end of training anyway
	}
	if h.opt.Prune != nil && h.opt.Prune(s.Epoch, h.best) {
		return fmt.Errorf("%w at epoch %d: %w", errPruned, s.Epoch, train.ErrInterrupted)
	}
	if h.opt.Budget > 0 && s.Epoch >= h.opt.Budget {
		return fmt.Errorf("%w (%d): %w", errBudget, h.opt.Budget, train.ErrInterrupted)
	}
	return nil
}

// ReadMetric returns one metric of a run, one value per epoch logged in
// its metrics.jsonl (NaN where the value was not finite). A metric the run
// never logged is an error.
func ReadMetric(dir, metric string) ([]float64, error) {
	f, err := os.Open(filepath.Join(dir, "metrics.jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var curve []float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<24)
	for line := 1; sc.Scan(); line++ {
		var row map[string]*float64
		if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
			return nil, fmt.Errorf("%s/metrics.jsonl:%d: %w", dir, line, err)
		}
		v, ok := row[metric]
		if !ok {
			return nil, fmt.Errorf("%w: %s/metrics.jsonl:%d has no %s", config.ErrInvalid, dir, line, metric)
		}
		if v == nil {
			curve = append(curve, math.NaN())
		} else {
			curve = append(curve, *v)
		}
	}
	return curve, sc.Err()
}

// LoggedMetrics are the metrics a run of a task logs each epoch: what a
// sweep, early stopping or the best checkpoint may watch.
func LoggedMetrics(task string) []string { return loggedMetrics(task) }

// runDir creates the new run's directory: opt.Dir when set (it must not
// exist), else OUT/NAME/RUN-ID.
func runDir(opt TrainOptions, name string) (string, error) {
	if opt.Dir == "" {
		return newRunDir(opt.Out, name)
	}
	if err := os.MkdirAll(filepath.Dir(opt.Dir), 0o755); err != nil {
		return "", err
	}
	if err := os.Mkdir(opt.Dir, 0o755); err != nil {
		return "", fmt.Errorf("%w: cannot create the run directory %s: %v", config.ErrInvalid, opt.Dir, errors.Unwrap(err))
	}
	return opt.Dir, nil
}
