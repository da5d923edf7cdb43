package eval

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

// The expected numbers are sklearn.metrics.classification_report's for
// y_true = [0,0,0,1,1,2], y_pred = [0,1,0,1,1,1] (zero_division=0),
// worked by hand: class 0 P=1 R=2/3; class 1 P=2/4 R=1; class 2 P=0 R=0.
func TestClassify(t *testing.T) {
	c := Classify([]string{"a", "b", "c"}, []int{0, 0, 0, 1, 1, 2}, []int{0, 1, 0, 1, 1, 1})
	if c.N != 6 || c.Accuracy != 4.0/6 {
		t.Errorf("n %d accuracy %v", c.N, c.Accuracy)
	}
	want := []ClassReport{
		{"a", 1, 2.0 / 3, 0.8, 3},
		{"b", 0.5, 1, 2.0 / 3, 2},
		{"c", 0, 0, 0, 1},
	}
	for i, w := range want {
		g := c.Classes[i]
		if g.Class != w.Class || g.Support != w.Support || math.Abs(g.Precision-w.Precision) > 1e-12 ||
			math.Abs(g.Recall-w.Recall) > 1e-12 || math.Abs(g.F1-w.F1) > 1e-12 {
			t.Errorf("class %d = %+v, want %+v", i, g, w)
		}
	}
	if math.Abs(c.MacroF1-(0.8+2.0/3)/3) > 1e-12 {
		t.Errorf("macro-F1 %v", c.MacroF1)
	}
	if c.Confusion[0][1] != 1 || c.Confusion[2][1] != 1 || c.Confusion[1][1] != 2 {
		t.Errorf("confusion %v", c.Confusion)
	}
}

// TestRegressSeveralTargets: n counts samples, R² is the mean of each
// target's R² (scikit-learn's r2_score), not one R² of the pooled values,
// which a constant-per-target prediction would make look good.
func TestRegressSeveralTargets(t *testing.T) {
	// Two targets on very different scales; the prediction is each
	// target's mean: R² 0 for each, whatever the scales.
	truth := []float64{1, 1000, 2, 2000, 3, 3000}
	pred := []float64{2, 2000, 2, 2000, 2, 2000}
	r := Regress(truth, pred, 2, []string{"a", "b"})
	if r.N != 3 || math.Abs(r.R2) > 1e-12 || len(r.Targets) != 2 || r.Targets[1].Name != "b" {
		t.Errorf("%+v", r)
	}
	// By hand: target 0 has SS_res 1, SS_tot 2 (R² 0.5); target 1 has
	// SS_res 13, SS_tot 266 (R² 253/266); the mean is 0.7255639097744361.
	r = Regress([]float64{1, 10, 2, 20, 3, 33}, []float64{1, 12, 2, 20, 4, 30}, 2, nil)
	if want := (0.5 + 253.0/266) / 2; math.Abs(r.R2-want) > 1e-15 {
		t.Errorf("R² %.16g, want %.16g", r.R2, want)
	}
	var sb strings.Builder
	rep := &Report{Split: "test", Task: "regression", Regression: &r}
	if err := rep.WriteText(&sb); err != nil || !strings.Contains(sb.String(), "samples 3 ") || !strings.Contains(sb.String(), "y1") {
		t.Errorf("%v\n%s", err, sb.String())
	}
}

func TestRegress(t *testing.T) {
	r := Regress([]float64{1, 2, 3, 4}, []float64{1.5, 2, 2, 5}, 1, nil)
	// errors 0.5, 0, −1, 1: MSE 2.25/4, MAE 2.5/4; SS_tot = 5, R² = 1 − 2.25/5.
	if r.MSE != 0.5625 || r.MAE != 0.625 || math.Abs(r.R2-0.55) > 1e-12 {
		t.Errorf("%+v", r)
	}
	c := Regress([]float64{2, 2}, []float64{1, 3}, 1, nil)
	b, err := json.Marshal(c)
	if err != nil || !strings.Contains(string(b), `"r2":null`) {
		t.Errorf("constant targets: %s %v", b, err)
	}
	var back Regression
	if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(back.R2) || back.MSE != 1 {
		t.Errorf("round trip %+v %v", back, err)
	}
}

func TestArgmax(t *testing.T) {
	got := Argmax([]float64{0.1, 0.7, 0.2, 3, -1, 3}, 3)
	if got[0] != 1 || got[1] != 0 {
		t.Errorf("argmax %v (ties go to the first)", got)
	}
}

func TestReportTextSkipsLargeMatricesAndShowsPerplexity(t *testing.T) {
	names := make([]string, 21)
	truth := make([]int, 21)
	for i := range names {
		names[i] = string(rune('a' + i))
		truth[i] = i
	}
	c := Classify(names, truth, truth)
	r := &Report{Split: "test", Checkpoint: "best", Task: "language_model", Loss: 0.5, Perplexity: math.Exp(0.5), Classification: &c}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "confusion matrix (rows") || !strings.Contains(b.String(), "21×21 confusion matrix is in the JSON report") {
		t.Errorf("text report:\n%s", b.String())
	}
	if !strings.Contains(b.String(), "perplexity 1.649") || r.Metrics()["perplexity"] != math.Exp(0.5) {
		t.Errorf("perplexity missing:\n%s", b.String())
	}
}
