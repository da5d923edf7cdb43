package train

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/models"
)

// TestAccumulationEqualsUnionBatch: k accumulated mini-batches give the
// same update as one batch of their union (float64, no dropout), including
// the partial last group of the epoch.
func TestAccumulationEqualsUnionBatch(t *testing.T) {
	for _, opt := range []string{"sgd", "adam"} {
		t.Run(opt, func(t *testing.T) {
			sets := []string{"model.dtype=float64", "train.optimizer=" + opt, "train.epochs=2", "data.split.val=0.15"}
			union := newTestLoop(t, digitsYAML, append(sets, "train.batch_size=48", "train.accumulate_steps=1")...)
			acc := newTestLoop(t, digitsYAML, append(sets, "train.batch_size=16", "train.accumulate_steps=3")...)
			if union.StepsPerEpoch() != acc.StepsPerEpoch() {
				t.Fatalf("steps per epoch %d vs %d", union.StepsPerEpoch(), acc.StepsPerEpoch())
			}
			for _, l := range []*Loop{union, acc} {
				if err := l.run(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			a, b := union.Session.Model.Params().All(), acc.Session.Model.Params().All()
			for i := range a {
				x, y := models.Float64s(a[i].Value), models.Float64s(b[i].Value)
				for j := range x {
					if math.Abs(x[j]-y[j]) > 1e-9 {
						t.Fatalf("%s[%d]: %v (batch 48) vs %v (3 × 16 accumulated)", a[i].Name, j, x[j], y[j])
					}
				}
			}
			if union.State.Step != acc.State.Step {
				t.Errorf("steps %d vs %d", union.State.Step, acc.State.Step)
			}
		})
	}
}

// TestEarlyStoppingRestoresBest: training stops after patience epochs
// without improvement and ends with the best epoch's weights; without early
// stopping the best weights are restored too.
func TestEarlyStoppingRestoresBest(t *testing.T) {
	for _, patience := range []int{0, 2} {
		l := newTestLoop(t, digitsYAML, "train.epochs=30", "train.optimizer={kind: adam, lr: 0.02}", "train.checkpoint.metric=val_loss")
		if patience > 0 {
			l.EarlyStop = &EarlyStopping{Metric: "val_loss", Patience: patience}
		}
		var bestWeights []TensorRecord
		rec := &recorder{}
		keep := &bestKeeper{best: &bestWeights}
		l.Hooks = []Hook{rec, keep}
		if err := l.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if patience > 0 {
			if !l.State.Stopped || len(rec.epochs) == 30 {
				t.Fatalf("patience %d: did not stop early (%d epochs)", patience, len(rec.epochs))
			}
			last := rec.epochs[len(rec.epochs)-1].Epoch
			if last-l.State.Stop.Epoch != patience {
				t.Errorf("stopped at epoch %d, best %d, patience %d", last, l.State.Stop.Epoch, patience)
			}
		}
		if got := CaptureParams(l.Session.Model.Params()); !sameRecords(got, bestWeights) {
			t.Errorf("patience %d: the final weights are not those of the best epoch %d", patience, l.State.BestEpoch)
		}
	}
}

// bestKeeper copies the weights of each improving epoch.
type bestKeeper struct {
	NopHook
	best *[]TensorRecord
}

func (b *bestKeeper) AfterEpoch(l *Loop, s EpochStats) error {
	if s.Improved {
		*b.best = CaptureParams(l.Session.Model.Params())
	}
	return nil
}

func sameRecords(a, b []TensorRecord) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || len(a[i].F32) != len(b[i].F32) {
			return false
		}
		for j := range a[i].F32 {
			if math.Float32bits(a[i].F32[j]) != math.Float32bits(b[i].F32[j]) {
				return false
			}
		}
	}
	return true
}

func TestDivergenceIsReported(t *testing.T) {
	cases := []struct {
		name string
		sets []string
		msg  string
	}{
		{"exploding loss", []string{"train.optimizer={kind: adam, lr: 1000000}"}, "exceeds train.diverge_factor"},
		{"non-finite", []string{"train.optimizer={kind: sgd, lr: 1.0e+30}", "train.diverge_factor=0"}, "the loss is NaN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := newTestLoop(t, digitsYAML, c.sets...)
			err := l.Run(context.Background())
			if !errors.Is(err, ErrDiverged) || !strings.Contains(err.Error(), c.msg) || !strings.Contains(err.Error(), "epoch 1, step") {
				t.Fatalf("error %v, want ErrDiverged naming epoch and step, with %q", err, c.msg)
			}
			t.Log(err)
		})
	}
}

func TestInterruptFinishesTheStep(t *testing.T) {
	l := newTestLoop(t, digitsYAML)
	ctx, cancel := context.WithCancel(context.Background())
	l.Hooks = []Hook{&cancelAt{step: 7, cancel: cancel}}
	err := l.Run(ctx)
	if !errors.Is(err, ErrInterrupted) || l.State.Step != 7 {
		t.Fatalf("error %v at step %d, want ErrInterrupted after step 7", err, l.State.Step)
	}
}

type cancelAt struct {
	NopHook
	step   int64
	cancel func()
}

func (c *cancelAt) AfterStep(l *Loop, _ StepStats) error {
	if l.State.Step == c.step {
		c.cancel()
	}
	return nil
}

// TestEveryOptimizerConverges trains the digits MLP briefly with each
// optimizer at a usual learning rate and asks for a validation accuracy
// well above chance (0.1).
func TestEveryOptimizerConverges(t *testing.T) {
	lrs := map[string]float64{"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adam": 0.003, "adamw": 0.003, "rmsprop": 0.003, "adagrad": 0.05}
	for _, name := range OptimizerNames() {
		t.Run(name, func(t *testing.T) {
			lr, ok := lrs[name]
			if !ok {
				t.Fatalf("no learning rate for %s in this test", name)
			}
			l := newTestLoop(t, digitsYAML, "train.epochs=4", "train.optimizer={kind: "+name+", lr: "+ftoa(lr)+"}")
			rec := &recorder{}
			l.Hooks = []Hook{rec}
			if err := l.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			first, last := rec.epochs[0], rec.epochs[len(rec.epochs)-1]
			if acc := last.Val["val_accuracy"]; acc < 0.85 || last.TrainLoss >= first.TrainLoss {
				t.Errorf("after %d epochs: val_accuracy %.3f, train loss %.3f → %.3f", len(rec.epochs), acc, first.TrainLoss, last.TrainLoss)
			}
		})
	}
}

func ftoa(f float64) string { return strings.TrimRight(strings.TrimRight(strconvF(f), "0"), ".") }
