package run

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/eval"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
)

// EvalOptions are the inputs of Eval.
type EvalOptions struct {
	Run        string // run directory
	Checkpoint string // "best", "last" or a checkpoint file
	Split      string // "test", "val" or "train"
	Stdout     io.Writer
	JSON       bool // print the report as JSON instead of a table
	// Logf, when set, receives the data notes (how the run's data was
	// read again: from the prepared dataset, or in memory and why).
	Logf func(format string, args ...any)
}

// Eval evaluates a checkpoint of a run on one split of the run's data,
// rebuilt from the run's config.yaml (same seed, same split, preprocessing
// refitted on the same training rows). It refuses when the data no longer
// matches the checksum recorded at training time. A cancelled ctx (SIGINT,
// SIGTERM) stops it before it evaluates and before it writes anything:
// ErrInterrupted.
func Eval(ctx context.Context, opt EvalOptions) (*eval.Report, error) {
	if err := evalStopped(ctx); err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(opt.Run, "config.yaml")
	if _, err := os.Stat(cfgPath); err != nil {
		return nil, fmt.Errorf("%w: %s is not a run directory (no config.yaml)", config.ErrInvalid, opt.Run)
	}
	exp, err := loadSaved(cfgPath)
	if err != nil {
		return nil, err
	}
	if exp.Data.Task == ganTask {
		// A GAN has no split to score (it trains on every sample) and no
		// loss that says how good its samples are.
		return nil, fmt.Errorf("%w: %s is a GAN run: it is judged by its samples, not on a data split; use dltrain eval --run %s --judge CLASSIFIER_RUN, or dltrain sample",
			config.ErrInvalid, opt.Run, opt.Run)
	}
	path := opt.Checkpoint
	switch path {
	case "", "best":
		path = filepath.Join(opt.Run, "checkpoints", "best.ckpt")
	case "last":
		path = filepath.Join(opt.Run, "checkpoints", "last.ckpt")
	}
	if opt.Checkpoint == "" || opt.Checkpoint == "best" {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s has no best checkpoint (training stopped before its first epoch ended); evaluate the last one with --checkpoint last",
				config.ErrInvalid, opt.Run)
		}
	}
	ck, err := train.LoadCheckpoint(path)
	if err != nil {
		return nil, err
	}
	if err := sameSplit(exp, ck, path); err != nil {
		return nil, err
	}
	s, rep, err := prepare(exp, data.OpenReadOnly, false)
	if err != nil {
		return nil, err
	}
	if opt.Logf != nil && rep != nil {
		for _, n := range rep.Notes {
			opt.Logf("data: %s", n)
		}
	}
	var meta data.Meta
	if err := json.Unmarshal(ck.Meta, &meta); err != nil {
		return nil, fmt.Errorf("%w: %s: data description: %v", train.ErrBadCheckpoint, path, err)
	}
	if !s.ds.SameSource(meta.SHA256) {
		return nil, fmt.Errorf("%w: the data %s changed since training (sha256 %.12s… then, %.12s… now); evaluating on it would not reproduce the run's split",
			data.ErrBadData, exp.Data.Source, meta.SHA256, s.ds.SHA256)
	}
	if err := train.RestoreParams(s.model.Params(), ck.Params); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	split := map[string]*data.Split{"train": s.ds.Train, "val": s.ds.Val, "test": s.ds.Test}[opt.Split]
	if split == nil {
		return nil, fmt.Errorf("%w: unknown split %q; expected test, val or train", config.ErrInvalid, opt.Split)
	}
	if split.N == 0 {
		return nil, fmt.Errorf("%w: the %s split of this run is empty", config.ErrInvalid, opt.Split)
	}
	if err := evalStopped(ctx); err != nil { // reading the data may take long
		return nil, err
	}
	r, err := train.Evaluate(s.session, split, max(exp.Train.BatchSize, 256), s.ds.Meta)
	if err != nil {
		return nil, err
	}
	if err := scoreDecodings(s, split, r); err != nil {
		return nil, err
	}
	if r.Reconstruction != nil {
		if r.Reconstruction.PCA, r.Reconstruction.PCASkipped, err = pcaBaseline(s, split); err != nil {
			return nil, err
		}
	}
	if r.Regression != nil && exp.Data.Task == "forecasting" {
		if err := forecastBaselines(exp, r.Regression, split); err != nil {
			return nil, err
		}
	}
	if err := evalStopped(ctx); err != nil {
		return nil, err
	}
	r.Run, r.Checkpoint = opt.Run, opt.Checkpoint
	if r.Checkpoint == "" {
		r.Checkpoint = "best"
	}
	b, err := r.JSON()
	if err != nil {
		return nil, err
	}
	// report.json is the run's final evaluation: the best checkpoint on
	// the test split. Any other evaluation goes only under eval/.
	if r.Checkpoint == "best" && opt.Split == "test" {
		if err := writeFileAtomic(filepath.Join(opt.Run, "report.json"), b); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Join(opt.Run, "eval"), 0o755); err != nil {
		return nil, err
	}
	name := filepath.Base(r.Checkpoint)
	if err := writeFileAtomic(filepath.Join(opt.Run, "eval", name+"-"+opt.Split+".json"), b); err != nil {
		return nil, err
	}
	if opt.Stdout != nil {
		if opt.JSON {
			_, err = fmt.Fprintln(opt.Stdout, string(b))
		} else {
			err = r.WriteText(opt.Stdout)
		}
	}
	return r, err
}

// sameSplit refuses a checkpoint trained on another split of the data (a
// checkpoint of another run, with another seed or data section): scored
// on this run's test split, it would be scored on rows it trained on.
func sameSplit(exp *config.Experiment, ck *train.Checkpoint, path string) error {
	runYAML, err := exp.YAML()
	if err != nil || len(ck.Config) == 0 {
		return err
	}
	var differ []string
	for _, k := range diffKeys(runYAML, ck.Config) {
		if k == "seed" || strings.HasPrefix(k, "data.") {
			differ = append(differ, k)
		}
	}
	if len(differ) > 0 {
		return fmt.Errorf("%w: %s was trained on another data split than this run (it differs in %s): its scores on this run's splits would count rows it trained on",
			config.ErrInvalid, path, strings.Join(differ, ", "))
	}
	return nil
}

// evalStopped is an error that counts as train.ErrInterrupted (exit 130
// or 143) once ctx is cancelled.
func evalStopped(ctx context.Context) error {
	if ctx.Err() != nil {
		return stopped{"the evaluation was stopped before its report was written"}
	}
	return nil
}

// stopped is work stopped by a signal: it counts as train.ErrInterrupted
// without reading as an interrupted training.
type stopped struct{ msg string }

func (e stopped) Error() string        { return e.msg }
func (e stopped) Is(target error) bool { return target == train.ErrInterrupted }

// pcaBaseline is the baseline an autoencoder's reconstructions are held
// against: PCA with as many components as the code has values, fitted on
// the training split (in the same preprocessed units; its first
// maxPCASamples rows), scored on split. When it is not computed, the
// string says why (nil, "" when there is nothing to compare).
func pcaBaseline(s *setup, split *data.Split) (*eval.PCABaseline, string, error) {
	k := 0
	for _, o := range s.model.Outputs() {
		if o.Name == models.OutputCode {
			k = o.Shape.Size()
		}
	}
	w := s.ds.InputSize()
	if k == 0 || k >= w || s.ds.Train.N < 2 {
		return nil, "", nil // no bottleneck narrower than the input: nothing to compare
	}
	if w > maxPCAWidth {
		return nil, fmt.Sprintf("not computed: samples of %d values give a %d×%d covariance (the baseline stops at %d values)", w, w, w, maxPCAWidth), nil
	}
	n := min(s.ds.Train.N, maxPCASamples) // the training split is in random order: its first rows are a random sample
	p, err := eval.FitPCA(s.ds.Train.X[:n*w], w, k)
	if err != nil {
		return nil, "", fmt.Errorf("the PCA baseline: %w", err)
	}
	return p.Baseline(split.X), "", nil
}

// maxPCAWidth and maxPCASamples bound the PCA baseline's work: the
// covariance of w values is w×w (4096: 128 MiB, an eigendecomposition of
// about a minute), and 20,000 samples estimate it closely enough for a
// baseline at a fraction of a large training split's cost.
// (Variables so that a test can lower them.)
var (
	maxPCAWidth   = 4096
	maxPCASamples = 20000
)

// forecastBaselines scores the naive forecasts of a forecasting split's
// windows (persistence, and seasonal naive with data.series.season) on
// the windows the model was scored on. A split read back from a prepared
// dataset does not store them: the series is then read again in memory
// (a series is small), and its windows must be those of split.
func forecastBaselines(exp *config.Experiment, g *eval.Regression, split *data.Split) error {
	nv := split.Naive
	if nv == nil {
		ds, _, err := data.Load(exp)
		if err != nil {
			return fmt.Errorf("the forecast baselines: %w", err)
		}
		again := map[string]*data.Split{"train": ds.Train, "val": ds.Val, "test": ds.Test}[split.Name]
		if again == nil || again.N != split.N || !slices.Equal(again.Y, split.Y) || again.Naive == nil {
			return fmt.Errorf("the forecast baselines: the %s windows read again differ from the prepared dataset's; run dltrain prepare again", split.Name)
		}
		nv = again.Naive
	}
	truth := widen(split.Y)
	g.Baselines = append(g.Baselines, eval.ScoreBaseline("persistence", persistenceAbout(exp.Data.Series), truth, widen(nv.Persistence)))
	if nv.Seasonal != nil {
		s := exp.Data.Series
		back := s.Season * ((s.Horizon + s.Season - 1) / s.Season)
		g.Baselines = append(g.Baselines, eval.ScoreBaseline("seasonal_naive",
			fmt.Sprintf("the value %d steps before the target (season %d)", back, s.Season), truth, widen(nv.Seasonal)))
	}
	if nv.SeasonalSkipped != "" {
		g.BaselinesSkipped = "seasonal-naive baseline " + nv.SeasonalSkipped
	}
	return nil
}

// persistenceAbout says what the persistence forecast is for a series.
func persistenceAbout(s config.Series) string {
	if s.Difference > 0 {
		return "zero change (the targets are differences)"
	}
	return "the value at the window's last step"
}

// widen converts float32 values to float64.
func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}
