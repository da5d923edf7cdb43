package models

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// activationLayer applies an element-wise activation (or softmax over the
// last axis) as a layer of its own: {type: relu} or {type: activation, fn: relu}.
type activationLayer struct {
	fn    string
	alpha float64
}

func newActivation(o *config.Options) Layer {
	fn := o.String("fn", "relu", ops.Activations()...)
	return &activationLayer{fn: fn, alpha: o.Float("alpha", ops.DefaultAlpha[fn])}
}

func activationOf(fn string) func(o *config.Options) Layer {
	return func(o *config.Options) Layer {
		a := &activationLayer{fn: fn, alpha: ops.DefaultAlpha[fn]}
		if _, ok := ops.DefaultAlpha[fn]; ok {
			a.alpha = o.Float("alpha", a.alpha)
		}
		return a
	}
}

func (a *activationLayer) Setup(_ *Scope, in Shape) (Shape, error) { return in, nil }

func (a *activationLayer) Forward(_ *Graph, x *G.Node) (*G.Node, error) {
	return ops.Activate(x, a.fn, a.alpha)
}

// FLOPs counts one per element.
func (a *activationLayer) FLOPs(in, _ Shape) int64 { return int64(in.Size()) }
