package run

import (
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
)

// setup is an experiment made ready to run: data loaded, model built.
type setup struct {
	exp     *config.Experiment
	ds      *data.Dataset
	model   models.Model
	session *train.Session
	dropout *rand.PCG // the dropout stream's source, saved in checkpoints
}

// prepare loads the experiment's data and builds its model and session.
func prepare(exp *config.Experiment) (*setup, *data.Report, error) {
	ds, rep, err := data.Open(exp) // an up-to-date prepared dataset, or prepared in memory
	if err != nil {
		return nil, nil, err
	}
	model, err := models.Build(models.Spec{
		Exp:     exp,
		Input:   ds.Input,
		Output:  ds.ModelOutput(),
		InitRNG: data.RNG(exp.Seed, data.StreamInit),
	})
	if err != nil {
		return nil, nil, err
	}
	loss, ps := train.NewLoss(exp.Train.Loss, exp.Data.Task)
	if len(ps) > 0 {
		return nil, nil, ps
	}
	src := rand.NewPCG(exp.Seed, data.StreamDropout)
	target := ds.Target
	if data.ClassTask(ds.Task) {
		target = []int{} // one class index per sample
	}
	s := &setup{exp: exp, ds: ds, model: model, dropout: src,
		session: train.NewSession(model, loss, target, rand.New(src))}
	return s, rep, nil
}

// monitor decides how the best epoch is chosen from the config.
func monitor(exp *config.Experiment) train.Monitor {
	c := exp.Train.Checkpoint
	m := train.Monitor{Metric: c.Metric}
	switch c.Mode {
	case "max":
		m.Max = true
	case "auto":
		for _, suffix := range []string{"accuracy", "f1", "r2"} {
			if len(c.Metric) >= len(suffix) && c.Metric[len(c.Metric)-len(suffix):] == suffix {
				m.Max = true
			}
		}
	}
	return m
}

func validMetrics(task string) []string {
	if data.ClassTask(task) {
		return []string{"val_loss", "val_accuracy", "val_macro_f1"}
	}
	return []string{"val_loss", "val_mse", "val_mae", "val_r2"}
}

func init() { config.RegisterValidator(validate) }

// validate checks the training section's registries (loss, optimizer) and
// the monitored metric.
func validate(e *config.Experiment) config.Problems {
	_, ps := train.NewLoss(e.Train.Loss, e.Data.Task)
	if _, ops := train.NewOptimizer(e.Train.Optimizer); len(ops) > 0 {
		ps = append(ps, ops...)
	}
	ok := false
	for _, m := range validMetrics(e.Data.Task) {
		ok = ok || m == e.Train.Checkpoint.Metric
	}
	if !ok {
		ps = append(ps, e.Problem("train.checkpoint.metric", "unknown metric %q for a %s task; known: %v",
			e.Train.Checkpoint.Metric, e.Data.Task, validMetrics(e.Data.Task)))
	}
	return ps
}
