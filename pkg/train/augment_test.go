package train

import (
	"context"
	"math"
	"testing"

	"github.com/dltrain/dltrain/pkg/augment"
	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/config"
)

// augmentList is every augmentation, on the digits as 1×8×8 images.
const augmentList = "augment=[flip, {kind: shift, max_pixels: 2}, {kind: noise, std: 0.1}]"

// newAugmentedLoop is newTestLoop with the experiment's augmentation
// given to the session, as pkg/run does.
func newAugmentedLoop(t *testing.T, yamlText string, sets ...string) *Loop {
	t.Helper()
	l := newTestLoop(t, yamlText, sets...)
	exp, err := config.Parse("test.yaml", []byte(yamlText), sets, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, ps := augment.New(exp.Augment, augment.Input{Shape: l.Data.Input}, exp.Seed)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	l.Session.SetAugment(p)
	return l
}

// runLosses trains l and returns every step's loss and the final weights.
func runLosses(t *testing.T, l *Loop) ([]float64, []TensorRecord) {
	t.Helper()
	rec := &recorder{}
	l.Hooks = []Hook{rec}
	if err := l.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	var losses []float64
	for _, s := range rec.steps {
		losses = append(losses, s.Loss)
	}
	return losses, CaptureParams(l.Session.Model.Params())
}

// TestAugmentedPrefetchIsBitIdentical: with augmentation, gathering a
// mini-batch during the step before (on the prefetcher's goroutine) or
// when its step starts gives the same losses and weights, bit for bit;
// and augmentation does change the training.
func TestAugmentedPrefetchIsBitIdentical(t *testing.T) {
	prefetchWithBLASThreads = true
	defer func() { prefetchWithBLASThreads = false }()
	var losses [2][]float64
	var weights [2][]TensorRecord
	for i, off := range []bool{false, true} {
		l := newAugmentedLoop(t, cnnDigitsYAML, augmentList)
		if l.Data.Train.N%l.BatchSize == 0 {
			t.Fatalf("%d samples in batches of %d: no partial batch to test", l.Data.Train.N, l.BatchSize)
		}
		l.NoPrefetch = off
		losses[i], weights[i] = runLosses(t, l)
	}
	if len(losses[0]) == 0 || len(losses[0]) != len(losses[1]) {
		t.Fatalf("%d and %d steps", len(losses[0]), len(losses[1]))
	}
	for j := range losses[0] {
		if math.Float64bits(losses[0][j]) != math.Float64bits(losses[1][j]) {
			t.Fatalf("step %d: loss %v with prefetching, %v without", j, losses[0][j], losses[1][j])
		}
	}
	if !sameRecords(weights[0], weights[1]) {
		t.Error("the final weights differ with and without prefetching")
	}
	plain, _ := runLosses(t, newTestLoop(t, cnnDigitsYAML))
	if plain[0] == losses[0][0] {
		t.Errorf("the first step's loss is %v with and without augmentation", plain[0])
	}
}

// TestAugmentLeavesEvaluationAlone: a session's evaluation (Predict,
// Evaluate) and Forward give the same bits with and without an
// augmentation set, even on the training split. (An MLP without dropout,
// so that Forward is deterministic; the augmentation sees its 64 inputs
// as 1×8×8 images.)
func TestAugmentLeavesEvaluationAlone(t *testing.T) {
	l := newTestLoop(t, digitsYAML)
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
	type result struct {
		out        []float64
		loss, grad float64
		val        float64
	}
	measure := func() result {
		r := result{out: make([]float64, len(idx)*10)}
		var err error
		if r.loss, err = l.Session.Predict(l.Data.Train, idx, r.out); err != nil {
			t.Fatal(err)
		}
		rep, err := Evaluate(l.Session, l.Data.Val, 50, l.Data.Meta)
		if err != nil {
			t.Fatal(err)
		}
		r.val = rep.Loss
		g, err := l.Session.Forward(l.Data.Train, idx)
		if err != nil {
			t.Fatal(err)
		}
		r.grad = float64(g.Grads[0].Float32s()[0])
		return r
	}
	before := measure()
	p, ps := augment.New(blocksOf(t, augmentList), augment.Input{Shape: []int{1, 8, 8}}, 1)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	l.Session.SetAugment(p)
	after := measure()
	if before.loss != after.loss || before.val != after.val || before.grad != after.grad {
		t.Errorf("with augmentation: predict loss %v, val loss %v, gradient %v; without: %v, %v, %v",
			after.loss, after.val, after.grad, before.loss, before.val, before.grad)
	}
	for i := range before.out {
		if before.out[i] != after.out[i] {
			t.Fatalf("output %d: %v with augmentation, %v without", i, after.out[i], before.out[i])
		}
	}
}

// blocksOf returns the augment list a --set sets.
func blocksOf(t *testing.T, set string) []config.Block {
	t.Helper()
	exp, err := config.Parse("test.yaml", []byte(cnnDigitsYAML), []string{set}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return exp.Augment
}

// TestAugmentedStepDoesNotAllocate: augmenting reuses its random sources:
// a training step still allocates nothing, prefetching or not.
func TestAugmentedStepDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	if compute.ProductsAllocate() {
		t.Skip("this build's matrix products are gonum's, which allocate on every call")
	}
	for _, off := range []bool{false, true} {
		l := newAugmentedLoop(t, cnnDigitsYAML, augmentList)
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
