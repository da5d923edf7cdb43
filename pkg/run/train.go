package run

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/eval"
	"github.com/dltrain/dltrain/pkg/train"
)

// TrainOptions are the inputs of Train.
type TrainOptions struct {
	Config    string   // experiment file
	Sets      []string // --set key=value overrides
	Out       string   // runs go under Out/<name>/<run-id>
	Stdout    io.Writer
	Stderr    io.Writer
	Terminal  bool   // stderr is a terminal: show a progress bar
	LogFormat string // "text" or "json"
}

// TrainResult says where a run went and how it scored.
type TrainResult struct {
	Dir    string
	Report *eval.Report // best checkpoint on the test split; nil without a test split
}

// Train runs an experiment from its config file to a test-set evaluation.
func Train(ctx context.Context, opt TrainOptions) (*TrainResult, error) {
	exp, err := config.Load(opt.Config, opt.Sets)
	if err != nil {
		return nil, err
	}
	// GOMAXPROCS and the BLAS's threads together, so they do not fight.
	compute.SetThreads(exp.Train.Threads)
	s, rep, err := prepare(exp)
	if err != nil {
		return nil, err
	}
	dir, err := newRunDir(opt.Out, exp.Name)
	if err != nil {
		return nil, err
	}
	logf(opt, "run directory %s", dir)
	for _, n := range rep.Notes {
		logf(opt, "data: %s", n)
	}
	if err := writeRunFiles(dir, exp, s.ds, rep); err != nil {
		return nil, err
	}
	opt2, ps := train.NewOptimizer(exp.Train.Optimizer)
	if len(ps) > 0 {
		return nil, ps
	}
	loop := &train.Loop{
		Session:   s.session,
		Optimizer: opt2,
		Data:      s.ds,
		Epochs:    exp.Train.Epochs,
		BatchSize: exp.Train.BatchSize,
		Seed:      exp.Seed,
		L2:        exp.Train.Regularization.L2,
		Monitor:   monitor(exp),
		State:     train.NewState(),
	}
	ckpt := &train.Checkpointer{Dir: filepath.Join(dir, "checkpoints"), Capture: capture(s)}
	loop.Hooks = []train.Hook{
		&train.Progress{W: opt.Stderr, Terminal: opt.Terminal, JSON: opt.LogFormat == "json", Epochs: exp.Train.Epochs},
		&train.MetricsLog{Dir: dir},
		ckpt,
	}
	logf(opt, "training %s: %d parameters, %d train / %d val / %d test samples",
		exp.Model.Kind, s.model.Params().Count(), s.ds.Train.N, s.ds.Val.N, s.ds.Test.N)
	if err := loop.Run(ctx); err != nil {
		return &TrainResult{Dir: dir}, err
	}
	res := &TrainResult{Dir: dir}
	if s.ds.Test.N == 0 {
		logf(opt, "no test split (data.split.test is 0): skipping the final evaluation")
		return res, nil
	}
	res.Report, err = Eval(ctx, EvalOptions{Run: dir, Checkpoint: "best", Split: "test", Stdout: opt.Stdout})
	return res, err
}

// capture returns a function that snapshots the whole training state.
func capture(s *setup) func(l *train.Loop) *train.Checkpoint {
	return func(l *train.Loop) *train.Checkpoint {
		cfg, _ := s.exp.YAML()
		meta, _ := json.Marshal(s.ds.Meta)
		rng, _ := s.dropout.MarshalBinary()
		return &train.Checkpoint{
			Config:    cfg,
			Meta:      meta,
			Params:    train.CaptureParams(s.model.Params()),
			Optimizer: l.Optimizer.State(),
			State:     l.State,
			RNG:       map[string][]byte{"dropout": rng},
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
			return "", fmt.Errorf("creating the run directory: %w", err)
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
	return writeFileAtomic(filepath.Join(dir, "data.json"), b)
}

func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
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
	fmt.Fprintf(opt.Stderr, format+"\n", args...)
}
