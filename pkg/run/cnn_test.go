package run

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/gradcheck"
)

// With data.shape set, summary reads no data: the source here does not
// exist. The counts are PyTorch's for the same models (WORKLOADS.md).
func TestSummaryNeedsNoDataWhenTheShapeIsSet(t *testing.T) {
	tests := []struct {
		name, shape, layers string
		params              int
	}{
		{"lenet", "[1, 28, 28]", `[{type: conv2d, filters: 6, kernel: 5, activation: relu}, {type: maxpool2d, size: 2},
		  {type: conv2d, filters: 16, kernel: 5, activation: relu}, {type: maxpool2d, size: 2}, {type: flatten},
		  {type: dense, units: 120, activation: relu}, {type: dense, units: 84, activation: relu}, {type: dense, units: 10}]`, 44426},
		{"mlp", "[784]", `[{type: dense, units: 256, activation: relu}, {type: dense, units: 128, activation: relu}, {type: dense, units: 10}]`, 235146},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeConfig(t, "name: s\ndata: {source: csv:does-not-exist.csv, label: y, shape: "+tc.shape+"}\n"+
				"model: {kind: cnn, layers: "+tc.layers+"}\n")
			s, err := Summary(SummaryOptions{Config: path})
			if err != nil {
				t.Fatal(err)
			}
			if s.Params != tc.params {
				t.Errorf("%d parameters, want %d", s.Params, tc.params)
			}
		})
	}
}

func TestSummaryOfShippedConfigs(t *testing.T) {
	want := map[string]int{"digits-mlp.yaml": 17226, "iris-mlp.yaml": 131, "digits-cnn.yaml": 38314, "mnist-lenet.yaml": 44426}
	for name, params := range want {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("..", "..", "configs", name)
			if name == "mnist-lenet.yaml" && !slices.Contains(data.Schemes(), "idx") {
				t.Skip("this build has no idx data source yet")
			}
			s, err := Summary(SummaryOptions{Config: path})
			if err != nil {
				t.Fatal(err)
			}
			if s.Params != params {
				t.Errorf("%d parameters, want %d", s.Params, params)
			}
		})
	}
}

func TestSummaryReportsAWrongStack(t *testing.T) {
	path := writeConfig(t, "name: s\ndata: {source: builtin:digits, shape: [1, 8, 8]}\n"+
		"model: {kind: cnn, layers: [{type: conv2d, filters: 4, kernel: 3}, {type: dense, units: 10}]}\n")
	_, err := Summary(SummaryOptions{Config: path})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "(4, 6, 6)") {
		t.Fatalf("error %v, want a config problem naming the shape", err)
	}
}

const tinyCNN = `name: g
data: {source: builtin:digits, shape: [1, 8, 8]}
model:
  kind: cnn
  layers:
    - {type: conv2d, filters: 3, kernel: 3, activation: relu}
    - {type: batchnorm}
    - {type: maxpool2d, size: 2}
    - {type: spatial_dropout, rate: 0.2}
    - {type: flatten}
    - {type: dropout, rate: 0.2}
    - {type: dense, units: 10}
`

func TestGradCheckOnRealSamples(t *testing.T) {
	var out, notes strings.Builder
	rep, err := GradCheck(context.Background(), GradCheckOptions{Config: writeConfig(t, tinyCNN), Samples: 4, Stdout: &out, Stderr: &notes})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if rep.Samples != 4 || len(rep.Results) != 6 {
		t.Errorf("%d samples, %d parameters", rep.Samples, len(rep.Results))
	}
	if w := rep.Worst(); !(w.RelErr <= 1e-6) {
		t.Errorf("worst relative error %v", w.RelErr)
	}
	if !strings.Contains(out.String(), "passed") || strings.Contains(notes.String(), "random") {
		t.Errorf("output:\n%s\nnotes:\n%s", out.String(), notes.String())
	}
}

// When the data cannot be read but data.shape is set, the check runs on
// seeded random inputs and says so.
func TestGradCheckFallsBackToRandomInputs(t *testing.T) {
	text := strings.Replace(tinyCNN, "source: builtin:digits", "source: csv:does-not-exist.csv, label: y", 1)
	var notes strings.Builder
	rep, err := GradCheck(context.Background(), GradCheckOptions{Config: writeConfig(t, text), Samples: 3, MaxElements: 10, Stderr: &notes})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Samples != 3 || !strings.Contains(notes.String(), "seeded random inputs of shape [1 8 8]") {
		t.Errorf("%d samples; notes: %s", rep.Samples, notes.String())
	}
	for _, r := range rep.Results {
		if r.Checked > 10 {
			t.Errorf("%s: %d elements checked, at most 10 asked", r.Param, r.Checked)
		}
	}
}

func TestGradCheckFailsAboveTheTolerance(t *testing.T) {
	_, err := GradCheck(context.Background(), GradCheckOptions{Config: writeConfig(t, tinyCNN), Samples: 2, MaxElements: 3, Tolerance: 1e-300})
	if !errors.Is(err, gradcheck.ErrMismatch) {
		t.Fatalf("error %v, want ErrMismatch", err)
	}
}

// The shipped CNN config must reach a test accuracy of at least 0.97 on
// the built-in digits.
func TestDigitsCNNReachesAccuracy(t *testing.T) {
	if testing.Short() {
		t.Skip("trains for about 10 s")
	}
	start := time.Now()
	res, err := Train(context.Background(), TrainOptions{Config: filepath.Join("..", "..", "configs", "digits-cnn.yaml"), Out: t.TempDir(),
		Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	acc := res.Report.Classification.Accuracy
	t.Logf("test accuracy %.4f on %d samples after %v", acc, res.Report.Classification.N, time.Since(start).Round(time.Millisecond))
	if acc < 0.97 {
		t.Errorf("test accuracy %.4f < 0.97", acc)
	}
}

// TestGradCheckOnALargeLoss: a regression on raw targets (a loss of about
// 1e7) passes at the default tolerance: the step grows with the loss, so
// float64 rounding does not fail correct gradients (at a fixed step of
// 1e-6 the worst relative error was 1.3e-6 here).
func TestGradCheckOnALargeLoss(t *testing.T) {
	var out strings.Builder
	rep, err := GradCheck(context.Background(), GradCheckOptions{Config: "../../configs/penguins-mass-regression.yaml", Samples: 4, Stdout: &out})
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if rep.Loss < 1e6 || rep.Eps <= 1e-6 {
		t.Errorf("loss %v, step %v: want a large loss and a step scaled to it", rep.Loss, rep.Eps)
	}
	if w := rep.Worst(); !(w.RelErr <= 1e-7) {
		t.Errorf("worst relative error %v", w.RelErr)
	}
}
