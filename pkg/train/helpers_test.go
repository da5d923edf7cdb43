package train

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
)

// digitsYAML is a small MLP on the built-in digits, without dropout.
const digitsYAML = `
name: t
data: {source: builtin:digits}
model:
  layers:
    - {type: dense, units: 32, activation: relu}
    - {type: dense, units: 10}
train: {epochs: 3, batch_size: 32}
`

// newTestLoop builds a loop the way the run package does, from YAML and
// --set overrides.
func newTestLoop(t *testing.T, yamlText string, sets ...string) *Loop {
	t.Helper()
	exp, err := config.Parse("test.yaml", []byte(yamlText), sets, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := data.Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	loss, ps := NewLoss(exp.Train.Loss, exp.Data.Task)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	out, ps := LossOutput(loss, exp.Train.Loss, ds.Meta)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	model, err := models.Build(models.Spec{Exp: exp, Input: ds.Input, Output: out, InitRNG: data.RNG(exp.Seed, data.StreamInit),
		Sequences: sequencesOf(ds.Meta)})
	if err != nil {
		t.Fatal(err)
	}
	target := ds.Target
	if ds.Task == "classification" {
		target = []int{}
	}
	opt, ps := NewOptimizer(exp.Train.Optimizer)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	r := exp.Train.Regularization
	l := &Loop{
		Session:    NewSession(model, loss, target, rand.New(rand.NewPCG(exp.Seed, data.StreamDropout))),
		Optimizer:  opt,
		Data:       ds,
		Epochs:     exp.Train.Epochs,
		BatchSize:  exp.Train.BatchSize,
		Accumulate: exp.Train.AccumulateSteps,
		Seed:       exp.Seed,
		Reg: Regularizer{L1: r.L1, L2: r.L2, WeightDecay: r.WeightDecay, ClipNorm: r.ClipNorm, ClipValue: r.ClipValue,
			Skip: Excluder(r.Exclude)},
		Monitor:       Monitor{Metric: exp.Train.Checkpoint.Metric, Max: MaxIsBetter(exp.Train.Checkpoint.Metric)},
		DivergeFactor: exp.Train.DivergeFactor,
		State:         NewState(),
	}
	if l.Schedule, ps = NewSchedule(exp.Train.Schedule, l.Epochs, l.StepsPerEpoch()); len(ps) > 0 {
		t.Fatal(ps)
	}
	return l
}

// recorder is a hook that keeps every epoch's stats.
type recorder struct {
	NopHook
	epochs []EpochStats
	steps  []StepStats
}

func (r *recorder) AfterEpoch(_ *Loop, s EpochStats) error {
	r.epochs = append(r.epochs, s)
	return nil
}
func (r *recorder) AfterStep(_ *Loop, s StepStats) error { r.steps = append(r.steps, s); return nil }

func strconvF(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

// skipAllocationTest skips a zero-allocation test where allocations
// are expected: under the race detector, or on a build whose matrix
// products are gonum's.
func skipAllocationTest(t *testing.T) {
	t.Helper()
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	if compute.ProductsAllocate() {
		t.Skip("this build's matrix products are gonum's, which allocate on every call")
	}
}

// stepAllocations runs l's steps over an epoch's batches until every
// batch size's graph and the optimizer's state exist, then returns the
// allocations of one step.
func stepAllocations(t *testing.T, l *Loop) float64 {
	t.Helper()
	batches := l.epochBatches()
	step := func() {
		if l.State.Batch >= len(batches) {
			l.State.Batch = 0
		}
		if _, err := l.step(batches, 1); err != nil {
			t.Fatal(err)
		}
	}
	for range len(batches) + 1 {
		step()
	}
	return testing.AllocsPerRun(2*len(batches), step)
}
