package train

import (
	"math/rand/v2"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
)

// TestOptimizerSlotsCountEachOptimizersBuffers: the probe step finds the
// buffers each optimizer keeps per parameter, options included.
func TestOptimizerSlotsCountEachOptimizersBuffers(t *testing.T) {
	for _, c := range []struct {
		kind string
		opts map[string]any
		want int
	}{
		{"sgd", nil, 0},
		{"sgd", map[string]any{"momentum": 0.9}, 1},
		{"momentum", nil, 1},
		{"nesterov", nil, 1},
		{"adam", nil, 2},
		{"adamw", nil, 2},
		{"rmsprop", nil, 1},
		{"rmsprop", map[string]any{"centered": true, "momentum": 0.9}, 3},
		{"adagrad", nil, 1},
	} {
		got, err := optimizerSlots(config.Block{Kind: c.kind, Path: "train.optimizer", Opts: c.opts})
		if err != nil || got != c.want {
			t.Errorf("%s %v: %d buffers (%v), want %d", c.kind, c.opts, got, err, c.want)
		}
	}
	for _, name := range OptimizerNames() {
		if _, err := optimizerSlots(config.Block{Kind: name, Path: "train.optimizer"}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestEstimateMemoryByHand: the estimate of a 4-16-3 MLP in float32,
// batches of 16, with Adam, worked out by hand from the terms Memory
// documents.
func TestEstimateMemoryByHand(t *testing.T) {
	exp, err := config.Parse("m.yaml", []byte("name: t\ndata: {source: builtin:iris}\nmodel: {layers: [{type: dense, units: 16, activation: tanh}, {type: dense, units: 3}]}\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := models.PlanModel(models.Spec{Exp: exp, Input: models.Shape{4}, Output: models.Shape{3}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	// Training: per parameter 4·(value, gradient, 2 Adam buffers, best
	// copy, checkpoint copy) + 8·2 (the buffers as float64) = 40 bytes;
	// per output value 4·(2·16 + 256) = 1152 bytes; the input batch 4·576.
	// dense1: 80 parameters, 16 outputs; dense2: 51 and 3.
	train := 80*40 + 16*1152 + 51*40 + 3*1152 + 4*576
	// Evaluation: 4·2 per parameter, 4·256 per output value, input 4·512.
	eval := 80*8 + 16*1024 + 51*8 + 3*1024 + 4*512
	adam := config.Block{Kind: "adam", Path: "train.optimizer"}
	for _, c := range []struct {
		training bool
		want     int
	}{{true, train}, {false, eval}} {
		m, err := EstimateMemory(plan, 16, 256, adam, c.training)
		if err != nil {
			t.Fatal(err)
		}
		if m.Bytes != float64(c.want) || m.Layer.Name != "dense1" || m.Layer.Block.Path != "model.layers[0]" {
			t.Errorf("training %v: %v bytes, largest %s (%s); want %d, dense1", c.training, m.Bytes, m.Layer.Name, m.Layer.Block.Path, c.want)
		}
	}
}
