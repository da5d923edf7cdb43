package run

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
)

// ganTask is the data task of generative runs.
const ganTask = "generation"

// ganMetrics are the metrics a GAN logs each epoch, besides train_loss
// (the discriminator's loss again, as the first phase's).
var ganMetrics = []string{"d_loss", "g_loss", "d_real", "d_fake"}

// The training phases of a GAN, in the order each step runs them.
const (
	discriminatorPhase = models.DiscriminatorPart
	generatorPhase     = models.GeneratorPart
)

// validateGAN checks the training section of a generative run: the
// adversarial loss, each network's optimizer and schedule, the split (a
// GAN is judged by its samples, not on held-out data), early stopping
// (its losses do not fall as the samples get better) and the keys a GAN
// does not use.
func validateGAN(e *config.Experiment) config.Problems {
	_, ps := train.NewGANLoss(e.Train.Loss)
	for _, p := range ganPhaseConfigs(e) {
		_, ops := train.NewOptimizer(p.cfg.Optimizer)
		ps = append(ps, ops...)
		_, sps := train.NewSchedule(p.cfg.Schedule, max(e.Train.Epochs, 1), 0)
		ps = append(ps, sps...)
	}
	if e.Model.Kind != "gan" {
		ps = append(ps, e.Problem("data.task", "%s trains a generative model: set model.kind: gan (got %s)", ganTask, e.Model.Kind))
	}
	if s := e.Data.Split; s.Val != 0 || s.Test != 0 || s.Folds != 0 {
		ps = append(ps, e.Problem("data.split", "a GAN trains on every sample and is judged by its samples (dltrain sample, dltrain eval --judge), not on held-out data: "+
			"set data.split: {train: 1.0, val: 0, test: 0} (got train %v, val %v, test %v, folds %d)", s.Train, s.Val, s.Test, s.Folds))
	}
	if es := e.Train.EarlyStopping; es.Patience > 0 {
		switch {
		case es.Metric == "":
			ps = append(ps, e.Problem("train.early_stopping", "early stopping is refused for a GAN by default: its losses do not fall as its samples improve "+
				"(the two networks trade them), so \"no improvement\" means nothing; name the metric to watch in train.early_stopping.metric "+
				"(one of %s) if you mean it, or set patience: 0", strings.Join(ganMetrics, ", ")))
		case !slices.Contains(ganMetrics, es.Metric):
			ps = append(ps, e.Problem("train.early_stopping.metric", "unknown metric %q for a GAN; known: %s", es.Metric, strings.Join(ganMetrics, ", ")))
		}
	}
	if m := e.Train.Checkpoint.Metric; m != "val_loss" && !slices.Contains(ganMetrics, m) {
		ps = append(ps, e.Problem("train.checkpoint.metric", "unknown metric %q for a GAN; known: %s (val_loss, the default, keeps the last epoch as best: a GAN has no validation split)", m, strings.Join(ganMetrics, ", ")))
	}
	for _, k := range []struct {
		key string
		set bool
	}{
		{"train.optimizer", e.Train.Optimizer.Kind != "adam" || len(e.Train.Optimizer.Opts) > 0},
		{"train.schedule", e.Train.Schedule.Kind != "constant" || len(e.Train.Schedule.Opts) > 0},
		{"train.regularization", regularizes(e.Train.Regularization)},
		{"train.accumulate_steps", e.Train.AccumulateSteps != 1},
	} {
		if k.set {
			ps = append(ps, e.Problem(k.key, "a GAN trains each network in its own phase: set train.generator and train.discriminator (optimizer, schedule, regularization, steps) instead"))
		}
	}
	return ps
}

// regularizes reports whether a regularization section does anything.
func regularizes(r config.Regularization) bool {
	return r.L1 != 0 || r.L2 != 0 || r.WeightDecay != 0 || r.ClipNorm != 0 || r.ClipValue != 0
}

// ganPhaseConfig is one network's phase section and its key.
type ganPhaseConfig struct {
	key, name string
	cfg       config.Phase
}

// ganPhaseConfigs are the two phase sections, the discriminator's first,
// each block given its key path if the config did not set it.
func ganPhaseConfigs(e *config.Experiment) []ganPhaseConfig {
	out := []ganPhaseConfig{
		{"train.discriminator", discriminatorPhase, e.Train.Discriminator},
		{"train.generator", generatorPhase, e.Train.Generator},
	}
	for i := range out {
		c := &out[i].cfg
		if c.Optimizer.Path == "" {
			c.Optimizer.Path = out[i].key + ".optimizer"
		}
		if c.Schedule.Path == "" {
			c.Schedule.Path = out[i].key + ".schedule"
		}
	}
	return out
}

// ganPhases builds a GAN's two training phases: the discriminator's
// (its loss on real and generated samples, over its parameters, its own
// batch norm statistics, train.discriminator.steps updates per step),
// then the generator's (its loss on D's scores of its samples, over its
// parameters). wgan_gp's discriminator phase adds the gradient penalty. Each has its own optimizer, schedule and regularization.
func ganPhases(exp *config.Experiment, gan *models.GAN, stepsPerEpoch int) ([]*train.Phase, error) {
	loss, ps := train.NewGANLoss(exp.Train.Loss)
	if len(ps) > 0 {
		return nil, ps
	}
	prob := loss.Probability()
	objectives := map[string]train.Objective{
		discriminatorPhase: {
			Terms: []train.Term{
				{Loss: loss.Term(loss.Real), Output: models.OutputRealScore},
				{Loss: loss.Term(loss.Fake), Output: models.OutputOut},
			},
			Params:  trainable(gan.DiscriminatorParams()),
			Buffers: buffers(gan.DiscriminatorParams()),
			Watch: []train.Watch{
				{Name: "d_real", Output: models.OutputRealScore, Map: prob},
				{Name: "d_fake", Output: models.OutputOut, Map: prob},
			},
		},
		generatorPhase: {
			Terms:   []train.Term{{Loss: loss.Term(loss.Gen), Output: models.OutputOut}},
			Params:  trainable(gan.GeneratorParams()),
			Buffers: buffers(gan.GeneratorParams()),
		},
	}
	if loss.GPWeight > 0 {
		d := objectives[discriminatorPhase]
		d.Terms = append(d.Terms, train.Term{Loss: loss.Term(loss.Penalty), Output: models.OutputGradientPenalty, Weight: loss.GPWeight})
		d.Watch = append(d.Watch, train.Watch{Name: "gp", Output: models.OutputGradientPenalty})
		objectives[discriminatorPhase] = d
	}
	metric := map[string]string{discriminatorPhase: "d_loss", generatorPhase: "g_loss"}
	var phases []*train.Phase
	for _, c := range ganPhaseConfigs(exp) {
		optim, ps := train.NewOptimizer(c.cfg.Optimizer)
		if len(ps) > 0 {
			return nil, ps
		}
		sched, ps := train.NewSchedule(c.cfg.Schedule, exp.Train.Epochs, stepsPerEpoch)
		if len(ps) > 0 {
			return nil, ps
		}
		r := c.cfg.Regularization
		if err := train.CheckExclude(gan.Params(), r.Exclude); err != nil {
			return nil, config.Problems{exp.Problem(c.key+".regularization.exclude", "%v", err)}
		}
		obj := objectives[c.name]
		if len(obj.Params) == 0 {
			return nil, config.Problems{exp.Problem("model."+c.name, "the %s has no trainable parameter (every layer trainable: false)", c.name)}
		}
		phases = append(phases, &train.Phase{
			Name:      c.name,
			Objective: obj,
			Optimizer: optim,
			Schedule:  sched,
			Reg: train.Regularizer{L1: r.L1, L2: r.L2, WeightDecay: r.WeightDecay, ClipNorm: r.ClipNorm, ClipValue: r.ClipValue,
				Skip: train.Excluder(r.Exclude)},
			Steps:  c.cfg.Steps,
			Metric: metric[c.name],
		})
	}
	return phases, nil
}

// trainable and buffers split a network's parameters into those its
// optimizer updates and its running statistics (batch norm's running
// means, by which the graph asks whether to update a layer's).
func trainable(ps []*models.Param) []*models.Param {
	out := []*models.Param{}
	for _, p := range ps {
		if p.Trainable() {
			out = append(out, p)
		}
	}
	return out
}

func buffers(ps []*models.Param) []*models.Param {
	out := []*models.Param{}
	for _, p := range ps {
		if p.Role == models.Buffer {
			out = append(out, p)
		}
	}
	return out
}

// ganLossOf is the session's loss of a generative run, what evaluation
// graphs score: the generator's loss on D's scores of its samples.
func ganLossOf(exp *config.Experiment) (train.Loss, error) {
	l, ps := train.NewGANLoss(exp.Train.Loss)
	if len(ps) > 0 {
		return nil, ps
	}
	return l.Term(l.Gen), nil
}

// ganModel returns the model of a generative run as a GAN.
func ganModel(m models.Model) (*models.GAN, error) {
	g, ok := m.(*models.GAN)
	if !ok {
		return nil, fmt.Errorf("%w: data.task %s needs model.kind gan", config.ErrInvalid, ganTask)
	}
	return g, nil
}

// conditionalClasses is the number of classes of a conditional GAN's data
// (meta.Conditional), what its model draws from; 0 for any other data.
func conditionalClasses(meta data.Meta) int {
	if !meta.Conditional {
		return 0
	}
	return len(meta.Classes)
}
