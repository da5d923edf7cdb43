package eval

import (
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// TestJudgeScores: known probabilities give the counts worked by hand;
// the confidence threshold is strict (0.9 is not above 0.9), the share
// that covers a class is not (2 of 4 is 50%).
func TestJudgeScores(t *testing.T) {
	classes := []string{"a", "b", "c"}
	probs := []float64{
		0.95, 0.03, 0.02, // a, confident
		0.90, 0.05, 0.05, // a, not confident: 0.9 is not above 0.9
		0.10, 0.85, 0.05, // b
		0.40, 0.40, 0.20, // a tie goes to the first class: a
	}
	for _, c := range []struct {
		name       string
		confidence float64
		minShare   float64
		confident  int
		covered    []string
		counts     []int
		confByCls  []int
	}{
		{"defaults", 0.9, 0.05, 1, []string{"a", "b"}, []int{3, 1, 0}, []int{1, 0, 0}},
		{"loose", 0.8, 0.5, 3, []string{"a"}, []int{3, 1, 0}, []int{2, 1, 0}},
		{"share reached exactly", 0.99, 0.25, 0, []string{"a", "b"}, []int{3, 1, 0}, []int{0, 0, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := Judge("x.npy", probs, classes, c.confidence, c.minShare)
			if s.Source != "x.npy" || s.N != 4 || s.Confident != c.confident || s.ConfidentShare != float64(c.confident)/4 {
				t.Errorf("n %d confident %d (%v), want 4, %d", s.N, s.Confident, s.ConfidentShare, c.confident)
			}
			if s.Coverage != len(c.covered) || !reflect.DeepEqual(s.Covered, c.covered) {
				t.Errorf("coverage %d %v, want %v", s.Coverage, s.Covered, c.covered)
			}
			if want := (0.95 + 0.90 + 0.85 + 0.40) / 4; math.Abs(s.MeanTop-want) > 1e-12 {
				t.Errorf("mean top %v, want %v", s.MeanTop, want)
			}
			for k, bar := range s.Classes {
				if bar.Class != classes[k] || bar.Count != c.counts[k] || bar.Confident != c.confByCls[k] || bar.Share != float64(c.counts[k])/4 {
					t.Errorf("class %d: %+v, want count %d confident %d", k, bar, c.counts[k], c.confByCls[k])
				}
			}
		})
	}
	if s := Judge("none", nil, classes, 0.9, 0.05); s.N != 0 || s.Coverage != 0 || len(s.Classes) != 3 {
		t.Errorf("no samples: %+v", s)
	}
}

// TestJudgeReportOutputs: the JSON has the documented keys; the text
// puts the samples and the real test samples side by side.
func TestJudgeReportOutputs(t *testing.T) {
	classes := []string{"0", "1"}
	r := &JudgeReport{Judge: "runs/j", Checkpoint: "best", Confidence: 0.9, MinShare: 0.05,
		Samples: Judge("s.npy", []float64{0.95, 0.05, 0.2, 0.8}, classes, 0.9, 0.05),
		Real:    Judge("test", []float64{0.99, 0.01, 0.01, 0.99}, classes, 0.9, 0.05)}
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"judge", "checkpoint", "confidence", "min_share", "samples", "real"} {
		if _, ok := m[k]; !ok {
			t.Errorf("no %q in %s", k, b)
		}
	}
	s := m["samples"].(map[string]any)
	for _, k := range []string{"source", "n", "confident", "confident_share", "mean_top_probability", "coverage", "covered", "classes"} {
		if _, ok := s[k]; !ok {
			t.Errorf("no samples.%s in %s", k, b)
		}
	}
	var text strings.Builder
	if err := r.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"samples            2  0.5000     0.8750      2/2       0 1",
		"real test samples  2  1.0000     0.9900      2/2       0 1", "runs/j"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, text.String())
		}
	}
}

// TestScoreClasses: a conditional GAN's samples against the classes they
// were drawn for, worked by hand: right when the top class is the one
// drawn, confident when also above the threshold (strictly); classes
// never drawn are not listed; the text report shows the table.
func TestScoreClasses(t *testing.T) {
	classes := []string{"a", "b", "c"}
	probs := []float64{
		0.95, 0.03, 0.02, // drawn a: right, confident
		0.90, 0.05, 0.05, // drawn a: right, not confident (0.9 is not above 0.9)
		0.10, 0.85, 0.05, // drawn a: wrong (b)
		0.05, 0.93, 0.02, // drawn b: right, confident
	}
	got := ScoreClasses(probs, classes, []int{0, 0, 0, 1}, 0.9)
	want := &ClassAccuracy{N: 4, Correct: 3, Accuracy: 0.75, ConfidentCorrect: 2, PerClass: []DrawnClass{
		{Class: "a", Drawn: 3, Correct: 2, Accuracy: 2.0 / 3, Confident: 1, ConfidentShare: 1.0 / 3},
		{Class: "b", Drawn: 1, Correct: 1, Accuracy: 1, Confident: 1, ConfidentShare: 1},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	r := &JudgeReport{Samples: Judge("s", probs, classes, 0.9, 0.05), Real: Judge("r", probs, classes, 0.9, 0.05), ClassAccuracy: got}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"class accuracy (samples the judge puts in the class they were drawn for): 0.7500 (3/4); confident and right: 0.5000", "drawn class"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("%q is not in:\n%s", s, b.String())
		}
	}
	if b, _ := (&JudgeReport{}).JSON(); strings.Contains(string(b), "class_accuracy") {
		t.Error("an unconditional report has class_accuracy")
	}
}
