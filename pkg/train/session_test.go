package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
)

// tinySetup builds a small float64 classifier (with dropout when rate > 0)
// and a synthetic split of n samples.
func tinySetup(t *testing.T, n int, rate float64) (*Session, *data.Dataset) {
	t.Helper()
	text := fmt.Sprintf("name: t\ndata: {source: builtin:iris}\nmodel: {dtype: float64, layers: "+
		"[{type: dense, units: 5, activation: tanh}, {type: dropout, rate: %v}, {type: dense, units: 3}]}\n", rate)
	exp, err := config.Parse("t.yaml", []byte(text), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.Build(models.Spec{Exp: exp, Input: models.Shape{4}, Output: models.Shape{3}, InitRNG: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	split := &data.Split{Name: "train", N: n, X: make([]float32, n*4), Y: make([]float32, n)}
	for i := range split.X {
		split.X[i] = float32(rng.NormFloat64())
	}
	for i := range split.Y {
		split.Y[i] = float32(rng.IntN(3))
	}
	ds := &data.Dataset{Meta: data.Meta{Task: "classification", Classes: []string{"a", "b", "c"}, Input: []int{4}}, Train: split, Val: split, Test: split}
	return NewSession(m, &crossEntropy{}, []int{}, rand.New(rand.NewPCG(5, 6))), ds
}

// TestPartialBatchGradientIsExact: the last, smaller batch of an epoch
// runs through a graph of its own size, and its gradient is the mean of
// the per-sample gradients, exactly as a separate computation gives it.
func TestPartialBatchGradientIsExact(t *testing.T) {
	s, ds := tinySetup(t, 7, 0)
	// A full batch of 4 first, so the batch-4 graph exists and a smaller
	// batch must not reuse it.
	if _, err := s.Forward(ds.Train, []int{0, 1, 2, 3}); err != nil {
		t.Fatal(err)
	}
	batch := []int{4, 5, 6}
	g, err := s.Forward(ds.Train, batch)
	if err != nil {
		t.Fatal(err)
	}
	got := make([][]float64, len(g.Grads))
	for i, t := range g.Grads {
		got[i] = append([]float64(nil), t.Data().([]float64)...)
	}
	want := make([][]float64, len(got))
	var lossSum float64
	for _, i := range batch {
		gi, err := s.Forward(ds.Train, []int{i})
		if err != nil {
			t.Fatal(err)
		}
		lossSum += gi.Loss
		for k, t := range gi.Grads {
			d := t.Data().([]float64)
			if want[k] == nil {
				want[k] = make([]float64, len(d))
			}
			for j, v := range d {
				want[k][j] += v / float64(len(batch))
			}
		}
	}
	if math.Abs(g.Loss-lossSum/3) > 1e-12 {
		t.Errorf("batch loss %v, mean of per-sample losses %v", g.Loss, lossSum/3)
	}
	for k := range got {
		for j := range got[k] {
			if math.Abs(got[k][j]-want[k][j]) > 1e-12 {
				t.Fatalf("%s[%d]: batch gradient %v, mean per-sample gradient %v", g.Params[k].Name, j, got[k][j], want[k][j])
			}
		}
	}
}

// TestEvaluationChangesNoWeight: evaluating (even with dropout in the
// model, and after training steps) leaves every parameter bit-identical,
// and gives the same numbers twice.
func TestEvaluationChangesNoWeight(t *testing.T) {
	s, ds := tinySetup(t, 20, 0.5)
	opt, _ := NewOptimizer(config.Block{Kind: "adam"})
	for range 3 {
		g, err := s.Forward(ds.Train, []int{0, 1, 2, 3, 4, 5})
		if err != nil {
			t.Fatal(err)
		}
		if err := opt.Step(0.01, g.Params, g.Grads); err != nil {
			t.Fatal(err)
		}
	}
	before := CaptureParams(s.Model.Params())
	r1, err := Evaluate(s, ds.Val, 8, ds.Meta)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Evaluate(s, ds.Val, 8, ds.Meta)
	if err != nil {
		t.Fatal(err)
	}
	after := CaptureParams(s.Model.Params())
	for i := range before {
		for j := range before[i].F64 {
			if before[i].F64[j] != after[i].F64[j] {
				t.Fatalf("%s[%d] changed by evaluation", before[i].Name, j)
			}
		}
	}
	if r1.Loss != r2.Loss || r1.Classification.Accuracy != r2.Classification.Accuracy {
		t.Errorf("evaluation is not repeatable: %v vs %v", r1.Loss, r2.Loss)
	}
}

func TestCheckpointRoundTripAndCorruption(t *testing.T) {
	s, _ := tinySetup(t, 4, 0)
	ck := &Checkpoint{Params: CaptureParams(s.Model.Params()), State: State{Epoch: 2, Step: 17}}
	path := t.TempDir() + "/c.ckpt"
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.State.Step != 17 || len(back.Params) != len(ck.Params) {
		t.Errorf("loaded %+v", back.State)
	}
	if err := RestoreParams(s.Model.Params(), back.Params); err != nil {
		t.Fatal(err)
	}
	// A model of another shape is refused, naming the tensors.
	other, _ := tinySetup(t, 4, 0)
	recs := CaptureParams(other.Model.Params())
	recs[0].Shape = []int{9, 9}
	if err := RestoreParams(s.Model.Params(), recs[:len(recs)-1]); err == nil {
		t.Error("a checkpoint of another model was accepted")
	}
}

// TestPredictOutputReadsANamedOutput: PredictOutput of "out" gives what
// Predict gives; an output the model does not have is an error naming it.
func TestPredictOutputReadsANamedOutput(t *testing.T) {
	l := newTestLoop(t, digitsYAML)
	idx := []int{3, 1, 4}
	a, b := make([]float64, 30), make([]float64, 30)
	la, err := l.Session.Predict(l.Data.Val, idx, a)
	if err != nil {
		t.Fatal(err)
	}
	lb, err := l.Session.PredictOutput(l.Data.Val, idx, "out", b)
	if err != nil {
		t.Fatal(err)
	}
	if la != lb || fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("PredictOutput(out) = %v %v, Predict = %v %v", lb, b, la, a)
	}
	if _, err := l.Session.PredictOutput(l.Data.Val, idx, "code", b); err == nil || !strings.Contains(err.Error(), `no output "code"`) {
		t.Errorf("unknown output: %v", err)
	}
}
