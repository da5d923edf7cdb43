package run

import (
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/augment"
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
// The loss decides the model's output shape (one logit for a binary
// cross-entropy, one per class for cross-entropy, the targets' shape for
// regression), and is checked against the data.
//
// open is data.Open (train: an up-to-date prepared dataset, rebuilt when
// stale) or data.OpenReadOnly (eval: never writes one); training says
// which memory the model is checked against (see build).
func prepare(exp *config.Experiment, open func(*config.Experiment) (*data.Dataset, *data.Report, error), training bool) (*setup, *data.Report, error) {
	ds, rep, err := open(exp)
	if err != nil {
		return nil, nil, err
	}
	if err := checkOneHotTokens(exp, ds.Meta); err != nil {
		return nil, nil, err
	}
	s, err := build(exp, ds.Meta, training, max(ds.Train.N, ds.Val.N, ds.Test.N))
	if err != nil {
		return nil, nil, strayLabels(exp, ds, err)
	}
	if err := checkTokenInputs(exp, s.model, ds); err != nil {
		return nil, nil, err
	}
	s.ds = ds
	return s, rep, nil
}

// build makes the experiment's model and session for data described by
// meta (the data itself is not needed: predict builds from a checkpoint's
// description). A model whose estimated memory for training (or, when
// not training, for evaluation) in batches of at most samples (0: the
// configured sizes) exceeds the limit is refused before any tensor is
// allocated (memoryCheck).
func build(exp *config.Experiment, meta data.Meta, training bool, samples int) (*setup, error) {
	loss, output, err := sessionLoss(exp, meta)
	if err != nil {
		return nil, err
	}
	model, err := models.Build(models.Spec{
		Exp:     exp,
		Input:   meta.Input,
		Output:  output,
		Vocab:   meta.Vocab(),
		PadMask: meta.Padded(),
		InitRNG: data.RNG(exp.Seed, data.StreamInit),
		Check:   memoryCheck(exp, training, samples),
		// Sequences: what a seq2seq model is built for; nil for other data.
		Sequences: sequencesOf(meta),
		Classes:   conditionalClasses(meta),
	})
	if err != nil {
		return nil, err
	}
	if exp.Data.Task == ganTask {
		if _, err := ganModel(model); err != nil {
			return nil, err
		}
	}
	if err := train.CheckExclude(model.Params(), exp.Train.Regularization.Exclude); err != nil {
		return nil, config.Problems{exp.Problem("train.regularization.exclude", "%v", err)}
	}
	src := rand.NewPCG(exp.Seed, data.StreamDropout)
	target := meta.Target
	if data.ClassTask(meta.Task) {
		target = append([]int{}, meta.Target...) // one class index per sample ([]), or per position ([T])
	}
	return &setup{exp: exp, model: model, dropout: src,
		session: train.NewSession(model, loss, target, rand.New(src))}, nil
}

// sessionLoss is the loss the session's evaluation graphs score and the
// per-sample output shape it needs of the model: train.loss, or for a
// generative run the generator's adversarial loss on one score per
// sample (its training phases have their own objectives).
func sessionLoss(exp *config.Experiment, meta data.Meta) (train.Loss, []int, error) {
	if exp.Data.Task == ganTask {
		l, err := ganLossOf(exp)
		return l, []int{1}, err
	}
	loss, ps := train.NewLoss(exp.Train.Loss, exp.Data.Task)
	if len(ps) > 0 {
		return nil, nil, ps
	}
	output, ps := train.LossOutput(loss, exp.Train.Loss, meta)
	if len(ps) > 0 {
		return nil, nil, ps
	}
	return loss, output, nil
}

// setAugment builds the experiment's augmentation, and an autoencoder's
// corruption (model.corrupt), for its data and gives them to the session's
// training loop. An op the data's shape cannot take
// (a flip of samples that are not [C, H, W]) is a config error naming its
// block. Only training calls it: eval and predict never augment.
func setAugment(s *setup) error {
	in := augment.Input{Shape: s.ds.Input, Tokens: s.ds.Text != nil}
	if in.Tokens {
		in.Vocab = len(s.ds.Classes) // a language model's classes are its vocabulary
		if s.ds.Text.Column != "" {  // a text column's padded ids (text_table.go)
			in.Vocab, in.Padded = len(s.ds.Text.Vocab), true
		}
	}
	p, ps := augment.New(s.exp.Augment, in, s.exp.Seed)
	c, cps := augment.Corruption(s.exp.Model.Corrupt, in, s.exp.Seed) // a denoising autoencoder's
	if ps = append(ps, cps...); len(ps) > 0 {
		return ps
	}
	s.session.SetAugment(p.Then(c))
	return nil
}

// monitor decides how the best epoch is chosen from the config.
func monitor(exp *config.Experiment) train.Monitor {
	c := exp.Train.Checkpoint
	return train.Monitor{Metric: c.Metric, Max: isMax(c.Mode, c.Metric)}
}

func isMax(mode, metric string) bool {
	return mode == "max" || (mode == "auto" && train.MaxIsBetter(metric))
}

// earlyStopping is the configured early stopping, or nil when off.
func earlyStopping(exp *config.Experiment) *train.EarlyStopping {
	es := exp.Train.EarlyStopping
	if es.Patience == 0 {
		return nil
	}
	metric, mode := es.Metric, es.Mode
	if metric == "" {
		metric, mode = exp.Train.Checkpoint.Metric, exp.Train.Checkpoint.Mode
		if es.Mode != "auto" {
			mode = es.Mode
		}
	}
	return &train.EarlyStopping{Metric: metric, Max: isMax(mode, metric), Patience: es.Patience, MinDelta: es.MinDelta}
}

// loggedMetrics are the metrics a run logs each epoch, which early
// stopping, plateau schedules and the best checkpoint may watch.
func loggedMetrics(task string) []string {
	if task == ganTask {
		return append([]string{"train_loss", "val_loss"}, ganMetrics...)
	}
	if task == "language_model" {
		return []string{"train_loss", "val_loss", "val_accuracy", "val_macro_f1", "val_perplexity"}
	}
	if data.ClassTask(task) {
		return []string{"train_loss", "val_loss", "val_accuracy", "val_macro_f1"}
	}
	if task == data.Seq2SeqTask {
		return []string{"train_loss", "val_loss", "val_accuracy"} // token accuracy, teacher-forced
	}
	if data.SelfTask(task) {
		return []string{"train_loss", "val_loss", "val_mse", "val_mae"}
	}
	return []string{"train_loss", "val_loss", "val_mse", "val_mae", "val_r2"}
}

// Validators are the checks of every registry an experiment names, run
// explicitly by Load and LoadSaved: the data source, the model (kind,
// layers, initializer), the augmentations and the training section.
var Validators = []config.Validator{data.Validate, models.Validate, augment.Validate, ValidateTrain}

// Load reads an experiment as config.Load does, validated against every
// registry (Validators). An override may name a layer's option by the
// layer's name, model.layers.NAME.OPTION=VALUE (NAME as LayerNames has it).
func Load(path string, sets []string) (*config.Experiment, error) {
	sets, err := expandLayerSets(path, sets)
	if err != nil {
		return nil, err
	}
	return config.Load(path, sets, Validators...)
}

// loadSaved reads a run's saved config.yaml as config.LoadSaved does,
// validated against every registry.
func loadSaved(path string) (*config.Experiment, error) {
	return config.LoadSaved(path, Validators...)
}

// ValidateTrain checks the training section's registries (loss,
// optimizer, schedule) and the metrics it watches. It is a
// config.Validator.
func ValidateTrain(e *config.Experiment) config.Problems {
	if e.Data.Task == ganTask {
		return validateGAN(e)
	}
	_, ps := train.NewLoss(e.Train.Loss, e.Data.Task)
	opt, ops := train.NewOptimizer(e.Train.Optimizer)
	ps = append(ps, ops...)
	sched, sps := train.NewSchedule(e.Train.Schedule, max(e.Train.Epochs, 1), 0) // steps per epoch: not known before the data
	ps = append(ps, sps...)
	known := loggedMetrics(e.Data.Task)
	checkMetric := func(key, metric string) {
		switch {
		case !slices.Contains(known, metric):
			ps = append(ps, e.Problem(key, "unknown metric %q for a %s task; known: %s", metric, e.Data.Task, strings.Join(known, ", ")))
		case strings.HasPrefix(metric, "val_") && e.Data.Split.Val == 0 && e.Data.Split.Folds == 0:
			ps = append(ps, e.Problem(key, "watches %s but data.split.val is 0 and there are no folds: there is no validation split", metric))
		}
	}
	if m := e.Train.Checkpoint.Metric; !slices.Contains(known, m) {
		ps = append(ps, e.Problem("train.checkpoint.metric", "unknown metric %q for a %s task; known: %s", m, e.Data.Task, strings.Join(known, ", ")))
	}
	if es := e.Train.EarlyStopping; es.Patience > 0 {
		metric := es.Metric
		if metric == "" {
			metric = e.Train.Checkpoint.Metric
		}
		checkMetric("train.early_stopping.metric", metric)
	} else if es.Metric != "" {
		ps = append(ps, e.Problem("train.early_stopping.patience", "early stopping on %s is off until patience is set (> 0)", es.Metric))
	}
	if r, ok := sched.(train.Reactive); ok {
		checkMetric("train.schedule.metric", r.Metric())
	}
	if ms, ok := sched.(train.MomentumSchedule); ok && ms.CyclesMomentum() {
		if _, ok := opt.(train.MomentumCycler); !ok && opt != nil {
			ps = append(ps, e.Problem("train.schedule.cycle_momentum", "%s cycles the momentum (cycle_momentum: true, as PyTorch) but %s has none; set cycle_momentum: false", e.Train.Schedule.Kind, e.Train.Optimizer.Kind))
		}
	}
	if _, ok := opt.(train.Decayer); ok && e.Train.Regularization.WeightDecay != 0 {
		ps = append(ps, e.Problem("train.regularization.weight_decay", "%s has its own decoupled weight decay: set train.optimizer.weight_decay instead", e.Train.Optimizer.Kind))
	}
	return ps
}
