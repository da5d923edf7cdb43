package train

import (
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/augment"
	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/config"
)

// denoisingYAML is a small denoising autoencoder on the digits.
const denoisingYAML = `
name: t
data: {source: builtin:digits, task: reconstruction, preprocess: {scale: minmax}}
model:
  kind: autoencoder
  encoder: [{type: dense, units: 16, activation: relu}, {type: dense, units: 4}]
  decoder: [{type: dense, units: 16, activation: relu}, {type: dense, units: 64, activation: sigmoid}]
  corrupt: {kind: mask, rate: 0.3}
train: {epochs: 1, batch_size: 50, loss: mse}
`

// newDenoisingLoop is newTestLoop with the experiment's corruption given
// to the session, as dltrain train does.
func newDenoisingLoop(t *testing.T) *Loop {
	t.Helper()
	l := newTestLoop(t, denoisingYAML)
	exp, err := config.Parse("test.yaml", []byte(denoisingYAML), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, ps := augment.Corruption(exp.Model.Corrupt, augment.Input{Shape: l.Data.Input}, exp.Seed)
	if len(ps) > 0 || c == nil {
		t.Fatalf("corruption %v, %v", c, ps)
	}
	l.Session.SetAugment(c)
	return l
}

// TestCorruptionTrainsOnCleanTargets: a training step's inputs are the
// batch's samples with values masked, its targets the clean samples; the
// evaluation graph sees the clean inputs.
func TestCorruptionTrainsOnCleanTargets(t *testing.T) {
	l := newDenoisingLoop(t)
	l.NoPrefetch = true
	batches := l.epochBatches()
	if _, err := l.step(batches, 1); err != nil {
		t.Fatal(err)
	}
	c, err := l.Session.graph(len(batches[0]), true)
	if err != nil {
		t.Fatal(err)
	}
	x, y := c.x.Float32s(), c.y.Float32s()
	masked := 0
	for i, r := range batches[0] {
		for j := range 64 {
			clean := l.Data.Train.X[r*64+j]
			if y[i*64+j] != clean {
				t.Fatalf("target %d,%d is %v, the clean input %v", i, j, y[i*64+j], clean)
			}
			switch x[i*64+j] {
			case clean:
			case 0:
				masked++
			default:
				t.Fatalf("input %d,%d is %v: neither the clean %v nor masked", i, j, x[i*64+j], clean)
			}
		}
	}
	if masked == 0 {
		t.Error("no input value was masked")
	}
	e, err := l.Session.graph(len(batches[0]), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Session.Predict(l.Data.Train, batches[0], nil); err != nil {
		t.Fatal(err)
	}
	for i, v := range e.x.Float32s() {
		if v != e.y.Float32s()[i] {
			t.Fatalf("evaluation input %d is %v, its clean value %v", i, v, e.y.Float32s()[i])
		}
	}
}

// TestCorruptedStepDoesNotAllocate: corrupting reuses the augmentation's
// random sources: a denoising autoencoder's step allocates nothing,
// prefetching or not.
func TestCorruptedStepDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	if compute.ProductsAllocate() {
		t.Skip("this build's matrix products are gonum's, which allocate on every call")
	}
	for _, off := range []bool{false, true} {
		l := newDenoisingLoop(t)
		l.NoPrefetch = off
		if !off {
			l.pf = newPrefetcher()
		}
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
		if n := testing.AllocsPerRun(2*len(batches), step); n != 0 {
			t.Errorf("prefetch %v: %v allocations per step, want 0", !off, n)
		}
		if l.pf != nil {
			l.pf.stop()
		}
	}
}

// TestBCEAppliesToReconstruction: bce is for reconstruction; the
// classification loss of the same name's family says where it applies.
func TestBCEAppliesToReconstruction(t *testing.T) {
	if _, ps := NewLoss(config.Block{Kind: "bce", Path: "train.loss"}, "reconstruction"); len(ps) > 0 {
		t.Errorf("bce on reconstruction: %v", ps)
	}
	_, ps := NewLoss(config.Block{Kind: "bce", Path: "train.loss"}, "classification")
	if len(ps) != 1 || !strings.Contains(ps.Error(), "loss bce does not apply to a classification task; it applies to: reconstruction") {
		t.Errorf("bce on classification: %v", ps)
	}
}
