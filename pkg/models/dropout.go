package models

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// dropoutLayer zeroes each unit with probability rate in training, scaling
// the kept ones by 1/(1−rate); evaluation graphs leave it out.
type dropoutLayer struct{ rate float64 }

func newDropout(o *config.Options) Layer {
	d := &dropoutLayer{rate: o.Float("rate", 0.5)}
	if !(d.rate >= 0 && d.rate < 1) {
		o.Fail("rate", "must be in [0, 1), got %v", d.rate)
	}
	return d
}

func (d *dropoutLayer) Setup(_ *Scope, in Shape) (Shape, error) { return in, nil }

func (d *dropoutLayer) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	if !g.Train || d.rate == 0 {
		return x, nil
	}
	st := &ops.DropoutState{Rate: d.rate, Group: 1, RNG: g.DropoutRNG, Frozen: g.FreezeDropout}
	g.Dropouts = append(g.Dropouts, st)
	return ops.Dropout(x, st)
}
