package train

import (
	"math"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
	"gorgonia.org/tensor"
)

// RMSprop is Hinton's RMSprop as torch.optim.RMSprop (without weight
// decay, a regularization option):
//
//	v ← α·v + (1−α)·g²
//	centered: ḡ ← α·ḡ + (1−α)·g;  ṽ = v − ḡ²   else ṽ = v
//	momentum μ > 0: b ← μ·b + g/(√ṽ + ε);  θ ← θ − lr·b
//	otherwise:       θ ← θ − lr·g/(√ṽ + ε)
type RMSprop struct {
	lr, alpha, eps, momentum float64
	centered                 bool
	state
}

var _ Optimizer = (*RMSprop)(nil)

func newRMSprop(o *config.Options) Optimizer {
	r := &RMSprop{
		lr:       o.Float("lr", 0.01),
		alpha:    o.Float("alpha", 0.99),
		eps:      o.Float("eps", 1e-8),
		momentum: o.Float("momentum", 0),
		centered: o.Bool("centered", false),
		state:    newState(),
	}
	o.Positive("lr", r.lr)
	o.Range("alpha", r.alpha, 0, 1)
	o.Positive("eps", r.eps)
	o.Range("momentum", r.momentum, 0, 1)
	return r
}

// LR implements Optimizer.
func (r *RMSprop) LR() float64 { return r.lr }

// Step implements Optimizer.
func (r *RMSprop) Step(lr float64, params []*models.Param, grads []*tensor.Dense) error {
	r.steps++
	return stepEach(rmspropArgs{r: r, lr: lr}, params, grads, rmspropStep[float32], rmspropStep[float64])
}

// rmspropArgs is one RMSprop step's arguments.
type rmspropArgs struct {
	r  *RMSprop
	lr float64
}

func rmspropStep[T compute.Float](u paramUpdate[rmspropArgs]) error {
	r, name := u.o.r, u.p.Name
	w, g := floatsOf[T](u)
	bufs := buffersOf[T](&r.state)
	v := bufs.get(r.key(name, "square_avg"), len(w))
	var avg, b []T
	if r.centered {
		avg = bufs.get(r.key(name, "grad_avg"), len(w))
	}
	if r.momentum > 0 {
		b = bufs.get(r.key(name, "momentum"), len(w))
	}
	alpha, c := T(r.alpha), T(1-r.alpha)
	a, eps, mu := T(u.o.lr), T(r.eps), T(r.momentum)
	for j, gj := range g {
		v[j] = alpha*v[j] + c*gj*gj
		vt := v[j]
		if avg != nil {
			avg[j] = alpha*avg[j] + c*gj
			vt -= avg[j] * avg[j]
		}
		d := gj / (T(math.Sqrt(float64(vt))) + eps)
		if b != nil {
			b[j] = mu*b[j] + d
			d = b[j]
		}
		w[j] -= a * d
	}
	return nil
}

// SetMomentum implements MomentumCycler.
func (r *RMSprop) SetMomentum(m float64) { r.momentum = m }
