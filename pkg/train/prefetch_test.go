package train

import (
	"context"
	"math"
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
)

// cnnDigitsYAML is a small CNN with dropout on the built-in digits.
const cnnDigitsYAML = `
name: t
data: {source: builtin:digits, shape: [1, 8, 8]}
model:
  kind: cnn
  layers:
    - {type: conv2d, filters: 6, kernel: 3, padding: same, activation: relu}
    - {type: maxpool2d, size: 2}
    - {type: flatten}
    - {type: dropout, rate: 0.2}
    - {type: dense, units: 10}
train: {epochs: 2, batch_size: 50}
`

// TestPrefetchIsBitIdentical: a run that gathers each mini-batch during
// the step before gives the same losses and weights, bit for bit, as one
// that gathers when the step starts; with dropout, a partial last batch
// (a second graph), and accumulated mini-batches.
func TestPrefetchIsBitIdentical(t *testing.T) {
	prefetchWithBLASThreads = true // the OpenBLAS build too
	defer func() { prefetchWithBLASThreads = false }()
	cases := []struct {
		name string
		yaml string
		sets []string
	}{
		{"cnn", cnnDigitsYAML, nil},
		{"mlp_accumulate", digitsYAML, []string{"train.accumulate_steps=3", "train.batch_size=40"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var losses [2][]float64
			var weights [2][]TensorRecord
			for i, off := range []bool{false, true} {
				l := newTestLoop(t, c.yaml, c.sets...)
				if l.Data.Train.N%(l.BatchSize) == 0 {
					t.Fatalf("%d samples in batches of %d: no partial batch to test", l.Data.Train.N, l.BatchSize)
				}
				l.NoPrefetch = off
				rec := &recorder{}
				l.Hooks = []Hook{rec}
				if err := l.Run(context.Background()); err != nil {
					t.Fatal(err)
				}
				for _, s := range rec.steps {
					losses[i] = append(losses[i], s.Loss)
				}
				weights[i] = CaptureParams(l.Session.Model.Params())
			}
			for j := range losses[0] {
				if math.Float64bits(losses[0][j]) != math.Float64bits(losses[1][j]) {
					t.Fatalf("step %d: loss %v with prefetching, %v without", j, losses[0][j], losses[1][j])
				}
			}
			if len(losses[0]) == 0 || len(losses[0]) != len(losses[1]) {
				t.Fatalf("%d and %d steps", len(losses[0]), len(losses[1]))
			}
			if !sameRecords(weights[0], weights[1]) {
				t.Error("the final weights differ with and without prefetching")
			}
		})
	}
}

// TestLoopStepDoesNotAllocate: once the graphs are built, a training step
// (gathering or prefetching, guards, regularization, clipping, the
// optimizer) allocates nothing.
func TestLoopStepDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	if compute.ProductsAllocate() {
		t.Skip("this build's matrix products are gonum's, which allocate on every call")
	}
	for _, off := range []bool{false, true} {
		l := newTestLoop(t, cnnDigitsYAML, "train.regularization={l2: 0.001, clip_norm: 1.0}", "train.schedule={kind: cosine}")
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
		for range len(batches) + 1 { // every batch size's graph, and the optimizer's state
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
