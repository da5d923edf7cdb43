package config

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strings"
)

// A Validator checks the parts of an experiment that belong to another
// package, against its registry: model kinds and layers, losses and
// optimizers, data sources. Load and Parse run the ones they are given
// (run.Validators is every one), so what is checked never depends on which
// packages a binary happens to link.
type Validator func(*Experiment) Problems

// Problem builds a problem located at key, with the position it was set at.
func (e *Experiment) Problem(key, format string, args ...any) *Problem {
	return &Problem{Key: key, Pos: e.src.pos(key), Msg: fmt.Sprintf(format, args...)}
}

// Pos returns where key was set (file position, env variable or --set).
func (e *Experiment) Pos(key string) Pos { return e.src.pos(key) }

// File returns the config file the experiment was read from, or "".
func (e *Experiment) File() string {
	if e.src == nil {
		return ""
	}
	return e.src.file
}

// Validate runs the schema's checks and the validators vs, and returns
// every problem found.
func (e *Experiment) Validate(vs ...Validator) Problems {
	ps := e.validateSchema()
	for _, v := range vs {
		ps = append(ps, v(e)...)
	}
	return ps
}

func (e *Experiment) validateSchema() Problems {
	var ps Problems
	bad := func(key, format string, args ...any) { ps = append(ps, e.Problem(key, format, args...)) }
	oneOf := func(key, got string, allowed ...string) {
		if !slices.Contains(allowed, got) {
			bad(key, "must be one of %s, got %q%s", strings.Join(allowed, ", "), got, suggest(got, allowed))
		}
	}
	if strings.TrimSpace(e.Name) == "" || strings.ContainsAny(e.Name, `/\`) || e.Name == "." || e.Name == ".." {
		bad("name", "must be a non-empty name without slashes, got %q", e.Name)
	}
	ps = append(ps, e.validateData()...)
	oneOf("model.dtype", e.Model.DType, "float32", "float64")
	if e.Train.Epochs < 1 {
		bad("train.epochs", "must be >= 1, got %d", e.Train.Epochs)
	}
	if e.Train.BatchSize < 1 {
		bad("train.batch_size", "must be >= 1, got %d", e.Train.BatchSize)
	}
	if e.Train.Threads < 0 {
		bad("train.threads", "must be >= 0 (0 means all cores), got %d", e.Train.Threads)
	}
	if _, err := ParseBytes(e.Train.MaxMemory); err != nil {
		bad("train.max_memory", "%v", err)
	}
	if e.Train.AccumulateSteps < 1 {
		bad("train.accumulate_steps", "must be >= 1, got %d", e.Train.AccumulateSteps)
	}
	for _, p := range []struct {
		key string
		ph  Phase
	}{{"train.generator", e.Train.Generator}, {"train.discriminator", e.Train.Discriminator}} {
		if p.ph.Steps < 1 {
			bad(p.key+".steps", "must be >= 1 (updates of this network per training step), got %d", p.ph.Steps)
		}
		if c := p.ph.Regularization.ClipNorm; !(c >= 0) || math.IsInf(c, 0) {
			bad(p.key+".regularization.clip_norm", "must be >= 0, got %v", c)
		}
	}
	if e.Train.SampleEvery < 0 {
		bad("train.sample_every", "must be >= 0 (0 is never), got %d", e.Train.SampleEvery)
	}
	if e.Model.LabelDim < 0 {
		bad("model.label_dim", "must be >= 1 (0: the number of classes), got %d", e.Model.LabelDim)
	}
	if e.Model.Latent < 0 {
		bad("model.latent", "must be >= 1 for a GAN (0 elsewhere), got %d", e.Model.Latent)
	}
	r := e.Train.Regularization
	for _, f := range []struct {
		key string
		v   float64
	}{{"train.regularization.l1", r.L1}, {"train.regularization.l2", r.L2}, {"train.regularization.weight_decay", r.WeightDecay},
		{"train.regularization.clip_norm", r.ClipNorm}, {"train.regularization.clip_value", r.ClipValue},
		{"train.early_stopping.min_delta", e.Train.EarlyStopping.MinDelta}, {"train.diverge_factor", e.Train.DivergeFactor}} {
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			bad(f.key, "must be >= 0, got %v", f.v)
		}
	}
	for i, x := range r.Exclude {
		if err := checkExclude(x); err != nil {
			bad(fmt.Sprintf("train.regularization.exclude[%d]", i), "%v", err)
		}
	}
	if e.Train.EarlyStopping.Patience < 0 {
		bad("train.early_stopping.patience", "must be >= 0 (0 is off), got %d", e.Train.EarlyStopping.Patience)
	}
	oneOf("train.early_stopping.mode", e.Train.EarlyStopping.Mode, "auto", "min", "max")
	oneOf("train.checkpoint.mode", e.Train.Checkpoint.Mode, "auto", "min", "max")
	c := e.Train.Checkpoint
	if c.EveryEpochs < 0 {
		bad("train.checkpoint.every_epochs", "must be >= 0 (0 is never), got %d", c.EveryEpochs)
	}
	if c.EverySteps < 0 {
		bad("train.checkpoint.every_steps", "must be >= 0 (0 is never), got %d", c.EverySteps)
	}
	if c.Keep < 1 {
		bad("train.checkpoint.keep", "must be >= 1, got %d", c.Keep)
	}
	return ps
}

// ParamRoles are the parameter roles train.regularization.exclude may name.
var ParamRoles = []string{"weight", "bias", "norm"}

// checkExclude accepts a role name or a parameter-name pattern (path.Match
// syntax, which needs a slash or a wildcard to tell it from a role).
func checkExclude(x string) error {
	if slices.Contains(ParamRoles, x) {
		return nil
	}
	if !strings.ContainsAny(x, "/*?[") {
		return fmt.Errorf("%q is neither a role (%s) nor a parameter name pattern such as dense1/* or */b%s",
			x, strings.Join(ParamRoles, ", "), suggest(x, ParamRoles))
	}
	if _, err := path.Match(x, ""); err != nil {
		return fmt.Errorf("bad pattern %q: %v", x, err)
	}
	return nil
}
