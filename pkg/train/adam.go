package train

import (
	"math"

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
	t := float64(a.steps)
	bc1 := 1 - math.Pow(a.beta1, t)
	bc2 := 1 - math.Pow(a.beta2, t)
	// PyTorch's form: θ −= (lr/bc1)·m / (√v/√bc2 + ε).
	stepSize := lr / bc1
	invSqrtBC2 := 1 / math.Sqrt(bc2)
	for i, p := range params {
		if err := checkPair(p, grads[i]); err != nil {
			return err
		}
		switch w := p.Value.Data().(type) {
		case []float32:
			adamStep(a, stepSize, invSqrtBC2, w, grads[i].Data().([]float32), a.f32, p.Name)
		case []float64:
			adamStep(a, stepSize, invSqrtBC2, w, grads[i].Data().([]float64), a.f64, p.Name)
		}
	}
	return nil
}

func adamStep[T float32 | float64](a *Adam, stepSize, invSqrtBC2 float64, w, g []T, bufs buffers[T], name string) {
	m := bufs.get(name+"/m", len(w))
	v := bufs.get(name+"/v", len(w))
	b1, b2 := T(a.beta1), T(a.beta2)
	c1, c2 := 1-b1, 1-b2
	ss, ib, eps := T(stepSize), T(invSqrtBC2), T(a.eps)
	for j, gj := range g {
		m[j] = b1*m[j] + c1*gj
		v[j] = b2*v[j] + c2*gj*gj
		w[j] -= ss * m[j] / (T(math.Sqrt(float64(v[j])))*ib + eps)
	}
}
