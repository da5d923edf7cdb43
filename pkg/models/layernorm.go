package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// layerNorm normalizes each sample over its last axes (PyTorch's
// LayerNorm with normalized_shape = those axes), then scales and shifts
// element by element. It behaves the same in training and evaluation.
type layerNorm struct {
	axes int
	eps  float64

	gamma, beta *Param
}

func newLayerNorm(o *config.Options) Layer {
	l := &layerNorm{axes: o.Int("axes", 1), eps: o.Float("eps", 1e-5)}
	if l.axes < 1 {
		o.Fail("axes", "must be >= 1, got %d", l.axes)
	}
	o.Positive("eps", l.eps)
	return l
}

func (l *layerNorm) Setup(s *Scope, in Shape) (Shape, error) {
	if l.axes > len(in) {
		return nil, fmt.Errorf("layernorm over the last %d axes needs an input with at least %d, got %v", l.axes, l.axes, in)
	}
	norm := append([]int(nil), in[len(in)-l.axes:]...)
	var err error
	if l.gamma, err = s.Add("gamma", Norm, norm, "ones"); err != nil {
		return nil, err
	}
	if l.beta, err = s.Add("beta", Norm, norm, "zeros"); err != nil {
		return nil, err
	}
	return in, nil
}

func (l *layerNorm) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	return ops.LayerNorm(x, g.Node(l.gamma), g.Node(l.beta), l.eps, g.NeedsGrad(x))
}

// FLOPs counts about five operations per element (mean, variance,
// normalize, scale, shift).
func (l *layerNorm) FLOPs(in, _ Shape) int64 { return 5 * int64(in.Size()) }

// learns marks a layer with trainable parameters that has no initializer
// option: trainable: false may freeze its scale and shift.
func (l *layerNorm) learns() {}
