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
	for i, p := range params {
		if err := checkPair(p, grads[i]); err != nil {
			return err
		}
		switch p.Value.Dtype() {
		case tensor.Float32:
			w := p.Value.Float32s()
			sgdStep(s, lr, first, w, grads[i].Float32s(), s.f32, p.Name)
		case tensor.Float64:
			w := p.Value.Float64s()
			sgdStep(s, lr, first, w, grads[i].Float64s(), s.f64, p.Name)
		}
	}
	return nil
}

func sgdStep[T float32 | float64](s *SGD, lr float64, first bool, w, g []T, bufs buffers[T], name string) {
	if s.momentum == 0 {
		compute.SGDStep(w, g, lr)
		return
	}
	b := bufs.get(s.key(name, "momentum"), len(w))
	compute.MomentumStep(w, g, b, lr, s.momentum, s.dampening, s.nesterov, first)
}

// SetMomentum implements MomentumCycler.
func (s *SGD) SetMomentum(m float64) { s.momentum = m }
