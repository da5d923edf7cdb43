package train

import (
	"fmt"
	"math"
	"strings"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// DefaultPhase names the one phase of a loop that lists none: its
// Optimizer, Schedule and Reg over every trainable parameter.
const DefaultPhase = "train"

// Term is one weighted loss of an objective over a named output of the
// model against the data's target.
type Term struct {
	Loss   Loss
	Output string  // the model output the loss reads; "" is "out"
	Weight float64 // 0 is 1
}

// Objective is what a training phase minimizes, and with respect to
// what: the sum of its terms, differentiated with respect to its
// parameter group only. The gradients of other parameters are not built,
// and the executor runs no node that neither the loss nor those gradients
// need.
type Objective struct {
	Terms  []Term          // nil: the session's loss on "out"
	Params []*models.Param // the group; nil: every trainable parameter
	// Buffers are the running statistics (batch norm's running means) the
	// phase's forward passes update; nil: every one. A GAN's phase
	// updates its own network's only.
	Buffers []*models.Param
	// Watch are outputs whose per-epoch means the loop logs.
	Watch []Watch
}

// Watch is a per-epoch metric of a training phase: the mean over the
// epoch's updates and samples of Map(v) for every value v of a model
// output (a GAN's D(real) and D(fake)).
type Watch struct {
	Name   string                  // the metric's name in metrics.csv
	Output string                  // the model output it reads
	Map    func(v float64) float64 // nil: v itself
}

// Phase is one update of a training step: its own objective, parameter
// group, optimizer, schedule and regularization, applied Steps times to
// the step's mini-batches before the next phase runs. Each phase's
// optimizer and schedule state are saved in checkpoints under its name.
type Phase struct {
	Name string
	Objective
	Optimizer Optimizer
	Schedule  Schedule // nil: the optimizer's rate throughout
	Reg       Regularizer
	Steps     int // updates per training step; 0 is 1
	// Metric, when set, names the phase's mean loss over each epoch in
	// the logged metrics (a GAN's d_loss and g_loss).
	Metric string

	acc []*tensor.Dense // accumulated gradients
}

// PhaseState is what a checkpoint saves of one phase.
type PhaseState struct {
	Name      string
	Optimizer OptimizerState
	Schedule  ScheduleState // a reactive schedule's state
}

// LR is the phase's learning rate at clock c.
func (p *Phase) LR(c Clock) float64 {
	base := p.Optimizer.LR()
	if p.Schedule == nil {
		return base
	}
	return p.Schedule.LR(base, c)
}

// State returns the phase's optimizer and schedule state.
func (p *Phase) State() PhaseState {
	st := PhaseState{Name: p.Name, Optimizer: p.Optimizer.State(), Schedule: ScheduleState{LR: math.NaN()}}
	if r, ok := p.Schedule.(Reactive); ok {
		st.Schedule = r.State()
	}
	return st
}

// watches returns the objective's watched outputs (none for nil).
func (o *Objective) watches() []Watch {
	if o == nil {
		return nil
	}
	return o.Watch
}

// group returns the parameters the phase updates out of store.
func (o *Objective) group(store *models.ParamStore) []*models.Param {
	if o == nil || o.Params == nil {
		return store.Trainable()
	}
	return o.Params
}

// Build adds the objective's loss over the model's outputs and the target
// y to the graph (training builds it, and so do gradient checks): the session's loss on "out" when it has no terms, else
// the weighted sum of the terms (one dltrain op, which allocates nothing
// per step, where Gorgonia's scalar arithmetic would).
func (o *Objective) Build(def Loss, outs models.Tensors, y *G.Node) (*G.Node, error) {
	if o == nil || o.Terms == nil {
		return def.Build(outs[models.OutputOut], y)
	}
	if len(o.Terms) == 0 {
		return nil, fmt.Errorf("the objective has no loss term")
	}
	losses := make(G.Nodes, len(o.Terms))
	w := weightedSum{weights: make([]float64, len(o.Terms))}
	plain := true
	for i, t := range o.Terms {
		name := t.Output
		if name == "" {
			name = models.OutputOut
		}
		out, ok := outs[name]
		if !ok {
			return nil, fmt.Errorf("loss term %d reads the output %q, which the model does not give", i, name)
		}
		l, err := t.Loss.Build(out, y)
		if err != nil {
			return nil, fmt.Errorf("loss term %d: %w", i, err)
		}
		losses[i], w.weights[i] = l, t.Weight
		if t.Weight == 0 {
			w.weights[i] = 1
		}
		plain = plain && w.weights[i] == 1
	}
	if len(losses) == 1 && plain {
		return losses[0], nil
	}
	return ops.Apply(w, nil, losses...)
}

// weightedSum is Σ wᵢ·lᵢ over scalar losses lᵢ.
type weightedSum struct{ weights []float64 }

func (weightedSum) Name() string { return "weighted_sum" }

func (k weightedSum) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	for i, s := range in {
		if s.TotalSize() != 1 {
			return nil, fmt.Errorf("term %d is not a scalar: %v", i, s)
		}
	}
	return tensor.ScalarShape(), nil
}

func (k weightedSum) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return ops.Dispatch(out.Dtype(), weightedSumCall{k, out, in}, weightedSumBody[float32], weightedSumBody[float64])
}

// weightedSumCall is one run of a weightedSum: the op, its output and
// its inputs.
type weightedSumCall struct {
	k   weightedSum
	out *tensor.Dense
	in  []*tensor.Dense
}

func weightedSumBody[T compute.Float](c weightedSumCall) error {
	var sum T
	for i, t := range c.in {
		sum += T(c.k.weights[i]) * ops.Floats[T](t)[0]
	}
	ops.Floats[T](c.out)[0] = sum
	return nil
}

// Backward: the gradient of term i is wᵢ times the incoming one.
func (k weightedSum) Backward(_ G.Nodes, _, grad *G.Node, wrt []bool) (G.Nodes, error) {
	gs := make(G.Nodes, len(wrt))
	for i, w := range wrt {
		if !w {
			continue
		}
		g, err := ops.Apply(weightedSum{weights: []float64{k.weights[i]}}, nil, grad)
		if err != nil {
			return nil, err
		}
		gs[i] = g
	}
	return gs, nil
}

// CheckPhases reports what makes a list of phases unusable: no phase, a
// name given twice or empty, no optimizer, or a parameter in two groups
// or not trainable (a frozen layer's, a buffer).
func CheckPhases(phases []*Phase) error {
	if len(phases) == 0 {
		return fmt.Errorf("no training phase")
	}
	names := map[string]bool{}
	owner := map[*models.Param]string{}
	for _, p := range phases {
		switch {
		case p.Name == "":
			return fmt.Errorf("a training phase has no name")
		case names[p.Name]:
			return fmt.Errorf("two training phases are called %q", p.Name)
		case p.Optimizer == nil:
			return fmt.Errorf("training phase %q has no optimizer", p.Name)
		}
		names[p.Name] = true
		for _, prm := range p.Params {
			if !prm.Trainable() {
				return fmt.Errorf("training phase %q updates %s, which is not trainable", p.Name, prm.Name)
			}
			if other, dup := owner[prm]; dup {
				return fmt.Errorf("%s is in the parameter groups of two phases, %q and %q", prm.Name, other, p.Name)
			}
			owner[prm] = p.Name
		}
	}
	return nil
}

// RestorePhases puts each phase of phases back in the state saved under
// its name: its optimizer's (for its parameter group out of store) and its
// reactive schedule's. Every phase must have a saved state and every
// saved state a phase.
func RestorePhases(phases []*Phase, store *models.ParamStore, saved []PhaseState) error {
	byName := map[string]PhaseState{}
	for _, st := range saved {
		byName[st.Name] = st
	}
	for _, p := range phases {
		st, ok := byName[p.Name]
		if !ok {
			return fmt.Errorf("%w: it has no state for the training phase %q (it has %s)", ErrBadCheckpoint, p.Name, phaseNames(saved))
		}
		delete(byName, p.Name)
		if err := p.Optimizer.SetState(st.Optimizer, p.group(store)); err != nil {
			return fmt.Errorf("phase %q: %w", p.Name, err)
		}
		if r, ok := p.Schedule.(Reactive); ok {
			r.SetState(st.Schedule)
		}
	}
	for name := range byName {
		return fmt.Errorf("%w: it holds the state of a training phase %q that this run does not have", ErrBadCheckpoint, name)
	}
	return nil
}

func phaseNames(states []PhaseState) string {
	if len(states) == 0 {
		return "none"
	}
	names := make([]string, len(states))
	for i, st := range states {
		names[i] = fmt.Sprintf("%q", st.Name)
	}
	return strings.Join(names, ", ")
}
