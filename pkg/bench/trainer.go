package bench

import (
	"fmt"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
)

// trainer is one workload made ready to step: its model, session and
// optimizer, and one batch of random inputs.
type trainer struct {
	exp     *config.Experiment
	model   models.Model
	session *train.Session
	opt     train.Optimizer
	batch   *data.Split
	idx     []int
}

// newTrainer builds the workload's model through the same path as
// `dltrain train` (config, models.Build, train.Session, the optimizer
// registry) and draws its inputs from seed, like pytorch_ref.py:
// standard normal inputs and uniform class labels for classification,
// uniform [0, 1) inputs that are also the targets for regression.
func newTrainer(w Workload, seed uint64) (*trainer, error) {
	text, err := w.ConfigText()
	if err != nil {
		return nil, err
	}
	exp, err := config.Parse("bench/"+w.Config, text, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("workload %s: %w", w.Name, err)
	}
	input := models.Shape(exp.Data.Shape)
	model, err := models.Build(models.Spec{Exp: exp, Input: input, InitRNG: data.RNG(seed, data.StreamInit)})
	if err != nil {
		return nil, fmt.Errorf("workload %s: %w", w.Name, err)
	}
	loss, ps := train.NewLoss(exp.Train.Loss, exp.Data.Task)
	if len(ps) > 0 {
		return nil, fmt.Errorf("workload %s: %w", w.Name, ps)
	}
	opt, ps := train.NewOptimizer(exp.Train.Optimizer)
	if len(ps) > 0 {
		return nil, fmt.Errorf("workload %s: %w", w.Name, ps)
	}
	n := exp.Train.BatchSize
	rng := rand.New(rand.NewPCG(seed, 0xbe7c4))
	split := &data.Split{Name: "train", N: n, X: make([]float32, n*input.Size())}
	var target []int
	if exp.Data.Task == "classification" {
		classes := model.OutputShape().Size()
		split.Y = make([]float32, n)
		for i := range split.X {
			split.X[i] = float32(rng.NormFloat64())
		}
		for i := range split.Y {
			split.Y[i] = float32(rng.IntN(classes))
		}
		target = []int{}
	} else {
		for i := range split.X {
			split.X[i] = rng.Float32()
		}
		split.Y = split.X
		target = model.OutputShape()
	}
	t := &trainer{exp: exp, model: model, opt: opt, batch: split,
		session: train.NewSession(model, loss, target, data.RNG(seed, data.StreamDropout))}
	for i := range n {
		t.idx = append(t.idx, i)
	}
	return t, nil
}

// step runs one training step: forward, loss, backward and the update.
func (t *trainer) step() (float64, error) {
	g, err := t.session.Forward(t.batch, t.idx)
	if err != nil {
		return 0, err
	}
	if err := t.opt.Step(t.opt.LR(), g.Params, g.Grads); err != nil {
		return 0, err
	}
	return g.Loss, nil
}

// forwardFLOPs is the model's forward floating-point operations per
// sample, from the layers that count theirs.
func (t *trainer) forwardFLOPs() int64 {
	var f int64
	for _, l := range t.model.Layers() {
		f += l.FLOPs
	}
	return f
}
