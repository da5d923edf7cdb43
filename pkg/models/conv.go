package models

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// convLayer is a convolution over channel-first inputs: conv2d on
// (channels, height, width), conv1d on (channels, length). Its kernels W
// are (filters, channels, kh, kw) or (filters, channels, k), as in
// PyTorch, and its bias b is (filters).
type convLayer struct {
	typ        string
	filters    int
	win        windowSpec
	useBias    bool
	activation string
	alpha      float64
	init       string

	resolved ops.Window
	w, b     *Param
}

func newConv2D(o *config.Options) Layer { return newConv(o, "conv2d", 2) }

func newConv1D(o *config.Options) Layer { return newConv(o, "conv1d", 1) }

func newConv(o *config.Options, typ string, dims int) *convLayer {
	c := &convLayer{
		typ:        typ,
		filters:    o.Int("filters", 0),
		win:        readWindow(o, dims, "kernel", 0, 1, true),
		useBias:    o.Bool("bias", true),
		activation: o.String("activation", "none", ops.Activations()...),
	}
	c.alpha = o.Float("alpha", ops.DefaultAlpha[c.activation])
	if c.filters < 1 {
		o.Fail("filters", "must be >= 1, got %d", c.filters)
	}
	return c
}

func (c *convLayer) setInit(s string) { c.init = s }

func (c *convLayer) Setup(s *Scope, in Shape) (Shape, error) {
	if err := c.win.checkInput(c.typ, in); err != nil {
		return nil, err
	}
	c.resolved = c.win.resolve(c.win.spatial(in))
	oh, ow, err := c.win.out("kernel", c.resolved, in)
	if err != nil {
		return nil, err
	}
	if c.init != "" {
		s.Init = c.init
	}
	ch, area := in[0], c.resolved.KH*c.resolved.KW
	shape := []int{c.filters, ch, c.resolved.KH, c.resolved.KW}
	if c.win.dims == 1 {
		shape = []int{c.filters, ch, c.resolved.KW}
	}
	if c.w, err = s.Weight("W", shape, ch*area, c.filters*area); err != nil {
		return nil, err
	}
	if c.useBias {
		if c.b, err = s.Bias("b", []int{c.filters}, ch*area); err != nil {
			return nil, err
		}
	}
	return c.win.outShape(c.filters, oh, ow), nil
}

func (c *convLayer) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	var b *G.Node
	if c.b != nil {
		b = g.Node(c.b)
	}
	return ops.ConvAct(x, g.Node(c.w), b, c.resolved, c.activation, c.alpha, g.NeedsGrad(x))
}

// FLOPs counts two per multiply-add of the kernels.
func (c *convLayer) FLOPs(in, out Shape) int64 {
	return 2 * int64(in[0]) * int64(c.resolved.KH*c.resolved.KW) * int64(out.Size())
}
