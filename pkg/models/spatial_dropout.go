package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// spatialDropout zeroes whole channels of a channel-first input with
// probability rate in training (PyTorch's Dropout1d/2d, Keras'
// SpatialDropout), scaling the kept ones by 1/(1−rate); evaluation graphs
// leave it out. Neighbouring pixels are strongly correlated, so dropping
// single pixels regularizes a convolution little.
type spatialDropout struct {
	rate  float64
	group int // elements per channel, set at Setup
}

func newSpatialDropout(o *config.Options) Layer {
	d := &spatialDropout{rate: o.Float("rate", 0.5)}
	if !(d.rate >= 0 && d.rate < 1) {
		o.Fail("rate", "must be in [0, 1), got %v", d.rate)
	}
	return d
}

func (d *spatialDropout) Setup(_ *Scope, in Shape) (Shape, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("spatial_dropout needs a (channels, spatial...) input, got %v; use dropout on flat inputs", in)
	}
	d.group = Shape(in[1:]).Size()
	return in, nil
}

func (d *spatialDropout) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	if !g.Train || d.rate == 0 {
		return x, nil
	}
	st := &ops.DropoutState{Rate: d.rate, Group: d.group, RNG: g.DropoutRNG, Frozen: g.FreezeDropout}
	g.Dropouts = append(g.Dropouts, st)
	return ops.Dropout(x, st)
}
