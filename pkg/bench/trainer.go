package bench

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/run"
	"github.com/dltrain/dltrain/pkg/train"
)

// EpochBatches is the size of a workload's training split, in batches of
// random samples: an epoch of the benchmark is that many steps, and its
// boundary (a new shuffled order) is part of what is timed.
const EpochBatches = 32

// trainer is one workload made ready to train: its model and the training
// loop that `dltrain train` would run for it, over a training split of
// random samples and no validation split.
type trainer struct {
	exp   *config.Experiment
	model models.Model
	loop  *train.Loop
}

// newTrainer builds the workload's model through the same path as
// `dltrain train` (config, models.Build, train.Session, run.NewLoop: the
// optimizer, schedule, regularization and divergence test of the config)
// and draws its inputs from seed, like pytorch_ref.py: standard normal
// inputs and uniform class labels for classification, uniform [0, 1)
// inputs that are also the targets for regression.
func newTrainer(w Workload, seed uint64) (*trainer, error) {
	text, err := w.ConfigText()
	if err != nil {
		return nil, err
	}
	exp, err := config.Parse("bench/"+w.Config, text, nil, nil, run.Validators...)
	if err != nil {
		return nil, fmt.Errorf("workload %s: %w", w.Name, err)
	}
	exp.Seed = seed
	input := models.Shape(exp.Data.Shape)
	model, err := models.Build(models.Spec{Exp: exp, Input: input, InitRNG: data.RNG(seed, data.StreamInit)})
	if err != nil {
		return nil, fmt.Errorf("workload %s: %w", w.Name, err)
	}
	loss, ps := train.NewLoss(exp.Train.Loss, exp.Data.Task)
	if len(ps) > 0 {
		return nil, fmt.Errorf("workload %s: %w", w.Name, ps)
	}
	n := EpochBatches * exp.Train.BatchSize
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
	ds := &data.Dataset{Train: split, Val: &data.Split{Name: "val"}, Test: &data.Split{Name: "test"}}
	ds.Task = exp.Data.Task
	session := train.NewSession(model, loss, target, data.RNG(seed, data.StreamDropout))
	loop, err := run.NewLoop(exp, session, ds)
	if err != nil {
		return nil, fmt.Errorf("workload %s: %w", w.Name, err)
	}
	loop.Epochs = math.MaxInt32 // the timer hook ends the run
	return &trainer{exp: exp, model: model, loop: loop}, nil
}

// Work is the arithmetic of one training step of a model, per sample.
type Work struct {
	// Forward is the model's forward FLOPs, from every layer that counts
	// its own (matrix products, pooling, activations, ...).
	Forward int64
	// Products is the matrix-product FLOPs (2 per multiply-add) of a
	// training step as executed: each dense or convolution layer's product
	// forward, its weight gradient, and its input gradient except for
	// the layer that reads the model's input, which builds none.
	Products int64
}

// productLayers are the layer types whose FLOPs are a matrix product. A
// recurrent layer's input gradient includes the products of its state's
// gradient through weight_hh even when it comes first; those are not
// counted here (they are under a third of its products).
var productLayers = map[string]bool{"dense": true, "conv1d": true, "conv2d": true, "conv1d_transpose": true, "conv2d_transpose": true,
	"rnn": true, "lstm": true, "gru": true}

// attentionLayers are the layer types made of attention blocks, whose
// FLOPs are all matrix products (the projections, the scores, the
// weighted values and, in an encoder, the feed-forward network), each
// with two backward products of its size (a weight gradient and an input
// gradient, or the gradients of both factors). When such a layer reads
// the model's input, its first input projection builds no input gradient.
var attentionLayers = map[string]bool{"multihead_attention": true, "transformer_encoder": true}

// StepWork counts the arithmetic of one training step of m, per sample.
func StepWork(m models.Model) Work {
	var w Work
	for i, l := range m.Layers() {
		w.Forward += l.FLOPs
		if attentionLayers[l.Type] {
			w.Products += 3 * l.FLOPs
			if i == 0 && len(l.Output) == 2 {
				t, d := int64(l.Output[0]), int64(l.Output[1])
				w.Products -= 2 * t * d * 3 * d // x·W_inᵀ's input gradient
			}
			continue
		}
		if !productLayers[l.Type] {
			continue
		}
		w.Products += 2 * l.FLOPs // forward and weight gradient
		if i > 0 {
			w.Products += l.FLOPs // input gradient
		}
	}
	return w
}
