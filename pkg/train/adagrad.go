package train

import (
	"math"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
	"gorgonia.org/tensor"
)

// Adagrad is Duchi et al.'s optimizer as torch.optim.Adagrad (without
// weight decay, a regularization option):
//
//	lrₜ = lr / (1 + (t−1)·lr_decay)
//	s ← s + g²          (s starts at initial_accumulator_value)
//	θ ← θ − lrₜ·g/(√s + ε)
type Adagrad struct {
	lr, lrDecay, init, eps float64
	state
}

var _ Optimizer = (*Adagrad)(nil)

func newAdagrad(o *config.Options) Optimizer {
	a := &Adagrad{
		lr:      o.Float("lr", 0.01),
		lrDecay: o.Float("lr_decay", 0),
		init:    o.Float("initial_accumulator_value", 0),
		eps:     o.Float("eps", 1e-10),
		state:   newState(),
	}
	o.Positive("lr", a.lr)
	o.NonNegative("lr_decay", a.lrDecay)
	o.NonNegative("initial_accumulator_value", a.init)
	o.Positive("eps", a.eps)
	return a
}

// LR implements Optimizer.
func (a *Adagrad) LR() float64 { return a.lr }

// Step implements Optimizer.
func (a *Adagrad) Step(lr float64, params []*models.Param, grads []*tensor.Dense) error {
	a.steps++
	clr := lr / (1 + float64(a.steps-1)*a.lrDecay)
	return stepEach(adagradArgs{a: a, clr: clr}, params, grads, adagradStep[float32], adagradStep[float64])
}

// adagradArgs is one Adagrad step's arguments: the optimizer and the
// step's decayed learning rate.
type adagradArgs struct {
	a   *Adagrad
	clr float64
}

func adagradStep[T compute.Float](u paramUpdate[adagradArgs]) error {
	a := u.o.a
	w, g := floatsOf[T](u)
	s := buffersOf[T](&a.state).getInit(a.key(u.p.Name, "sum"), len(w), T(a.init))
	c, eps := T(u.o.clr), T(a.eps)
	for j, gj := range g {
		s[j] += gj * gj
		w[j] -= c * gj / (T(math.Sqrt(float64(s[j]))) + eps)
	}
	return nil
}
