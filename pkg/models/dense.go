package models

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// dense is a fully connected layer y = act(x·W + b) on flat inputs, or on
// every position of a sequence [time, features] alike (as PyTorch's
// nn.Linear and Keras' Dense on the last axis). units: auto, on the last
// layer of a model only, takes the size the data asks of the output
// (classes, vocabulary or targets; see autoUnits).
type dense struct {
	units      int
	auto       bool // units: auto, not yet resolved by autoUnits
	activation string
	alpha      float64
	useBias    bool
	init       string
	w, b       *Param
	// perPosition: the input is a sequence, each position projected alike.
	perPosition bool
}

func newDense(o *config.Options) Layer {
	d := &dense{activation: o.String("activation", "none", ops.Activations()...), useBias: o.Bool("bias", true)}
	if v, ok := o.Block().Opts["units"].(string); ok && v == "auto" {
		d.auto = o.String("units", "") == "auto"
	} else {
		d.units = o.Int("units", 0)
	}
	d.alpha = o.Float("alpha", ops.DefaultAlpha[d.activation])
	switch {
	case !o.Block().Has("units"):
		o.Fail("units", "is required: the number of output units (or auto on the last layer: the size the data asks for)")
	case !d.auto && d.units < 1:
		o.Fail("units", "must be >= 1 or auto, got %d", d.units)
	}
	return d
}

func (d *dense) setInit(s string) { d.init = s }

// autoSize implements autoSized.
func (d *dense) autoSize() bool { return d.auto }

// setAutoSize implements autoSized.
func (d *dense) setAutoSize(n int) { d.units, d.auto = n, false }

func (d *dense) Setup(s *Scope, in Shape) (Shape, error) {
	if d.auto {
		return nil, shapeErr("units: auto applies only to the last layer of a model, where the data gives the size; give a number here")
	}
	if len(in) != 1 && len(in) != 2 {
		return nil, shapeErr("dense needs a flat input (features) or a sequence (time, features), got %v; add {type: flatten} before it to make it (%d)", in, in.Size())
	}
	if d.init != "" {
		s.Init = d.init
	}
	f := in[len(in)-1]
	d.perPosition = len(in) == 2
	var err error
	if d.w, err = s.Weight("W", []int{f, d.units}, f, d.units); err != nil {
		return nil, err
	}
	if d.useBias {
		if d.b, err = s.Bias("b", []int{d.units}, f); err != nil {
			return nil, err
		}
	}
	out := append(Shape(nil), in...)
	out[len(out)-1] = d.units
	return out, nil
}

func (d *dense) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	var b *G.Node
	if d.b != nil {
		b = g.Node(d.b)
	}
	if x.Dims() > 2 { // [batch, time, features]: every position alike, one product
		return ops.DenseLastAxis(x, g.Node(d.w), b, d.activation, d.alpha, g.NeedsGrad(x))
	}
	// One fused op where the activation allows it (ops.Dense).
	return ops.Dense(x, g.Node(d.w), b, d.activation, d.alpha, g.NeedsGrad(x))
}

func (d *dense) FLOPs(in, out Shape) int64 {
	return 2 * int64(in.Size()) * int64(out[len(out)-1])
}
