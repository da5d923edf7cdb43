package models

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// linear is PyTorch's nn.Linear on the last axis of a sample of any rank:
// [..., F] becomes [..., units] (each position of a sequence [time, F]
// projected alike), then the activation. Its parameters are nn.Linear's,
// weight [units, F] and bias [units], initialized uniform in ±1/√F as
// PyTorch's unless init is set. On a flat input it computes what dense
// computes, with the weight transposed.
type linear struct {
	units      int
	activation string
	alpha      float64
	useBias    bool
	init       string
	w, b       *Param
	// perPosition: the input has a time axis (or more) before the last.
	perPosition bool
}

func newLinear(o *config.Options) Layer {
	l := &linear{units: o.Int("units", 0), activation: o.String("activation", "none", ops.Activations()...), useBias: o.Bool("bias", true)}
	l.alpha = o.Float("alpha", ops.DefaultAlpha[l.activation])
	switch {
	case !o.Block().Has("units"):
		o.Fail("units", "is required: the size of each position's output")
	case l.units < 1:
		o.Fail("units", "must be >= 1, got %d", l.units)
	}
	return l
}

func (l *linear) setInit(s string) { l.init = s }

func (l *linear) Setup(s *Scope, in Shape) (Shape, error) {
	if len(in) < 1 {
		return nil, shapeErr("linear needs an input with a last axis, got %v", in)
	}
	f := in[len(in)-1]
	l.perPosition = len(in) >= 2
	init := linearInit(f)
	if l.init != "" {
		init = initializers[l.init]
	}
	var err error
	if l.w, err = s.add("weight", Weight, []int{l.units, f}, init, f, l.units); err != nil {
		return nil, err
	}
	if l.useBias {
		if l.b, err = s.add("bias", Bias, []int{l.units}, linearInit(f), f, l.units); err != nil {
			return nil, err
		}
	}
	out := append(Shape(nil), in...)
	out[len(out)-1] = l.units
	return out, nil
}

func (l *linear) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	var b *G.Node
	if l.b != nil {
		b = g.Node(l.b)
	}
	y, err := ops.LinearLastAxis(x, g.Node(l.w), b, g.NeedsGrad(x))
	if err != nil || l.activation == "none" {
		return y, err
	}
	return ops.Activate(y, l.activation, l.alpha)
}

// FLOPs counts one multiply-add per weight and position.
func (l *linear) FLOPs(in, out Shape) int64 {
	return 2 * int64(in.Size()) * int64(out[len(out)-1])
}
