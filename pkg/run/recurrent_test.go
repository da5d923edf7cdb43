package run

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/train"
)

// persistenceMSE is the test MSE of forecasting each window's target by
// its last input value (unscaled), on the test windows of the config.
func persistenceMSE(t *testing.T, path string) float64 {
	t.Helper()
	exp, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := data.Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	s, sc := ds.Test, ds.Meta.Scaling
	w := ds.Meta.InputSize()
	if len(sc.Shift) != 1 || ds.Meta.TargetSize() != 1 {
		t.Fatalf("want one series column and one target, got scaling %+v and target %v", sc, ds.Meta.Target)
	}
	var sum float64
	for i := range s.N {
		last := float64(s.X[(i+1)*w-1])/sc.Mul[0] + sc.Shift[0]
		d := last - float64(s.Y[i])
		sum += d * d
	}
	return sum / float64(s.N)
}

// TestSunspotsRecurrentForecasters trains the shipped LSTM and GRU
// forecasters on the built-in sunspots end to end (200 epochs each) and
// reports their test MSE next to the MLP forecaster's and the baselines
// the report carries: persistence (next year = this year), which must
// equal the one computed here from the unscaled windows, and the
// seasonal-naive forecast with the 11-year solar cycle (the year 11
// before the target). Each recurrent model must beat persistence.
func TestSunspotsRecurrentForecasters(t *testing.T) {
	if testing.Short() {
		t.Skip("trains three forecasters for 200 epochs")
	}
	cfg := func(name string) string { return filepath.Join("..", "..", "configs", name) }
	persistence := persistenceMSE(t, cfg("sunspots-lstm.yaml"))
	t.Logf("persistence: test MSE %.1f", persistence)
	for _, name := range []string{"sunspots-forecast.yaml", "sunspots-lstm.yaml", "sunspots-gru.yaml"} {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			res, err := Train(context.Background(), TrainOptions{Config: cfg(name), Out: t.TempDir(), Stdout: &out, Stderr: io.Discard,
				Sets: []string{"data.series.season=11"}})
			if err != nil {
				t.Fatal(err)
			}
			r := res.Report.Regression
			t.Logf("%s: test MSE %.1f, RMSE %.2f, MAE %.2f, R² %.4f on %d windows", name, r.MSE, math.Sqrt(r.MSE), r.MAE, r.R2, r.N)
			if len(r.Baselines) != 2 || r.Baselines[0].Name != "persistence" || r.Baselines[1].Name != "seasonal_naive" {
				t.Fatalf("baselines %+v, want persistence and seasonal_naive", r.Baselines)
			}
			for _, b := range r.Baselines {
				t.Logf("%s: test MSE %.1f, RMSE %.2f, MAE %.2f", b.Name, b.MSE, b.RMSE, b.MAE)
			}
			if p := r.Baselines[0].MSE; math.Abs(p-persistence) > 1e-6*persistence {
				t.Errorf("the report's persistence MSE %.4f differs from the windows' %.4f", p, persistence)
			}
			if !strings.Contains(out.String(), "forecast baselines on the same "+strconv.Itoa(r.N)+" test windows") {
				t.Errorf("train's output does not print the baselines:\n%s", out.String())
			}
			if name != "sunspots-forecast.yaml" && !(r.MSE < r.Baselines[0].MSE) {
				t.Errorf("test MSE %.1f does not beat persistence's %.1f", r.MSE, r.Baselines[0].MSE)
			}
		})
	}
}

// recurrentResumeYAML: a stacked bidirectional LSTM with dropout between
// its layers and a GRU after it, on the sunspots windows (205 training
// windows in batches of 32: 7 steps per epoch, the last partial).
const recurrentResumeYAML = `
name: recurrent-resume
seed: 5
data:
  source: builtin:sunspots
  task: forecasting
  series: {lookback: 8}
  split: {train: 0.7, val: 0.15, test: 0.15}
model:
  layers:
    - {type: lstm, units: 6, layers: 2, bidirectional: true, dropout: 0.3, return_sequences: true}
    - {type: gru, units: 5}
    - {type: dense, units: 1}
train:
  epochs: 5
  batch_size: 32
  loss: mse
  optimizer: {kind: adam, lr: 0.01}
  checkpoint: {metric: val_mse}
`

// maskedResumeYAML: word ids of Austen passages padded to the longest
// (data.text_column), so the model defines a padding mask, through an
// embedding with padding_id, a stacked bidirectional LSTM with dropout,
// masked, and a masked mean pool (112 training passages in batches of 16:
// 7 steps per epoch). %s is the CSV's path.
const maskedResumeYAML = `
name: masked-resume
seed: 5
data:
  source: "csv:%s"
  label: novel
  text_column: text
  text: {tokens: word, lowercase: true}
  split: {train: 0.7, val: 0.15, test: 0.15}
model:
  layers:
    - {type: embedding, dim: 4, padding_id: 0}
    - {type: lstm, units: 4, layers: 2, bidirectional: true, dropout: 0.3, return_sequences: true}
    - {type: sequence_pool, mode: mean}
    - {type: dense, units: auto}
train:
  epochs: 4
  batch_size: 16
  optimizer: {kind: adam, lr: 0.01}
`

// austenHead writes the first n passages of the shipped Austen CSV to a
// file of its own and returns its path.
func austenHead(t *testing.T, n int) string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "testdata", "text", "austen-passages.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil || len(rows) <= n {
		t.Fatalf("austen passages: %d rows, %v", len(rows), err)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(rows[:n+1]); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "austen-head.csv")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestRecurrentRunsAreDeterministicAndResumeExactly: two runs of a
// recurrent model with the same seed give the same weights and metrics,
// and a run interrupted in the middle of epoch 3 (step 17) and resumed
// ends with the straight run's weights, optimizer state, dropout stream
// and metrics; both for series windows and for padded text, where the
// padding mask is part of every step.
func TestRecurrentRunsAreDeterministicAndResumeExactly(t *testing.T) {
	for name, yaml := range map[string]string{
		"series_stacked":     recurrentResumeYAML,
		"padded_text_masked": fmt.Sprintf(maskedResumeYAML, austenHead(t, 160)),
	} {
		t.Run(name, func(t *testing.T) { checkDeterministicAndResume(t, writeConfig(t, yaml)) })
	}
}

// checkDeterministicAndResume trains the config twice straight and once
// interrupted at step 17 then resumed, and compares the three runs.
func checkDeterministicAndResume(t *testing.T, cfg string) {
	var straight [2]*TrainResult
	for i := range straight {
		var err error
		if straight[i], err = Train(context.Background(), TrainOptions{Config: cfg, Out: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := t.TempDir()
	first, err := Train(ctx, TrainOptions{Config: cfg, Out: out, Stdout: io.Discard, Stderr: io.Discard, Hooks: []train.Hook{&stopAt{step: 17, cancel: cancel}}})
	if !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	resumed, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out, Resume: "auto", Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Dir != first.Dir {
		t.Fatalf("resumed in %s, not in the interrupted run %s", resumed.Dir, first.Dir)
	}
	for _, other := range []*TrainResult{straight[1], resumed} {
		a, err := train.LoadCheckpoint(filepath.Join(straight[0].Dir, "checkpoints", "last.ckpt"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := train.LoadCheckpoint(filepath.Join(other.Dir, "checkpoints", "last.ckpt"))
		if err != nil {
			t.Fatal(err)
		}
		if !sameParams(a.Params, b.Params) || !samePhases(a.Phases, b.Phases) || !bytes.Equal(a.RNG["dropout"], b.RNG["dropout"]) {
			t.Errorf("%s: weights, optimizer state or dropout stream differ from the first straight run's", other.Dir)
		}
		if ma, mb := metricsWithoutTime(t, straight[0].Dir), metricsWithoutTime(t, other.Dir); ma != mb {
			t.Errorf("metrics differ:\n%s\n%s", ma, mb)
		}
	}
}

// TestSummaryOfRecurrentConfigs: the shipped recurrent configs have
// PyTorch's parameter counts: nn.LSTM(1, 32) 4,480 or nn.GRU(1, 32) 3,360,
// plus nn.Linear(32, 1) 33.
func TestSummaryOfRecurrentConfigs(t *testing.T) {
	for name, want := range map[string]int{"sunspots-lstm.yaml": 4480 + 33, "sunspots-gru.yaml": 3360 + 33} {
		s, err := Summary(SummaryOptions{Config: filepath.Join("..", "..", "configs", name)})
		if err != nil {
			t.Fatal(err)
		}
		if s.Params != want {
			t.Errorf("%s: %d parameters, want %d", name, s.Params, want)
		}
	}
}
