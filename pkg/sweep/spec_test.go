package sweep

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/run"
)

// irisExperiment is the shipped iris experiment, absolute.
func irisExperiment(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "configs", "iris-mlp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// writeSweep writes a sweep file over the iris experiment; body follows
// the experiment line.
func writeSweep(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sweep.yaml")
	text := "experiment: " + irisExperiment(t) + "\n" + body
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestShippedSweepsLoad(t *testing.T) {
	for _, name := range []string{"iris-random.yaml", "digits-tpe.yaml"} {
		t.Run(name, func(t *testing.T) {
			s, err := Load(filepath.Join("..", "..", "configs", "sweeps", name))
			if err != nil {
				t.Fatal(err)
			}
			if !filepath.IsAbs(s.Experiment) || filepath.Dir(filepath.Dir(s.File)) != filepath.Dir(s.Experiment) {
				t.Errorf("experiment %s is not resolved relative to the sweep file %s", s.Experiment, s.File)
			}
			if len(s.Space) != 4 || s.Space[3].Path != "model.layers.dense1.units" || s.Trials != 12 {
				t.Errorf("spec: %+v", s)
			}
		})
	}
}

// TestModeFromMetric: accuracy is maximized, a loss minimized, unless
// mode says otherwise.
func TestModeFromMetric(t *testing.T) {
	for _, c := range []struct {
		body string
		max  bool
	}{
		{"metric: val_accuracy\n", true},
		{"metric: val_loss\n", false},
		{"metric: val_accuracy\nmode: min\n", false},
	} {
		t.Run(strings.TrimSpace(strings.ReplaceAll(c.body, "\n", " ")), func(t *testing.T) {
			s, err := Load(writeSweep(t, c.body+"trials: 2\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n"))
			if err != nil {
				t.Fatal(err)
			}
			if s.Max != c.max {
				t.Errorf("max = %v, want %v", s.Max, c.max)
			}
		})
	}
}

// TestBadSweepFiles: each mistake is a config.ErrInvalid naming the key
// and the line it is on.
func TestBadSweepFiles(t *testing.T) {
	head := "metric: val_accuracy\nmethod: random\ntrials: 4\nspace:\n"
	for _, c := range []struct {
		name, body string
		want       []string // in the message
	}{
		{"unknown parameter path", head + "  train.optimzer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n",
			[]string{"sweep.yaml:6:", "space.train.optimzer.lr", `did you mean "optimizer"`}},
		{"unknown option", head + "  train.optimizer.learning_rate: {log_uniform: [1.0e-3, 1.0e-1]}\n",
			[]string{"sweep.yaml:6:", "space.train.optimizer.learning_rate", "learning_rate"}},
		{"unknown layer", head + "  model.layers.dense7.units: {int_uniform: [4, 8]}\n",
			[]string{"sweep.yaml:6:", "space.model.layers.dense7.units", `did you mean "dense1"`}},
		{"empty range", head + "  train.regularization.l2: {uniform: [0.1, 0.1]}\n",
			[]string{"sweep.yaml:6:", "space.train.regularization.l2.uniform", "is empty"}},
		{"inverted range", head + "  train.regularization.l2: {uniform: [0.1, 0.01]}\n",
			[]string{"sweep.yaml:6:", "space.train.regularization.l2.uniform", "inverted"}},
		{"log_uniform at 0", head + "  train.optimizer.lr: {log_uniform: [0, 0.1]}\n",
			[]string{"sweep.yaml:6:", "space.train.optimizer.lr.log_uniform", "bounds > 0"}},
		{"value the experiment refuses", head + "  train.batch_size: {int_uniform: [0, 8]}\n",
			[]string{"sweep.yaml:6:", "space.train.batch_size", "with value 0", "must be >= 1"}},
		{"metric never logged", "metric: val_r2\ntrials: 4\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n",
			[]string{"sweep.yaml:2:", "metric", "val_r2", "val_accuracy"}},
		{"test metric", "metric: test_accuracy\ntrials: 4\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n",
			[]string{"sweep.yaml:2:", "validation data only"}},
		{"grid over a continuous range", "metric: val_loss\nmethod: grid\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n",
			[]string{"sweep.yaml:5:", "space.train.optimizer.lr", "cannot enumerate a continuous log_uniform range"}},
		{"unknown key", "metric: val_loss\ntrails: 4\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n",
			[]string{"sweep.yaml:3:", "trails", `did you mean "trials"`}},
		{"unknown method", "metric: val_loss\nmethod: bayes\ntrials: 3\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\n",
			[]string{"sweep.yaml:3:", "method", "grid, random, tpe"}},
		{"unknown distribution", head + "  train.optimizer.lr: {loguniform: [1.0e-3, 1.0e-1]}\n",
			[]string{"sweep.yaml:6:", "space.train.optimizer.lr.loguniform", `did you mean "log_uniform"`}},
		{"hyperband with trials of its own", head + "  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\nearly_stop: {kind: hyperband, min_epochs: 1, reduction: 3}\n",
			[]string{"sweep.yaml:4:", "trials", "brackets", "start 143 trials"}},
		{"hyperband max_epochs not train.epochs", "metric: val_loss\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\nearly_stop: {kind: hyperband, max_epochs: 1000}\n",
			[]string{"sweep.yaml:5:", "early_stop.max_epochs", "is 1000 but train.epochs is"}},
		{"hyperband min_epochs too large", "metric: val_loss\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\nearly_stop: {kind: hyperband, min_epochs: 1000}\n",
			[]string{"sweep.yaml:5:", "early_stop.min_epochs", "one bracket"}},
		{"max_epochs without hyperband", "metric: val_loss\ntrials: 4\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\nearly_stop: {kind: asha, max_epochs: 9}\n",
			[]string{"sweep.yaml:6:", "early_stop.max_epochs", "option of kind hyperband"}},
		{"hyperband reduction 1", "metric: val_loss\nspace:\n  train.optimizer.lr: {log_uniform: [1.0e-3, 1.0e-1]}\nearly_stop: {kind: hyperband, reduction: 1}\n",
			[]string{"sweep.yaml:5:", "early_stop.reduction"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Load(writeSweep(t, c.body))
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("error %v, want one wrapping config.ErrInvalid", err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestLayerOptionOverride: model.layers.NAME.OPTION sets that layer's
// option and leaves the others as they are.
func TestLayerOptionOverride(t *testing.T) {
	s, err := Load(writeSweep(t, "metric: val_loss\ntrials: 1\nspace:\n  model.layers.dense1.units: {int_uniform: [4, 8]}\n  model.layers.dense2.init: {choice: [xavier_uniform]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	base, err := run.Load(s.Experiment, nil)
	if err != nil {
		t.Fatal(err)
	}
	sets, err := overrides(base, s.Space, map[string]any{"model.layers.dense1.units": 7.0, "model.layers.dense2.init": "xavier_uniform"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	exp, err := run.Load(s.Experiment, sets)
	if err != nil {
		t.Fatal(err)
	}
	l := exp.Model.Layers
	if len(l) != 2 || l[0].Opts["units"] != 7 || l[0].Opts["activation"] != "tanh" || l[1].Opts["init"] != "xavier_uniform" || l[1].Opts["units"] != 3 {
		t.Fatalf("layers %+v", l)
	}
}
