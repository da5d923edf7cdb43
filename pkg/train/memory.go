package train

import (
	"fmt"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
	"gorgonia.org/tensor"
)

// Memory is an estimate of the memory a model needs, worked out from its
// plan (shapes alone, before anything is allocated). It counts the large
// terms only, so it is a lower bound: Go's runtime, the data and
// Gorgonia's graphs come on top.
//
// Training holds, per parameter scalar: the value, its gradient, the
// optimizer's buffers, the best epoch's copy, and the copy a checkpoint
// being written takes (the value, and the optimizer's buffers as float64);
// per sample of a mini-batch, every layer's output twice (the value and
// its gradient), and once more per sample of an evaluation batch (the
// validation pass). Evaluation holds the parameters twice (the model and
// the checkpoint it was loaded from) and every layer's output once per
// sample of an evaluation batch.
type Memory struct {
	Bytes float64 // in all; float64 so that no model overflows it
	// Layer is the largest contributor and LayerBytes its part.
	Layer      models.PlannedLayer
	LayerBytes float64
	// Slots is the optimizer's buffers per parameter (training).
	Slots int
}

// EstimateMemory estimates the memory a planned model needs to train
// (training: mini-batches of batch samples, with the optimizer opt) or to
// evaluate, in evaluation batches of evalBatch samples.
func EstimateMemory(plan *models.Plan, batch, evalBatch int, opt config.Block, training bool) (Memory, error) {
	elem := float64(plan.DType.Size())
	m := Memory{}
	perParam := 2 * elem                   // the model, and the checkpoint it was loaded from
	perOutput := float64(evalBatch) * elem // one evaluation batch
	if training {
		slots, err := optimizerSlots(opt)
		if err != nil {
			return m, err
		}
		m.Slots = slots
		perParam = elem*float64(4+slots) + 8*float64(slots)
		perOutput = (2*float64(batch) + float64(evalBatch)) * elem
	}
	for _, l := range plan.Layers {
		b := float64(l.Params+l.Buffers)*perParam + outputSize(l.Output)*perOutput
		m.Bytes += b
		if b > m.LayerBytes {
			m.Layer, m.LayerBytes = l, b
		}
	}
	m.Bytes += outputSize(plan.Input) * perOutput / 2 // the input batch: a value, no gradient
	return m, nil
}

// outputSize is the number of values of one sample of shape s, in float64
// so that no shape overflows it.
func outputSize(s models.Shape) float64 {
	n := 1.0
	for _, d := range s {
		n *= float64(d)
	}
	return n
}

// optimizerSlots counts the buffers an optimizer keeps per parameter
// scalar by taking one step of a fresh one on a one-value parameter: exact
// for every optimizer and its options (RMSprop's centered and momentum
// add buffers), without a table to keep in step with the optimizers.
func optimizerSlots(b config.Block) (int, error) {
	opt, ps := NewOptimizer(b)
	if len(ps) > 0 {
		return 0, ps
	}
	store := models.NewParamStore(tensor.Float64)
	p, err := store.Add("probe", models.Weight, []int{1}, func(_ *rand.Rand, v []float64, _, _ int) { v[0] = 1 }, 1, 1, nil)
	if err != nil {
		return 0, err
	}
	g := tensor.New(tensor.WithShape(1), tensor.WithBacking([]float64{0.5}))
	if err := opt.Step(1e-3, []*models.Param{p}, []*tensor.Dense{g}); err != nil {
		return 0, fmt.Errorf("internal: probing the optimizer's state: %w", err)
	}
	return len(opt.State().Buffers), nil
}
