package train

import "github.com/dltrain/dltrain/pkg/config"

// AdamW is Adam with decoupled weight decay (Loshchilov & Hutter), as
// torch.optim.AdamW: before each Adam update, every decayed parameter is
// shrunk by θ ← θ − lr·λ·θ. The decay is applied by the training loop
// (Decayer), with the regularization's exclusions (biases and
// normalization parameters by default).
type AdamW struct {
	*Adam
	weightDecay float64
}

var (
	_ Optimizer = (*AdamW)(nil)
	_ Decayer   = (*AdamW)(nil)
)

func newAdamW(o *config.Options) Optimizer {
	a := &AdamW{Adam: readAdam(o), weightDecay: o.Float("weight_decay", 0.01)}
	o.NonNegative("weight_decay", a.weightDecay)
	return a
}

// WeightDecay implements Decayer.
func (a *AdamW) WeightDecay() float64 { return a.weightDecay }
