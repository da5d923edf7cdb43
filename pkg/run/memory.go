package run

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
)

// memoryCheck returns a models.Spec.Check that refuses, before any tensor
// is allocated, a model whose estimated memory (train.EstimateMemory:
// training, or evaluation for eval and predict) exceeds the limit:
// train.max_memory when set, else the memory the machine has available.
// The problem names the layer that contributes most, with its key path.
// Batches hold train.batch_size samples, evaluation batches
// max(batch_size, 256) as the loop and eval use, neither more than
// samples (the largest split) when that is known (> 0).
func memoryCheck(exp *config.Experiment, training bool, samples int) func(*models.Plan) error {
	return func(plan *models.Plan) error {
		batch, evalBatch := exp.Train.BatchSize, max(exp.Train.BatchSize, 256)
		if samples > 0 {
			batch, evalBatch = min(batch, samples), min(evalBatch, samples)
		}
		est, err := train.EstimateMemory(plan, batch, evalBatch, exp.Train.Optimizer, training)
		if err != nil {
			return err
		}
		limit, what := limitFor(exp)
		if limit <= 0 || est.Bytes <= float64(limit) {
			return nil
		}
		l := est.Layer
		task := "evaluating"
		if training {
			task = "training"
		}
		return config.Problems{l.Block.Problem("", "%s this model needs about %s (an estimate from its shapes, in batches of %d), above %s; "+
			"the largest part is layer %s (%s), about %s: %s parameters%s, and %s output values per sample; make the layer smaller%s",
			task, config.FormatBytes(est.Bytes), batch, what, l.Name, l.Type, config.FormatBytes(est.LayerBytes),
			commas(int64(l.Params+l.Buffers)), slotsNote(est, training), commas(int64(outputValues(l.Output))), batchNote(exp, training))}
	}
}

// limitFor is the memory limit of an experiment in bytes, and what it is
// for messages; 0 when there is none (no train.max_memory, and a machine
// whose available memory cannot be read).
func limitFor(exp *config.Experiment) (int64, string) {
	if limit, err := config.ParseBytes(exp.Train.MaxMemory); err == nil && limit > 0 {
		return limit, fmt.Sprintf("train.max_memory (%s)", exp.Train.MaxMemory)
	}
	avail, source := availableMemory()
	if avail <= 0 {
		return 0, ""
	}
	return avail, fmt.Sprintf("the %s available on this machine (%s; train.max_memory sets another limit)", config.FormatBytes(float64(avail)), source)
}

func slotsNote(est train.Memory, training bool) string {
	if !training {
		return ""
	}
	return fmt.Sprintf(", each with its gradient, %d optimizer buffer(s) and copies for the best epoch and checkpoints", est.Slots)
}

func batchNote(exp *config.Experiment, training bool) string {
	if training && exp.Train.BatchSize > 1 {
		return " or lower train.batch_size"
	}
	return ""
}

func outputValues(s models.Shape) float64 {
	n := 1.0
	for _, d := range s {
		n *= float64(d)
	}
	return n
}

// commas writes n with comma separators: 4,000,000.
func commas(n int64) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
