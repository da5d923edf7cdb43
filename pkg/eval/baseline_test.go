package eval

import (
	"math"
	"strings"
	"testing"
)

// TestBaselinesInTheReport: a baseline's errors are computed on the
// given forecasts, and the text report prints them next to the model's
// with the verdict.
func TestBaselinesInTheReport(t *testing.T) {
	truth := []float64{1, 2, 3, 4}
	b := ScoreBaseline("persistence", "the value at the window's last step", truth, []float64{0, 1, 2, 3})
	if b.MSE != 1 || b.MAE != 1 || b.RMSE != 1 {
		t.Fatalf("%+v, want MSE, MAE and RMSE 1", b)
	}
	s := ScoreBaseline("seasonal_naive", "the value 2 steps before the target (season 2)", truth, []float64{1, 2, 1, 2})
	if s.MSE != 2 || s.MAE != 1 || math.Abs(s.RMSE-math.Sqrt2) > 1e-15 {
		t.Fatalf("%+v, want MSE 2, MAE 1, RMSE √2", s)
	}
	g := Regress(truth, []float64{1, 2, 3, 6}, 1, nil) // MSE 1, MAE 0.5
	g.Baselines = []Baseline{b, s}
	r := &Report{Split: "test", Checkpoint: "best", Regression: &g}
	var out strings.Builder
	if err := r.WriteText(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"forecast baselines on the same 4 test windows",
		"model           0.5",
		"seasonal-naive  1    1.41421  2    the value 2 steps before the target (season 2)",
		"the model does not beat persistence: its MSE is 100.0% of persistence's",
		"the model beats seasonal-naive: its MSE is 50.0% of seasonal-naive's",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, out.String())
		}
	}
}
