package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// poolLayer takes the maximum or the mean of each window of a
// channel-first input, channel by channel: maxpool2d/avgpool2d on
// (channels, height, width), maxpool1d/avgpool1d on (channels, length).
type poolLayer struct {
	typ        string
	avg        bool
	win        windowSpec
	includePad bool

	resolved ops.Window
}

func poolOf(typ string, dims int, avg bool) func(o *config.Options) Layer {
	return func(o *config.Options) Layer {
		p := &poolLayer{typ: typ, avg: avg, win: readWindow(o, dims, "size", 2, 0, false)}
		if avg {
			p.includePad = o.Bool("include_pad", true)
		}
		return p
	}
}

func (p *poolLayer) Setup(_ *Scope, in Shape) (Shape, error) {
	if err := p.win.checkInput(p.typ, in); err != nil {
		return nil, err
	}
	p.resolved = p.win.resolve(p.win.spatial(in))
	// As in PyTorch: padding beyond half the window would make windows
	// that hold only padding.
	w := p.resolved
	if 2*max(w.PadT, w.PadB) > w.KH || 2*max(w.PadL, w.PadR) > w.KW {
		return nil, fmt.Errorf("padding %s is more than half the window %s", p.win.padText, p.win.dimText(w.KH, w.KW))
	}
	oh, ow, err := p.win.out("window", p.resolved, in)
	if err != nil {
		return nil, err
	}
	return p.win.outShape(in[0], oh, ow), nil
}

func (p *poolLayer) Forward(_ *Graph, x *G.Node) (*G.Node, error) {
	if p.avg {
		return ops.AvgPool(x, p.resolved, p.includePad)
	}
	return ops.MaxPool(x, p.resolved)
}

// FLOPs counts one per window element read.
func (p *poolLayer) FLOPs(_, out Shape) int64 {
	return int64(out.Size()) * int64(p.resolved.KH*p.resolved.KW)
}

// globalAvgPool averages each channel over every spatial position:
// (channels, ...) -> (channels).
type globalAvgPool struct{}

func newGlobalAvgPool(*config.Options) Layer { return globalAvgPool{} }

func (globalAvgPool) Setup(_ *Scope, in Shape) (Shape, error) {
	if len(in) < 2 {
		return nil, fmt.Errorf("global_avgpool needs a (channels, spatial...) input, got %v; "+
			"set data.shape or add {type: reshape, shape: [...]} before it", in)
	}
	return Shape{in[0]}, nil
}

func (globalAvgPool) Forward(_ *Graph, x *G.Node) (*G.Node, error) { return ops.GlobalAvgPool(x) }

// FLOPs counts one per input element.
func (globalAvgPool) FLOPs(in, _ Shape) int64 { return int64(in.Size()) }
