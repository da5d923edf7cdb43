package sweep

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/dltrain/dltrain/pkg/run"
	"github.com/dltrain/dltrain/pkg/train"
)

// Stoppers are the kinds of early_stop, each with what it does; a kind
// mapped to "" is not built yet and is refused with a clear error.
var Stoppers = map[string]string{
	"none":      "every trial trains all of train.epochs",
	"asha":      "asynchronous successive halving: trials train min_epochs; the best 1/reduction of each rung resume from their checkpoint to reduction times as many epochs",
	"median":    "a trial stops after an epoch ≥ min_epochs where its best is worse than the median of the other trials' best at that epoch",
	"hyperband": "Hyperband (Li et al. 2018): brackets of successive halving from min_epochs to max_epochs (train.epochs); once a rung of a bracket is complete its best 1/reduction resume from their checkpoint to reduction times as many epochs",
}

func stopperNames() []string {
	out := make([]string, 0, len(Stoppers))
	for k := range Stoppers {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// WorkOptions are the inputs of Work.
type WorkOptions struct {
	Dir     string // the sweep directory
	Worker  string // this worker's name in the journal
	Threads int    // each trial's train.threads; 0 keeps the experiment's
	// Progress gets one line per finished trial; Log gets the trials'
	// training logs (nil: each trial's train.log only).
	Progress io.Writer
	Log      io.Writer
}

// claim is what a worker took on under the lock.
type claim struct {
	trial  *trialState
	rung   int
	budget int
	prune  func(epoch int, best float64) bool
	lock   *lockedFile
}

// Work claims trials of the sweep in opt.Dir one at a time under its lock
// and runs them, until no work is left: a trial whose worker died is
// resumed from its checkpoint; with ASHA, a promotable trial is resumed
// to the next rung before a new one starts. Several workers (processes,
// or machines sharing the directory) can work on one sweep at once. A
// cancelled ctx stops the running trial at a checkpoint and returns
// train.ErrInterrupted; the next Work resumes it.
func Work(ctx context.Context, opt WorkOptions) error {
	for {
		if ctx.Err() != nil {
			return fmt.Errorf("sweep %w", train.ErrInterrupted)
		}
		c, st, err := next(opt)
		if err != nil {
			return err
		}
		if c == nil {
			if st.finished() {
				return nil
			}
			select { // another worker's trial may bring a promotion
			case <-ctx.Done():
				return fmt.Errorf("sweep %w", train.ErrInterrupted)
			case <-time.After(200 * time.Millisecond):
			}
			continue
		}
		err = runClaim(ctx, opt, st.spec, c)
		c.lock.Close()
		if err != nil {
			return err
		}
	}
}

// next reads the journal under the lock and claims the next piece of
// work: an orphaned claim, an ASHA promotion or a new trial. nil when
// there is none now.
func next(opt WorkOptions) (*claim, *state, error) {
	lk, err := lockSweep(opt.Dir)
	if err != nil {
		return nil, nil, err
	}
	defer lk.Close()
	recs, err := readJournal(opt.Dir)
	if err != nil {
		return nil, nil, err
	}
	st, err := replay(recs)
	if err != nil {
		return nil, nil, err
	}
	c, err := choose(opt, st)
	if c == nil || err != nil {
		return nil, st, err
	}
	rec := Record{Event: "claim", Trial: c.trial.ID, Rung: c.rung, Budget: c.budget, Values: c.trial.Values, Worker: opt.Worker}
	if st.spec.EarlyStop.Kind == "hyperband" {
		s := bracketOf(st.spec.hbBrackets(), c.trial.ID).S
		rec.Bracket = &s
	}
	if err := appendJournal(opt.Dir, rec); err != nil {
		c.lock.Close()
		return nil, nil, err
	}
	if st.spec.EarlyStop.Kind == "median" {
		c.prune = st.medianPrune(c.trial.ID)
	}
	return c, st, nil
}

// choose picks the work to claim, holding its trial's lock.
func choose(opt WorkOptions, st *state) (*claim, error) {
	spec := st.spec
	for _, t := range st.trials { // orphans: claimed by a worker that is gone
		if t.Pending == nil {
			continue
		}
		lk, ok, err := lockTrial(opt.Dir, t.ID)
		if err != nil {
			return nil, err
		}
		if ok {
			return &claim{trial: t, rung: t.Pending.Rung, budget: t.Pending.Budget, lock: lk}, nil
		}
	}
	var t *trialState
	rung := 0
	switch spec.EarlyStop.Kind {
	case "asha":
		t, rung, _ = st.promotion()
	case "hyperband":
		t, rung, _ = st.hbPromotion()
	}
	if t == nil && len(st.trials) < spec.Trials {
		id := len(st.trials)
		values := Samplers[spec.Method](spec).Suggest(id, st.observations(), trialRNG(spec.Seed, id))
		t = &trialState{ID: id, Values: values}
	}
	if t == nil {
		return nil, nil
	}
	lk, ok, err := lockTrial(opt.Dir, t.ID)
	if err != nil || !ok {
		return nil, err // !ok: cannot be, under the sweep's lock
	}
	budget := 0
	switch spec.EarlyStop.Kind {
	case "asha":
		budget = spec.rungBudget(rung)
	case "hyperband":
		budget = spec.hbBudget(t.ID, rung)
	}
	return &claim{trial: t, rung: rung, budget: budget, lock: lk}, nil
}

// TrialDir is the run directory of a trial (0-based) in a sweep
// directory: trials/0001 for the first, as the table numbers it.
func TrialDir(dir string, trial int) string {
	return filepath.Join(dir, "trials", fmt.Sprintf("%04d", trial+1))
}

// runClaim trains the claimed trial and appends its result.
func runClaim(ctx context.Context, opt WorkOptions, spec *Spec, c *claim) error {
	base, err := run.Load(spec.Experiment, nil)
	if err != nil {
		return err
	}
	var extra []string
	if opt.Threads > 0 {
		extra = append(extra, fmt.Sprintf("train.threads=%d", opt.Threads))
	}
	sets, err := overrides(base, spec.Space, c.trial.Values, extra)
	if err != nil {
		return err
	}
	dir := TrialDir(opt.Dir, c.trial.ID)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	logPath := dir + ".log"
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	var log io.Writer = logFile
	if opt.Log != nil {
		log = io.MultiWriter(logFile, opt.Log)
	}
	start := time.Now()
	topt := run.TrialOptions{
		Config: spec.Experiment, Sets: sets, Dir: dir,
		Metric: spec.Metric, Max: spec.Max, Budget: c.budget, Prune: c.prune, NoTest: true,
		Stderr: log,
	}
	res, err := trialOnceFree(ctx, topt)
	if err != nil && ctx.Err() != nil {
		return err // interrupted: the claim stays open, and is resumed
	}
	rec := Record{Event: "result", Trial: c.trial.ID, Rung: c.rung, Budget: c.budget, Worker: opt.Worker, Seconds: time.Since(start).Seconds()}
	if err != nil {
		rec.Status, rec.Error = "failed", err.Error()
		if curve, cerr := run.ReadMetric(dir, spec.Metric); cerr == nil {
			rec.Epochs = len(curve)
		}
	} else {
		rec.Status, rec.Value, rec.BestEpoch, rec.Epochs = string(res.Status), float(res.Best), res.BestEpoch, res.Epochs
		rec.FromEpoch, rec.FromStep = res.FromEpoch, res.FromStep
		for _, v := range res.Curve {
			rec.Curve = append(rec.Curve, float(v))
		}
	}
	lk, err := lockSweep(opt.Dir)
	if err != nil {
		return err
	}
	defer lk.Close()
	if err := appendJournal(opt.Dir, rec); err != nil {
		return err
	}
	if opt.Progress != nil {
		fmt.Fprintln(opt.Progress, progressLine(spec, c.trial, rec))
	}
	return nil
}

// runLockWait is how long a claim waits for the run directory's lock of
// a trial whose previous worker is still dying.
const runLockWait = 30 * time.Second

// trialOnceFree runs the trial, waiting while its run directory is locked.
// Holding the trial's lock, the only other holder of the run's lock can be
// a killed worker whose exit the kernel has not finished: a process
// releases its locks one file at a time as it exits, and the trial's lock
// comes first (it was opened first). Workers live in their own process
// groups and die of Pdeathsig after their coordinator, so a coordinator
// started right after a kill -9 meets such workers. Without the wait the
// trial was recorded as failed (run.ErrInUse).
func trialOnceFree(ctx context.Context, opt run.TrialOptions) (*run.TrialResult, error) {
	deadline := time.Now().Add(runLockWait)
	for {
		res, err := run.Trial(ctx, opt)
		if !errors.Is(err, run.ErrInUse) || time.Now().After(deadline) {
			return res, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("sweep %w", train.ErrInterrupted)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// progressLine is one line about a finished claim.
func progressLine(spec *Spec, t *trialState, r Record) string {
	var vals []string
	for _, p := range spec.Space {
		vals = append(vals, shortName(p.Path)+"="+show(p, t.Values[p.Path]))
	}
	metric := "-"
	if r.Value != nil {
		metric = fmt.Sprintf("%s (epoch %d)", metricText(*r.Value), r.BestEpoch)
	}
	status := r.Status
	if r.Status == "failed" {
		status = "failed: " + firstLine(r.Error)
	}
	rung := ""
	switch spec.EarlyStop.Kind {
	case "asha":
		rung = fmt.Sprintf(" rung %d", r.Rung)
	case "hyperband":
		rung = fmt.Sprintf(" bracket %d rung %d", bracketOf(spec.hbBrackets(), t.ID).S, r.Rung)
	}
	return fmt.Sprintf("trial %d/%d%s  %s  %s %s  %d/%d epochs  %s  %.1fs  [%s]",
		t.ID+1, spec.Trials, rung, strings.Join(vals, " "), spec.Metric, metric, r.Epochs, spec.Epochs, status, r.Seconds, r.Worker)
}

// shortName is a parameter path's last segment, or two when the last is
// not telling (lr of train.optimizer.lr; dense1.units).
func shortName(path string) string {
	parts := strings.Split(path, ".")
	if len(parts) >= 2 && strings.HasPrefix(path, "model.layers.") {
		return strings.Join(parts[len(parts)-2:], ".")
	}
	return parts[len(parts)-1]
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
