package train

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/ops"
)

// twoPhaseYAML is the digits MLP with dropout, an odd batch size (the
// epoch ends on a partial batch) and accumulation over two mini-batches.
const twoPhaseYAML = `
name: t
data: {source: builtin:digits}
model:
  layers:
    - {type: dense, units: 24, activation: relu}
    - {type: dropout, rate: 0.2}
    - {type: dense, units: 10}
train: {epochs: 3, batch_size: 45, accumulate_steps: 2, checkpoint: {metric: train_loss}}
`

// paramsOf returns the parameters of store whose names start with prefix.
func paramsOf(store *models.ParamStore, prefix string) []*models.Param {
	var out []*models.Param
	for _, p := range store.Trainable() {
		if strings.HasPrefix(p.Name, prefix) {
			out = append(out, p)
		}
	}
	return out
}

// twoPhaseLoop builds a loop of two phases over two parameter groups:
// "hidden" (dense1) with Adam, L2 and a cosine schedule, and "head"
// (dense2) with SGD momentum, a reduce-on-plateau schedule (mode: max on
// a falling train_loss: it halves the rate after every epoch), a
// half-weighted cross-entropy and two updates per step. Its dropout
// stream's source is returned for checkpoints.
func twoPhaseLoop(t *testing.T) (*Loop, *rand.PCG) {
	t.Helper()
	l := newTestLoop(t, twoPhaseYAML)
	src := rand.NewPCG(11, 12)
	l.Session.DropoutRNG = rand.New(src)
	store := l.Session.Model.Params()
	cosine, ps := NewSchedule(block(t, "schedule", "{kind: cosine}"), l.Epochs, l.StepsPerEpoch())
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	plateau, ps := NewSchedule(block(t, "schedule", "{kind: reduce_on_plateau, metric: train_loss, mode: max, patience: 0, factor: 0.5}"), l.Epochs, l.StepsPerEpoch())
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	l.Phases = []*Phase{
		{Name: "hidden", Objective: Objective{Params: paramsOf(store, "dense1/")},
			Optimizer: mustOptimizer(t, "{kind: adam, lr: 0.01}"), Schedule: cosine, Reg: Regularizer{L2: 1e-3}},
		{Name: "head", Objective: Objective{Params: paramsOf(store, "dense2/"), Terms: []Term{{Loss: l.Session.Loss, Weight: 0.5}}},
			Optimizer: mustOptimizer(t, "{kind: momentum, lr: 0.05, momentum: 0.9}"), Schedule: plateau, Steps: 2},
	}
	if err := CheckPhases(l.Phases); err != nil {
		t.Fatal(err)
	}
	return l, src
}

// TestTwoPhaseResumeIsExact: a two-phase run (two parameter groups, Adam
// on one, SGD momentum on the other, each with its own schedule) stopped
// in the middle of its second epoch, saved to a checkpoint file, and
// resumed in a new loop ends with the same weight and optimizer bits as
// the run that was never stopped.
func TestTwoPhaseResumeIsExact(t *testing.T) {
	straight, _ := twoPhaseLoop(t)
	if err := straight.Run(context.Background()); err != nil {
		t.Fatal(err)
	}

	first, src := twoPhaseLoop(t)
	ctx, cancel := context.WithCancel(context.Background())
	first.Hooks = []Hook{&cancelAt{step: 20, cancel: cancel}} // 14 steps per epoch
	if err := first.Run(ctx); !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	rng, _ := src.MarshalBinary()
	path := filepath.Join(t.TempDir(), "last.ckpt")
	ck := &Checkpoint{Params: CaptureParams(first.Session.Model.Params()), Phases: first.PhaseStates(), State: first.State,
		RNG: map[string][]byte{"dropout": rng}}
	if err := ck.Save(path); err != nil {
		t.Fatal(err)
	}

	resumed, src2 := twoPhaseLoop(t)
	ck, err := LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(ck.Phases) != 2 || ck.Phases[0].Name != "hidden" || ck.Phases[1].Name != "head" {
		t.Fatalf("checkpoint phases %+v", ck.Phases)
	}
	if err := RestoreParams(resumed.Session.Model.Params(), ck.Params); err != nil {
		t.Fatal(err)
	}
	if err := RestorePhases(resumed.Phases, resumed.Session.Model.Params(), ck.Phases); err != nil {
		t.Fatal(err)
	}
	if err := src2.UnmarshalBinary(ck.RNG["dropout"]); err != nil {
		t.Fatal(err)
	}
	// The best epoch's weights: the run package reloads them from best.ckpt.
	resumed.State, resumed.Best = ck.State, first.Best
	if err := resumed.Run(context.Background()); err != nil {
		t.Fatal(err)
	}

	a, b := CaptureParams(straight.Session.Model.Params()), CaptureParams(resumed.Session.Model.Params())
	for i := range a {
		for j := range a[i].F32 {
			if math.Float32bits(a[i].F32[j]) != math.Float32bits(b[i].F32[j]) {
				t.Fatalf("%s[%d]: straight %v, resumed %v", a[i].Name, j, a[i].F32[j], b[i].F32[j])
			}
		}
	}
	sa, sb := straight.PhaseStates(), resumed.PhaseStates()
	for i := range sa {
		if sa[i].Optimizer.Steps != sb[i].Optimizer.Steps || len(sa[i].Optimizer.Buffers) == 0 || sa[i].Schedule != sb[i].Schedule &&
			!(math.IsNaN(sa[i].Schedule.LR) && math.IsNaN(sb[i].Schedule.LR)) {
			t.Errorf("phase %s: straight %+v, resumed %+v", sa[i].Name, sa[i], sb[i])
		}
		for k, v := range sa[i].Optimizer.Buffers {
			for j := range v {
				if math.Float64bits(v[j]) != math.Float64bits(sb[i].Optimizer.Buffers[k][j]) {
					t.Fatalf("phase %s: buffer %s differs after the resume", sa[i].Name, k)
				}
			}
		}
	}
	// Each optimizer holds buffers of its own group only, and the head's
	// took two updates per step.
	for k := range sa[0].Optimizer.Buffers {
		if !strings.HasPrefix(k, "dense1/") {
			t.Errorf("the hidden phase's Adam holds %s", k)
		}
	}
	for k := range sa[1].Optimizer.Buffers {
		if !strings.HasPrefix(k, "dense2/") {
			t.Errorf("the head phase's momentum holds %s", k)
		}
	}
	if got, want := sa[1].Optimizer.Steps, 2*sa[0].Optimizer.Steps; got != want {
		t.Errorf("head phase: %d updates, want %d (two per step)", got, want)
	}
}

// TestPhaseBuildsOnlyItsGroupsGradients: a phase's graph returns the
// gradients of its group only, and its executor runs fewer nodes than the
// graph over every parameter (the other group's gradients are not
// computed); a training run of that phase leaves the other group as it
// was.
func TestPhaseBuildsOnlyItsGroupsGradients(t *testing.T) {
	l := newTestLoop(t, digitsYAML, "train.epochs=1")
	store := l.Session.Model.Params()
	head := &Phase{Name: "head", Objective: Objective{Params: paramsOf(store, "dense2/")}, Optimizer: mustOptimizer(t, "{kind: sgd, lr: 0.1}")}
	part, err := l.Session.phaseGraph(&head.Objective, 32)
	if err != nil {
		t.Fatal(err)
	}
	full, err := l.Session.graph(32, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(part.params) != 2 || part.params[0].Name != "dense2/W" || part.params[1].Name != "dense2/b" {
		t.Errorf("the phase's gradients are of %v, want dense2/W and dense2/b", part.params)
	}
	if np, nf := part.vm.(*ops.Machine).Len(), full.vm.(*ops.Machine).Len(); np >= nf {
		t.Errorf("the head phase runs %d nodes, the whole model's gradients %d", np, nf)
	}
	before := CaptureParams(store)
	l.Phases = []*Phase{head}
	if err := l.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := CaptureParams(store)
	for i := range before {
		same := true
		for j := range before[i].F32 {
			same = same && before[i].F32[j] == after[i].F32[j]
		}
		if inGroup := strings.HasPrefix(before[i].Name, "dense2/"); same == inGroup {
			t.Errorf("%s: unchanged %v after training the head phase", before[i].Name, same)
		}
	}
}

// TestFrozenLayerKeepsItsWeights: a layer set trainable: false keeps its
// weights through training while the others change, and no gradient is
// built for it.
func TestFrozenLayerKeepsItsWeights(t *testing.T) {
	l := newTestLoop(t, strings.Replace(digitsYAML, "{type: dense, units: 32, activation: relu}", "{type: dense, units: 32, activation: relu, trainable: false}", 1), "train.epochs=1")
	store := l.Session.Model.Params()
	before := CaptureParams(store)
	g, err := l.Session.Forward(l.Data.Train, []int{0, 1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range g.Params {
		if strings.HasPrefix(p.Name, "dense1/") {
			t.Errorf("a gradient was built for the frozen %s", p.Name)
		}
	}
	if err := l.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := CaptureParams(store)
	for i := range before {
		same := true
		for j := range before[i].F32 {
			same = same && before[i].F32[j] == after[i].F32[j]
		}
		if frozen := strings.HasPrefix(before[i].Name, "dense1/"); same != frozen {
			t.Errorf("%s: unchanged %v after training, frozen %v", before[i].Name, same, frozen)
		}
	}
}

// TestCheckPhases: the problems that make a list of phases unusable.
func TestCheckPhases(t *testing.T) {
	l := newTestLoop(t, digitsYAML)
	store := l.Session.Model.Params()
	opt := mustOptimizer(t, "{kind: sgd, lr: 0.1}")
	w := paramsOf(store, "dense1/W")
	cases := []struct {
		phases []*Phase
		want   string
	}{
		{nil, "no training phase"},
		{[]*Phase{{Optimizer: opt}}, "has no name"},
		{[]*Phase{{Name: "a", Optimizer: opt}, {Name: "a", Optimizer: opt}}, `two training phases are called "a"`},
		{[]*Phase{{Name: "a"}}, `phase "a" has no optimizer`},
		{[]*Phase{{Name: "a", Optimizer: opt, Objective: Objective{Params: w}}, {Name: "b", Optimizer: opt, Objective: Objective{Params: w}}},
			`dense1/W is in the parameter groups of two phases, "a" and "b"`},
	}
	for _, c := range cases {
		t.Run(c.want, func(t *testing.T) {
			if err := CheckPhases(c.phases); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
	saved := []PhaseState{{Name: "other"}}
	if err := RestorePhases(l.TrainingPhases(), store, saved); !errors.Is(err, ErrBadCheckpoint) || !strings.Contains(err.Error(), `no state for the training phase "train" (it has "other")`) {
		t.Errorf("restoring another phase's state: %v", err)
	}
}

// TestGraphCacheIsBounded: beyond MaxGraphs the least recently used
// graph is dropped, a used one is kept, and graphs are told apart by
// their input shapes and objective.
func TestGraphCacheIsBounded(t *testing.T) {
	l := newTestLoop(t, digitsYAML)
	s := l.Session
	s.SetMaxGraphs(2)
	g1, _ := s.graph(1, true)
	g2, _ := s.graph(2, true)
	if again, _ := s.graph(1, true); again != g1 { // 1 is now the most recently used
		t.Fatal("a cached graph was compiled again")
	}
	s.graph(3, true) // drops 2
	if len(s.train.entries) != 2 {
		t.Fatalf("%d training graphs kept, want 2", len(s.train.entries))
	}
	if again, _ := s.graph(1, true); again != g1 {
		t.Error("the most recently used graph was dropped")
	}
	if again, _ := s.graph(2, true); again == g2 {
		t.Error("the least recently used graph was kept beyond the cap")
	}
	obj := &Objective{Params: paramsOf(s.Model.Params(), "dense2/")}
	if c, _ := s.phaseGraph(obj, 1); c == g1 {
		t.Error("two objectives share one graph")
	}
	k1, _ := keyOf(nil, 4, [][]int{{1, 8, 8}})
	k2, _ := keyOf(nil, 4, [][]int{{8, 8}})
	if k1 == k2 {
		t.Error("inputs of other shapes have the same key")
	}
	if _, err := keyOf(nil, 4, [][]int{make([]int, maxKeyDims)}); err == nil {
		t.Error("a key longer than its array was accepted")
	}
}

// TestTwoPhaseStepDoesNotAllocate: a step of the two-phase loop (two
// graphs, accumulation, two optimizers, a phase run twice) allocates
// nothing once every graph is built, with and without prefetching.
func TestTwoPhaseStepDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	if compute.ProductsAllocate() {
		t.Skip("this build's matrix products are gonum's, which allocate on every call")
	}
	for _, off := range []bool{false, true} {
		l, _ := twoPhaseLoop(t)
		l.NoPrefetch = off
		if !off {
			l.pf = newPrefetcher()
		}
		batches := l.epochBatches()
		step := func() {
			if l.State.Batch >= len(batches) {
				l.State.Batch = 0
			}
			if _, err := l.step(batches, 2); err != nil {
				t.Fatal(err)
			}
		}
		for range len(batches) + 1 {
			step()
		}
		if n := testing.AllocsPerRun(len(batches), step); n != 0 {
			t.Errorf("prefetch %v: %v allocations per step, want 0", !off, n)
		}
		if l.pf != nil {
			l.pf.stop()
		}
	}
}

// TestWeightedTermsScaleLossAndGradients: an objective of two terms over
// "out", weighted 0.25 and 2, gives 2.25 times the loss and the gradients
// of the session's own loss on the same batch (the weighted sum's
// backward pass).
func TestWeightedTermsScaleLossAndGradients(t *testing.T) {
	l := newTestLoop(t, digitsYAML)
	s := l.Session
	idx := []int{0, 1, 2, 3, 4, 5}
	plain, err := s.Forward(l.Data.Train, idx)
	if err != nil {
		t.Fatal(err)
	}
	want := make([][]float32, len(plain.Grads))
	for i, g := range plain.Grads {
		want[i] = append([]float32(nil), g.Float32s()...)
	}
	obj := &Objective{Terms: []Term{{Loss: s.Loss, Weight: 0.25}, {Loss: s.Loss, Output: "out", Weight: 2}}}
	c, err := s.phaseGraph(obj, len(idx))
	if err != nil {
		t.Fatal(err)
	}
	c.fill(l.Data.Train, idx)
	got, err := c.forward()
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got.Loss-2.25*plain.Loss) > 1e-6*plain.Loss {
		t.Errorf("loss %v, want 2.25 × %v", got.Loss, plain.Loss)
	}
	for i, g := range got.Grads {
		for j, v := range g.Float32s() {
			if w := 2.25 * want[i][j]; math.Abs(float64(v-w)) > 1e-5*(1+math.Abs(float64(w))) {
				t.Fatalf("gradient of %s[%d]: %v, want 2.25 × %v", got.Params[i].Name, j, v, want[i][j])
			}
		}
	}
	bad := &Objective{Terms: []Term{{Loss: s.Loss, Output: "code"}}}
	if _, err := s.phaseGraph(bad, 3); err == nil || !strings.Contains(err.Error(), `reads the output "code", which the model does not give`) {
		t.Errorf("a term on a missing output: %v", err)
	}
}
