package train

import (
	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
	"gorgonia.org/tensor"
)

// Adam is Kingma & Ba's optimizer as torch.optim.Adam (without weight
// decay; L2 and decoupled decay are regularization options):
//
//	m ← β₁·m + (1−β₁)·g
//	v ← β₂·v + (1−β₂)·g²
//	θ ← θ − lr·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
type Adam struct {
	lr, beta1, beta2, eps float64
	state
}

var _ Optimizer = (*Adam)(nil)

func newAdam(o *config.Options) Optimizer { return readAdam(o) }

// readAdam reads the options Adam and AdamW share.
func readAdam(o *config.Options) *Adam {
	a := &Adam{lr: o.Float("lr", 0.001), state: newState()}
	betas := o.Floats("betas", []float64{0.9, 0.999})
	a.eps = o.Float("eps", 1e-8)
	o.Positive("lr", a.lr)
	o.Positive("eps", a.eps)
	if len(betas) != 2 {
		o.Fail("betas", "must be two numbers [beta1, beta2], got %d", len(betas))
	} else {
		// beta1 and beta2 (Keras's names, and the GAN literature's
		// "beta1: 0.5") set one of the pair each.
		_, both := o.Block().Opts["betas"]
		for i, k := range []string{"beta1", "beta2"} {
			if _, set := o.Block().Opts[k]; set && both {
				o.Fail(k, "sets what betas sets already: give betas: [beta1, beta2] or beta1/beta2, not both")
			}
			betas[i] = o.Float(k, betas[i])
		}
		a.beta1, a.beta2 = betas[0], betas[1]
		if !(a.beta1 >= 0 && a.beta1 < 1 && a.beta2 >= 0 && a.beta2 < 1) {
			o.Fail("betas", "each must be in [0, 1), got %v", betas)
		}
	}
	return a
}

// LR implements Optimizer.
func (a *Adam) LR() float64 { return a.lr }

// Step implements Optimizer.
func (a *Adam) Step(lr float64, params []*models.Param, grads []*tensor.Dense) error {
	a.steps++
	hp := compute.NewAdamParams(lr, a.beta1, a.beta2, a.eps, a.steps)
	return stepEach(adamArgs{a: a, hp: hp}, params, grads, adamStep[float32], adamStep[float64])
}

// adamArgs is one Adam step's arguments: the optimizer and the step's
// scalars.
type adamArgs struct {
	a  *Adam
	hp compute.AdamParams
}

func adamStep[T compute.Float](u paramUpdate[adamArgs]) error {
	a := u.o.a
	w, g := floatsOf[T](u)
	bufs := buffersOf[T](&a.state)
	compute.AdamStep(w, g, bufs.get(a.key(u.p.Name, "m"), len(w)), bufs.get(a.key(u.p.Name, "v"), len(w)), u.o.hp)
	return nil
}

// SetMomentum implements MomentumCycler: it sets beta1 (bias corrections
// use the current beta1, as torch.optim.Adam).
func (a *Adam) SetMomentum(m float64) { a.beta1 = m }
