package train

import "github.com/dltrain/dltrain/pkg/config"

// newMomentum is SGD with (heavy-ball) momentum on by default: the preset
// `momentum` is `{kind: sgd, momentum: 0.9}`, with the same options but
// nesterov.
func newMomentum(o *config.Options) Optimizer {
	s := &SGD{
		lr:        o.Float("lr", 0.01),
		momentum:  o.Float("momentum", 0.9),
		dampening: o.Float("dampening", 0),
		state:     newState(),
	}
	o.Positive("momentum", s.momentum)
	return s.check(o)
}
