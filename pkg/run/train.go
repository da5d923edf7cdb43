package run

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/eval"
	"github.com/dltrain/dltrain/pkg/train"
)

// ErrInUse is returned by Train for a run directory that another process
// is training (exit code 2, as a usage error).
var ErrInUse = errors.New("run in use")

// TrainOptions are the inputs of Train.
type TrainOptions struct {
	Config    string   // experiment file
	Sets      []string // --set key=value overrides
	Out       string   // runs go under Out/<name>/<run-id>
	Stdout    io.Writer
	Stderr    io.Writer
	Terminal  bool   // stderr is a terminal: show a progress bar
	LogFormat string // "text" or "json"
	// Resume continues a run: "auto" (the experiment's newest run under
	// Out, if it is unfinished), a run directory, or a checkpoint file
	// inside a run directory. Empty starts a new run.
	Resume string
	// SaveRequests asks for a checkpoint after the current step (SIGUSR1).
	SaveRequests <-chan struct{}
	// Hooks are added to the training loop after dltrain's own.
	Hooks []train.Hook
	// Dir, when set, is the new run's directory (created, and it must not
	// exist) instead of Out/<name>/<run-id>: a sweep names its trials.
	Dir string
	// NoTest skips the final evaluation on the test split: a sweep
	// chooses on validation data only.
	NoTest bool
}

// TrainResult says where a run went and how it scored.
type TrainResult struct {
	Dir    string
	Report *eval.Report // best checkpoint on the test split; nil without a test split
}

// Train runs an experiment from its config file to a test-set evaluation,
// or continues an interrupted run exactly where it stopped.
func Train(ctx context.Context, opt TrainOptions) (*TrainResult, error) {
	r, err := locateResume(opt)
	if err != nil {
		return nil, err
	}
	if r.unlock != nil {
		defer r.unlock()
	}
	exp := r.exp
	if exp == nil {
		if exp, err = Load(opt.Config, opt.Sets); err != nil {
			return nil, err
		}
	}
	// GOMAXPROCS and the BLAS's threads together, so they do not fight.
	compute.SetThreads(exp.Train.Threads)
	s, rep, err := prepare(exp, data.Open, true)
	if err != nil {
		return nil, err
	}
	if err := setAugment(s); err != nil { // the ops' shape checks: before anything is written
		return nil, err
	}
	if err := checkBatchSizes(s); err != nil {
		return nil, err
	}
	loop, err := newLoop(s) // its schedule's checks need the run's length: before anything is written
	if err != nil {
		return nil, err
	}
	if _, err := newSampleGridHook(s, ""); err != nil { // a grid of samples that are not images: before anything is written
		return nil, err
	}
	dir := r.dir
	if dir == "" {
		if dir, err = runDir(opt, exp.Name); err != nil {
			return nil, err
		}
		unlock, err := lockRun(dir)
		if err != nil {
			return nil, err
		}
		defer unlock()
		logf(opt, "run directory %s", dir)
		for _, n := range rep.Notes {
			logf(opt, "data: %s", n)
		}
		if err := writeRunFiles(dir, exp, s.ds, rep); err != nil {
			discardUnstarted(opt, dir)
			return nil, err
		}
	}
	if r.ck != nil {
		if err := restore(loop, s, r); err != nil {
			return nil, err
		}
		if loop.State.Stopped || loop.State.Epoch >= loop.Epochs {
			logf(opt, "%s finished training already (epoch %d); evaluating it", dir, loop.State.Epoch)
		} else {
			logf(opt, "resuming %s from %s: epoch %d, step %d", dir, r.ckPath, loop.State.Epoch+1, loop.State.Step)
			// Rows logged after the checkpoint (a kill -9, or an older
			// checkpoint resumed) are logged again by the resumed run.
			if err := train.TruncateMetrics(dir, loop.State.Epoch); err != nil {
				return nil, err
			}
			loop.State.Elapsed = train.ElapsedAt(dir, loop.State.Epoch) // checkpoints hold no wall-clock time
		}
	}
	ckpt := &train.Checkpointer{
		Dir:         filepath.Join(dir, "checkpoints"),
		EveryEpochs: exp.Train.Checkpoint.EveryEpochs,
		EverySteps:  exp.Train.Checkpoint.EverySteps,
		Keep:        exp.Train.Checkpoint.Keep,
		Requests:    opt.SaveRequests,
		Capture:     capture(s),
		Logf:        func(format string, args ...any) { logf(opt, format, args...) },
	}
	loop.Hooks = []train.Hook{&train.MetricsLog{Dir: dir}}
	if opt.Stderr != nil {
		loop.Hooks = append(loop.Hooks, &train.Progress{W: opt.Stderr, Terminal: opt.Terminal, JSON: opt.LogFormat == "json", Epochs: exp.Train.Epochs})
	}
	if exp.Train.TensorBoard {
		loop.Hooks = append(loop.Hooks, &train.TensorBoard{Dir: dir})
	}
	if grid, err := newSampleGridHook(s, dir); err != nil {
		return nil, err
	} else if grid != nil {
		loop.Hooks = append(loop.Hooks, grid)
	}
	loop.Hooks = append(append(loop.Hooks, ckpt), opt.Hooks...)
	logf(opt, "training %s: %d parameters, %d train / %d val / %d test samples, %d steps per epoch",
		exp.Model.Kind, s.model.Params().Count(), s.ds.Train.N, s.ds.Val.N, s.ds.Test.N, loop.StepsPerEpoch())
	res := &TrainResult{Dir: dir}
	if err := loop.Run(ctx); err != nil {
		switch {
		case r.dir == "" && discardUnstarted(opt, dir):
			res.Dir = ""
		case errors.Is(err, train.ErrInterrupted):
			logf(opt, "checkpoint saved: %s (continue with: dltrain train --resume %s)", ckpt.LastPath(), dir)
		case errors.Is(err, train.ErrDiverged):
			logf(opt, "the last good checkpoint is kept: %s", ckpt.LastPath())
		}
		return res, err
	}
	if loop.State.Stopped {
		if s.ds.Val.N == 0 {
			logf(opt, "early stopping after epoch %d: no validation split, so the last epoch's weights are kept (best.ckpt is the last)", loop.State.Epoch)
		} else {
			logf(opt, "early stopping after epoch %d: the weights of epoch %d are restored, the best by %s (train.checkpoint.metric, as best.ckpt)",
				loop.State.Epoch, loop.State.BestEpoch, loop.Monitor.Metric)
		}
	}
	if opt.NoTest {
		return res, nil // the caller chooses on validation data only
	}
	if s.ds.Test.N == 0 {
		logf(opt, "no test split (data.split.test is 0): skipping the final evaluation")
		return res, nil
	}
	s, loop, ckpt = nil, nil, nil
	runtime.GC() // Eval loads the data again: free the training copy first (peak memory)
	res.Report, err = Eval(ctx, EvalOptions{Run: dir, Checkpoint: "best", Split: "test", Stdout: opt.Stdout})
	if errors.Is(err, train.ErrInterrupted) {
		logf(opt, "the final evaluation was stopped; the checkpoints are kept (evaluate with: dltrain train --resume %s)", dir)
	}
	return res, err
}

// discardUnstarted removes the directory of a new run that failed before
// its first checkpoint: it holds nothing to resume or evaluate, and left
// behind it would pass for a run. It reports whether it did.
func discardUnstarted(opt TrainOptions, dir string) bool {
	if _, err := os.Stat(filepath.Join(dir, "checkpoints", "last.ckpt")); !errors.Is(err, os.ErrNotExist) {
		return false
	}
	if err := os.RemoveAll(dir); err != nil {
		logf(opt, "the run never started; its directory %s could not be removed: %v", dir, err)
		return false
	}
	logf(opt, "the run never started: removed the run directory %s", dir)
	return true
}

// checkBatchSizes builds the training graph for every batch size an epoch
// has (the full one and the last, partial one) before anything is written,
// so that a size the model cannot take is a config error naming
// train.batch_size, not a failure in the middle of the first epoch.
func checkBatchSizes(s *setup) error {
	n, b := s.ds.Train.N, s.exp.Train.BatchSize
	if n == 0 {
		return nil
	}
	sizes := []int{min(b, n)}
	if n > b && n%b != 0 {
		sizes = append(sizes, n%b)
	}
	for _, size := range sizes {
		if err := s.session.Compile(size, true); err != nil {
			return config.Problems{s.exp.Problem("train.batch_size", "%d training samples in batches of %d give a batch of %d, which the model cannot train on: %v", n, b, size, err)}
		}
	}
	return nil
}

// newLoop builds the training loop an experiment describes.
func newLoop(s *setup) (*train.Loop, error) { return NewLoop(s.exp, s.session, s.ds) }

// NewLoop builds the training loop an experiment describes over a session
// and a dataset, as `dltrain train` runs it: optimizer, schedule,
// regularization, the monitored metric, early stopping and the divergence
// test; no hooks. `dltrain bench` times its steps.
func NewLoop(exp *config.Experiment, session *train.Session, ds *data.Dataset) (*train.Loop, error) {
	t := exp.Train
	optim, ps := train.NewOptimizer(t.Optimizer)
	if len(ps) > 0 {
		return nil, ps
	}
	loop := &train.Loop{
		Session:    session,
		Optimizer:  optim,
		Data:       ds,
		Epochs:     t.Epochs,
		BatchSize:  t.BatchSize,
		Accumulate: t.AccumulateSteps,
		Seed:       exp.Seed,
		Reg: train.Regularizer{
			L1: t.Regularization.L1, L2: t.Regularization.L2, WeightDecay: t.Regularization.WeightDecay,
			ClipNorm: t.Regularization.ClipNorm, ClipValue: t.Regularization.ClipValue,
			Skip: train.Excluder(t.Regularization.Exclude),
		},
		Monitor:       monitor(exp),
		EarlyStop:     earlyStopping(exp),
		DivergeFactor: t.DivergeFactor,
		State:         train.NewState(),
	}
	sched, ps := train.NewSchedule(t.Schedule, t.Epochs, loop.StepsPerEpoch())
	if len(ps) > 0 {
		return nil, ps
	}
	loop.Schedule = sched
	if exp.Data.Task == ganTask {
		gan, err := ganModel(session.Model)
		if err != nil {
			return nil, err
		}
		if loop.Phases, err = ganPhases(exp, gan, loop.StepsPerEpoch()); err != nil {
			return nil, err
		}
	}
	return loop, nil
}

// capture returns a function that snapshots the whole training state.
func capture(s *setup) func(l *train.Loop) *train.Checkpoint {
	return func(l *train.Loop) *train.Checkpoint {
		cfg, _ := s.exp.YAML()
		meta, _ := json.Marshal(s.ds.Meta)
		rng, _ := s.dropout.MarshalBinary()
		return &train.Checkpoint{
			Config: cfg,
			Meta:   meta,
			Params: train.CaptureParams(s.model.Params()),
			Phases: l.PhaseStates(),
			State:  l.State,
			RNG:    map[string][]byte{"dropout": rng},
		}
	}
}

// newRunDir creates OUT/NAME/RUN-ID, the run ID being the start time; a
// suffix keeps two runs started in the same second apart.
func newRunDir(out, name string) (string, error) {
	if out == "" {
		out = "runs"
	}
	base := filepath.Join(out, name, time.Now().UTC().Format("20060102-150405"))
	dir := base
	for i := 2; ; i++ {
		err := os.MkdirAll(filepath.Dir(dir), 0o755)
		if err == nil {
			err = os.Mkdir(dir, 0o755)
		}
		if err == nil {
			return dir, nil
		}
		if !os.IsExist(err) {
			return "", fmt.Errorf("%w: cannot create the run directory %s (--out %s): %w", config.ErrInvalid, dir, out, errors.Unwrap(err))
		}
		dir = fmt.Sprintf("%s-%d", base, i)
	}
}

// dataFile is data.json: what the run's data looked like.
type dataFile struct {
	data.Meta
	Train int      `json:"train_samples"`
	Val   int      `json:"val_samples"`
	Test  int      `json:"test_samples"`
	Notes []string `json:"notes"`
}

func writeRunFiles(dir string, exp *config.Experiment, ds *data.Dataset, rep *data.Report) error {
	if err := exp.WriteFile(filepath.Join(dir, "config.yaml")); err != nil {
		return err
	}
	b, err := json.MarshalIndent(dataFile{Meta: ds.Meta, Train: ds.Train.N, Val: ds.Val.N, Test: ds.Test.N, Notes: rep.Notes}, "", "  ")
	if err != nil {
		return err
	}
	var split bytes.Buffer // which split every sample is in, for audits
	if err := data.WriteAssignment(&split, ds); err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(dir, data.AssignmentFile), split.Bytes()); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, "data.json"), b)
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory, synced then renamed: path holds the old content or the new,
// never a part. Nothing is left behind on failure.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

func logf(opt TrainOptions, format string, args ...any) {
	if opt.Stderr == nil {
		return
	}
	if opt.LogFormat == "json" {
		b, _ := json.Marshal(map[string]string{"event": "log", "msg": fmt.Sprintf(format, args...)})
		fmt.Fprintln(opt.Stderr, string(b))
		return
	}
	fmt.Fprintln(opt.Stderr, data.Printable(fmt.Sprintf(format, args...))) // notes may quote a user's file
}
