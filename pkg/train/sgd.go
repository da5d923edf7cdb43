package train

import (
	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
	"gorgonia.org/tensor"
)

// SGD is stochastic gradient descent with optional momentum, dampening and
// Nesterov momentum, as torch.optim.SGD:
//
//	b ← g (first step), else b ← μ·b + (1−τ)·g
//	d ← g + μ·b with Nesterov, else b (when μ > 0), else g
//	θ ← θ − lr·d
type SGD struct {
	lr, momentum, dampening float64
	nesterov                bool
	state
}

var _ Optimizer = (*SGD)(nil)

func newSGD(o *config.Options) Optimizer {
	s := &SGD{
		lr:        o.Float("lr", 0.01),
		momentum:  o.Float("momentum", 0),
		dampening: o.Float("dampening", 0),
		nesterov:  o.Bool("nesterov", false),
		state:     newState(),
	}
	return s.check(o)
}

func (s *SGD) check(o *config.Options) *SGD {
	o.Positive("lr", s.lr)
	o.Range("momentum", s.momentum, 0, 1)
	o.Range("dampening", s.dampening, 0, 1)
	if s.nesterov && (s.momentum == 0 || s.dampening != 0) {
		o.Fail("nesterov", "needs momentum > 0 and dampening 0")
	}
	return s
}

// LR implements Optimizer.
func (s *SGD) LR() float64 { return s.lr }

// Step implements Optimizer.
func (s *SGD) Step(lr float64, params []*models.Param, grads []*tensor.Dense) error {
	first := s.steps == 0
	s.steps++
	return stepEach(sgdArgs{s: s, lr: lr, first: first}, params, grads, sgdStep[float32], sgdStep[float64])
}

// sgdArgs is one SGD step's arguments: the optimizer, the learning rate
// and whether it is the first step (which starts the momentum buffers).
type sgdArgs struct {
	s     *SGD
	lr    float64
	first bool
}

func sgdStep[T compute.Float](u paramUpdate[sgdArgs]) error {
	s := u.o.s
	w, g := floatsOf[T](u)
	if s.momentum == 0 {
		compute.SGDStep(w, g, u.o.lr)
		return nil
	}
	b := buffersOf[T](&s.state).get(s.key(u.p.Name, "momentum"), len(w))
	compute.MomentumStep(w, g, b, u.o.lr, s.momentum, s.dampening, s.nesterov, u.o.first)
	return nil
}

// SetMomentum implements MomentumCycler.
func (s *SGD) SetMomentum(m float64) { s.momentum = m }
