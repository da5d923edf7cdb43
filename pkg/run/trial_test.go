package run

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// irisTrial is a short iris trial into dir.
func irisTrial(dir string) TrialOptions {
	return TrialOptions{
		Config: filepath.Join("..", "..", "configs", "iris-mlp.yaml"),
		Sets:   []string{"train.epochs=6", "train.optimizer.lr=0.02"},
		Dir:    dir, Metric: "val_accuracy", Max: true, NoTest: true,
	}
}

// TestTrialBudgetResumesToTheSameCurve: a trial stopped at budgets 2 and 4
// and resumed from its checkpoint each time ends exactly where one
// uninterrupted trial does, without retraining an epoch.
func TestTrialBudgetResumesToTheSameCurve(t *testing.T) {
	ctx := context.Background()
	whole, err := Trial(ctx, irisTrial(filepath.Join(t.TempDir(), "whole")))
	if err != nil {
		t.Fatal(err)
	}
	if whole.Status != TrialCompleted || whole.Epochs != 6 || len(whole.Curve) != 6 {
		t.Fatalf("uninterrupted trial: %+v", whole)
	}
	opt := irisTrial(filepath.Join(t.TempDir(), "staged"))
	for _, step := range []struct {
		budget int
		status TrialStatus
	}{{2, TrialPaused}, {4, TrialPaused}, {0, TrialCompleted}} {
		opt.Budget = step.budget
		res, err := Trial(ctx, opt)
		if err != nil {
			t.Fatal(err)
		}
		want := step.budget
		if want == 0 {
			want = 6
		}
		if from := map[int]int{2: 0, 4: 2, 0: 4}[step.budget]; res.FromEpoch != from || (from > 0) != (res.FromStep > 0) {
			t.Errorf("budget %d: started from epoch %d, step %d; want epoch %d (resumed where the last call stopped)", step.budget, res.FromEpoch, res.FromStep, from)
		}
		if res.Status != step.status || res.Epochs != want {
			t.Fatalf("budget %d: status %s after %d epochs, want %s after %d", step.budget, res.Status, res.Epochs, step.status, want)
		}
		if !slices.Equal(res.Curve, whole.Curve[:want]) {
			t.Fatalf("budget %d: curve %v, want %v (resumed, not retrained)", step.budget, res.Curve, whole.Curve[:want])
		}
		if step.budget == 2 {
			// The resumed calls must continue this run, not start over.
			if err := os.WriteFile(filepath.Join(opt.Dir, "marker"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(opt.Dir, "marker")); err != nil {
		t.Errorf("the trial directory was recreated: %v", err)
	}
	if _, err := os.Stat(filepath.Join(opt.Dir, "report.json")); !os.IsNotExist(err) {
		t.Errorf("NoTest trial evaluated the test split: report.json %v", err)
	}
	if got := whole.Curve[whole.BestEpoch-1]; got != whole.Best || slices.Max(whole.Curve) != whole.Best {
		t.Errorf("best %v at epoch %d, curve %v", whole.Best, whole.BestEpoch, whole.Curve)
	}
}

// TestTrialPrunedIsAnOutcome: the Prune rule stops the trial after the
// epoch it answers true for, and that is not an error.
func TestTrialPrunedIsAnOutcome(t *testing.T) {
	opt := irisTrial(filepath.Join(t.TempDir(), "t"))
	var asked []int
	opt.Prune = func(epoch int, best float64) bool {
		asked = append(asked, epoch)
		return epoch == 3
	}
	res, err := Trial(context.Background(), opt)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != TrialPruned || res.Epochs != 3 || !slices.Equal(asked, []int{1, 2, 3}) {
		t.Fatalf("status %s after %d epochs, asked at %v", res.Status, res.Epochs, asked)
	}
}

// TestRunIDsDoNotCollide: runs started in the same second each get their
// own directory.
func TestRunIDsDoNotCollide(t *testing.T) {
	out := t.TempDir()
	const n = 16
	dirs := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { dirs[i], errs[i] = runDir(TrainOptions{Out: out}, "same") })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(dirs)
	if len(slices.Compact(dirs)) != n {
		t.Fatalf("run directories collide: %v", dirs)
	}
	if _, err := runDir(TrainOptions{Dir: dirs[0]}, "same"); err == nil {
		t.Error("a named run directory that exists was reused")
	}
}

// TestLoadSetsLayerOptionsByName: --set model.layers.NAME.OPTION reaches
// the named layer (by name option, or type and counter) and leaves the
// others; an unknown name is a problem naming the key, with did-you-mean.
func TestLoadSetsLayerOptionsByName(t *testing.T) {
	cfg := filepath.Join("..", "..", "configs", "iris-mlp.yaml")
	for _, tc := range []struct {
		name string
		sets []string
		want []any // units of each layer
	}{
		{"first dense", []string{"model.layers.dense1.units=5"}, []any{5, 3}},
		{"with other sets", []string{"train.epochs=2", "model.layers.dense1.units=7", "model.layers.dense1.activation=relu"}, []any{7, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, err := Load(cfg, tc.sets)
			if err != nil {
				t.Fatal(err)
			}
			var got []any
			for _, b := range exp.Model.Layers {
				got = append(got, b.Opts["units"])
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("units %v, want %v", got, tc.want)
			}
		})
	}
	_, err := Load(cfg, []string{"model.layers.dense9.units=5"})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "model.layers.dense9.units") || !strings.Contains(err.Error(), `did you mean "dense1"`) {
		t.Errorf("an unknown layer name: %v", err)
	}
}
