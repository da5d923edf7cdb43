package train

import "github.com/dltrain/dltrain/pkg/config"

// newNesterov is SGD with Nesterov momentum (Sutskever et al. 2013, in
// PyTorch's form): the preset `nesterov` is
// `{kind: sgd, momentum: 0.9, nesterov: true}`; it takes lr and momentum.
func newNesterov(o *config.Options) Optimizer {
	s := &SGD{
		lr:       o.Float("lr", 0.01),
		momentum: o.Float("momentum", 0.9),
		nesterov: true,
		state:    newState(),
	}
	o.Positive("momentum", s.momentum)
	return s.check(o)
}
