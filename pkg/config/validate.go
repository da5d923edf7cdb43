package config

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
)

// A Validator checks the parts of an experiment that belong to another
// package: model kinds and layers, losses and optimizers, data sources.
type Validator func(*Experiment) Problems

var (
	validatorsMu sync.Mutex
	validators   []Validator
)

// RegisterValidator adds a check run by Load after the schema's own checks.
// Packages that own registries (models, train, data) register one in init.
func RegisterValidator(v Validator) {
	validatorsMu.Lock()
	defer validatorsMu.Unlock()
	validators = append(validators, v)
}

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

// Validate runs the schema's checks and every registered Validator, and
// returns every problem found.
func (e *Experiment) Validate() Problems {
	ps := e.validateSchema()
	validatorsMu.Lock()
	vs := slices.Clone(validators)
	validatorsMu.Unlock()
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
	if r := e.Train.Regularization.L2; !(r >= 0) || math.IsInf(r, 0) {
		bad("train.regularization.l2", "must be >= 0, got %v", r)
	}
	oneOf("train.checkpoint.mode", e.Train.Checkpoint.Mode, "auto", "min", "max")
	return ps
}
