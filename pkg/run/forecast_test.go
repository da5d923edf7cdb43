package run

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/eval"
)

// TestForecastBaselinesFromPreparedData: a forecasting run trained and
// evaluated from a prepared dataset (which stores no naive forecasts)
// reports the same baselines as the series read in memory, in
// report.json and in eval's table, on the split evaluated.
func TestForecastBaselinesFromPreparedData(t *testing.T) {
	out := t.TempDir()
	sets := []string{"train.epochs=2", "data.prepared=" + filepath.Join(out, "prepared")}
	cfg := "../../configs/sunspots-gru.yaml"
	exp, err := Load(cfg, sets)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := data.Prepare(context.Background(), exp, data.PreparedDir(exp)); err != nil {
		t.Fatal(err)
	}
	res, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out, Sets: sets, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	mem, _, err := data.Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	want := func(s *data.Split, name string, pred []float32) eval.Baseline {
		var sq float64
		for i, y := range s.Y {
			d := float64(pred[i]) - float64(y)
			sq += d * d
		}
		return eval.Baseline{Name: name, MSE: sq / float64(s.N)}
	}
	check := func(r *eval.Report, s *data.Split) {
		t.Helper()
		bs := r.Regression.Baselines
		exp := []eval.Baseline{want(s, "persistence", s.Naive.Persistence), want(s, "seasonal_naive", s.Naive.Seasonal)}
		if len(bs) != len(exp) {
			t.Fatalf("%s: baselines %+v", r.Split, bs)
		}
		for i, b := range bs {
			if b.Name != exp[i].Name || math.Abs(b.MSE-exp[i].MSE) > 1e-9*exp[i].MSE || math.Abs(b.RMSE-math.Sqrt(b.MSE)) > 1e-12*b.RMSE {
				t.Errorf("%s: %+v, want the MSE %v of %s", r.Split, b, exp[i].MSE, exp[i].Name)
			}
		}
	}
	check(res.Report, mem.Test)
	raw, err := os.ReadFile(filepath.Join(res.Dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	var saved eval.Report
	if err := json.Unmarshal(raw, &saved); err != nil {
		t.Fatal(err)
	}
	check(&saved, mem.Test)
	var text bytes.Buffer
	r, err := Eval(context.Background(), EvalOptions{Run: res.Dir, Split: "val", Stdout: &text})
	if err != nil {
		t.Fatal(err)
	}
	check(r, mem.Val)
	for _, line := range []string{"forecast baselines on the same 46 val windows", "persistence", "seasonal-naive", "the value 11 steps before the target (season 11)"} {
		if !strings.Contains(text.String(), line) {
			t.Errorf("eval's table lacks %q:\n%s", line, text.String())
		}
	}
}

// TestGradCheckOfATruncatedModel: dltrain gradcheck of a model whose
// recurrent layer truncates BPTT checks the full gradient, saying that
// it dropped truncate (finite differences of the loss cannot check a
// truncated gradient), and passes.
func TestGradCheckOfATruncatedModel(t *testing.T) {
	text := `
name: tbptt
seed: 1
data:
  source: builtin:sunspots
  task: forecasting
  series: {lookback: 6}
model:
  layers:
    - {type: lstm, units: 3, truncate: 2}
    - {type: dense, units: 1}
train: {loss: mse}
`
	var notes strings.Builder
	rep, err := GradCheck(context.Background(), GradCheckOptions{Config: writeConfig(t, text), Samples: 3, Stderr: &notes})
	if err != nil {
		t.Fatalf("%v\n%s", err, notes.String())
	}
	if len(rep.Results) == 0 || !strings.Contains(notes.String(), "model.layers[0]: truncate dropped for the check") {
		t.Errorf("%d results; notes: %s", len(rep.Results), notes.String())
	}
}

// TestSeriesAugmentTrainsOnlyOnTrainingBatches: a GRU forecaster trained
// with scaling, time-warp and jitter of its windows changes its weights
// (the ops run), while eval of its checkpoint gives the same report with
// or without the augment list (validation and test never augment).
func TestSeriesAugmentTrainsOnlyOnTrainingBatches(t *testing.T) {
	sets := []string{"train.epochs=2", `augment=[{kind: scaling, std: 0.1}, {kind: time_warp, sigma: 0.2}, {kind: jitter, std: 0.05}]`}
	res, err := Train(context.Background(), TrainOptions{Config: "../../configs/sunspots-gru.yaml", Out: t.TempDir(), Sets: sets, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Train(context.Background(), TrainOptions{Config: "../../configs/sunspots-gru.yaml", Out: t.TempDir(), Sets: sets[:1], Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Loss == plain.Report.Loss {
		t.Error("training with augmentation ended where training without did")
	}
	report := func() string {
		var b bytes.Buffer
		if _, err := Eval(context.Background(), EvalOptions{Run: res.Dir, Checkpoint: "last", Split: "val", Stdout: &b, JSON: true}); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	with := report()
	cfg := filepath.Join(res.Dir, "config.yaml")
	text, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(text), "augment:")
	j := strings.Index(string(text), "model:")
	if i < 0 || j < i {
		t.Fatalf("no augment list before model in the saved config:\n%s", text)
	}
	if err := os.WriteFile(cfg, append(append([]byte{}, text[:i]...), text[j:]...), 0o644); err != nil {
		t.Fatal(err)
	}
	if without := report(); with != without {
		t.Errorf("the val report changed with the augment list:\n%s\n%s", with, without)
	}
}
