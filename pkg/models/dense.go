package models

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// dense is a fully connected layer y = act(x·W + b) on flat inputs.
type dense struct {
	units      int
	activation string
	alpha      float64
	useBias    bool
	init       string
	w, b       *Param
}

func newDense(o *config.Options) Layer {
	d := &dense{
		units:      o.Int("units", 0),
		activation: o.String("activation", "none", ops.Activations()...),
		useBias:    o.Bool("bias", true),
	}
	d.alpha = o.Float("alpha", ops.DefaultAlpha[d.activation])
	switch {
	case !o.Block().Has("units"):
		o.Fail("units", "is required: the number of output units")
	case d.units < 1:
		o.Fail("units", "must be >= 1, got %d", d.units)
	}
	return d
}

func (d *dense) setInit(s string) { d.init = s }

func (d *dense) Setup(s *Scope, in Shape) (Shape, error) {
	if len(in) != 1 {
		return nil, shapeErr("dense needs a flat input (features), got %v; add {type: flatten} before it to make it (%d)", in, in.Size())
	}
	if d.init != "" {
		s.Init = d.init
	}
	var err error
	if d.w, err = s.Weight("W", []int{in[0], d.units}, in[0], d.units); err != nil {
		return nil, err
	}
	if d.useBias {
		if d.b, err = s.Bias("b", []int{d.units}); err != nil {
			return nil, err
		}
	}
	return Shape{d.units}, nil
}

func (d *dense) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	var b *G.Node
	if d.b != nil {
		b = g.Node(d.b)
	}
	// One fused op where the activation allows it (ops.Dense).
	return ops.Dense(x, g.Node(d.w), b, d.activation, d.alpha, g.NeedsGrad(x))
}

func (d *dense) FLOPs(in, out Shape) int64 { return 2 * int64(in.Size()) * int64(out.Size()) }
