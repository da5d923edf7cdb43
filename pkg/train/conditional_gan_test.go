package train

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
)

// conditionalGANYAML is a small conditional MLP GAN on the built-in
// digits, whose classes it is told.
const conditionalGANYAML = `
name: t
data: {source: builtin:digits, task: generation, split: {train: 1.0, val: 0.0, test: 0.0}}
model:
  kind: gan
  conditional: true
  latent: 8
  generator: [{type: dense, units: 16, activation: leaky_relu, alpha: 0.2}, {type: dense, units: 64, activation: tanh}]
  discriminator: [{type: dense, units: 16, activation: leaky_relu, alpha: 0.2}, {type: dense, units: 1}]
train: {epochs: 1, batch_size: 50, loss: bce}
`

// conditionalGANLoop builds a conditional GAN's loop with its two phases
// as pkg/run does: the discriminator's terms on d_real and out over its
// parameters, then the generator's on out over its own.
func conditionalGANLoop(t *testing.T) *Loop {
	t.Helper()
	exp, err := config.Parse("test.yaml", []byte(conditionalGANYAML), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := data.Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	model, err := models.Build(models.Spec{Exp: exp, Input: ds.Input, Output: []int{1}, InitRNG: data.RNG(exp.Seed, data.StreamInit), Classes: len(ds.Classes)})
	if err != nil {
		t.Fatal(err)
	}
	gl, ps := NewGANLoss(exp.Train.Loss)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	store := model.Params()
	l := &Loop{
		Session:   NewSession(model, gl.Term(gl.Gen), ds.Target, rand.New(rand.NewPCG(exp.Seed, data.StreamDropout))),
		Optimizer: mustOptimizer(t, "{kind: adam, lr: 0.001}"),
		Data:      ds, Epochs: exp.Train.Epochs, BatchSize: exp.Train.BatchSize, Accumulate: 1, Seed: exp.Seed,
		Schedule: constantSchedule(t, exp), State: NewState(), NoPrefetch: true,
		Phases: []*Phase{
			{Name: "discriminator", Objective: Objective{Params: paramsOf(store, "discriminator/"), Terms: []Term{
				{Loss: gl.Term(gl.Real), Output: models.OutputRealScore}, {Loss: gl.Term(gl.Fake), Output: models.OutputOut}}},
				Optimizer: mustOptimizer(t, "{kind: adam, lr: 0.0002, beta1: 0.5}"), Schedule: constantSchedule(t, exp)},
			{Name: "generator", Objective: Objective{Params: paramsOf(store, "generator/"), Terms: []Term{{Loss: gl.Term(gl.Gen), Output: models.OutputOut}}},
				Optimizer: mustOptimizer(t, "{kind: adam, lr: 0.0002, beta1: 0.5}"), Schedule: constantSchedule(t, exp)},
		},
	}
	if err := CheckPhases(l.Phases); err != nil {
		t.Fatal(err)
	}
	return l
}

func constantSchedule(t *testing.T, exp *config.Experiment) Schedule {
	s, ps := NewSchedule(block(t, "schedule", "{kind: constant}"), exp.Train.Epochs, 1)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	return s
}

// TestConditionalGANStepDoesNotAllocate: a step of a conditional GAN
// (both phases: the labels fed from the targets' buffer, the fake
// classes drawn, both embeddings and their gradients) allocates nothing
// once warm.
func TestConditionalGANStepDoesNotAllocate(t *testing.T) {
	skipAllocationTest(t)
	l := conditionalGANLoop(t)
	if n := stepAllocations(t, l); n != 0 {
		t.Errorf("%v allocations per step, want 0", n)
	}
}

// TestConditionalGANReadsTheLabels: D's score of the real samples
// depends on the classes the data gives them (the session feeds the
// targets as the input "labels"): the same classes give the same
// scores, other classes other scores. A model whose labels do not have
// the targets' shape is refused, naming both.
func TestConditionalGANReadsTheLabels(t *testing.T) {
	l := conditionalGANLoop(t)
	s, split := l.Session, l.Data.Train
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
	score := func(sp *data.Split) []float64 {
		out := make([]float64, len(idx))
		if _, err := s.PredictOutput(sp, idx, models.OutputRealScore, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := score(split), score(split)
	other := *split
	other.Y = slices.Clone(split.Y)
	for i := range other.Y {
		other.Y[i] = float32((int(other.Y[i]) + 1) % 10)
	}
	c := score(&other)
	if !slices.Equal(a, b) {
		t.Errorf("the same samples scored %v then %v", a, b)
	}
	for i := range a {
		if a[i] == c[i] {
			t.Errorf("sample %d scores %v with class %v and with class %v", idx[i], a[i], split.Y[idx[i]], other.Y[idx[i]])
		}
	}
	bad := NewSession(s.Model, s.Loss, []int{64}, s.DropoutRNG)
	if err := bad.Compile(4, false); err == nil || !strings.Contains(err.Error(), `"labels" of shape () per sample`) || !strings.Contains(err.Error(), "[64]") {
		t.Errorf("labels of another shape than the targets: %v", err)
	}
}
