package train

import (
	"math"

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
	for i, p := range params {
		if err := checkPair(p, grads[i]); err != nil {
			return err
		}
		switch p.Value.Dtype() {
		case tensor.Float32:
			w := p.Value.Float32s()
			adagradStep(a, clr, w, grads[i].Float32s(), a.f32, p.Name)
		case tensor.Float64:
			w := p.Value.Float64s()
			adagradStep(a, clr, w, grads[i].Float64s(), a.f64, p.Name)
		}
	}
	return nil
}

func adagradStep[T float32 | float64](a *Adagrad, clr float64, w, g []T, bufs buffers[T], name string) {
	s := bufs.getInit(a.key(name, "sum"), len(w), T(a.init))
	c, eps := T(clr), T(a.eps)
	for j, gj := range g {
		s[j] += gj * gj
		w[j] -= c * gj / (T(math.Sqrt(float64(s[j]))) + eps)
	}
}
