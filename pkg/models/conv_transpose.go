package models

import (
	"fmt"
	"slices"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// convTransposeLayer is a transposed convolution over channel-first
// inputs, as PyTorch's nn.ConvTranspose2d and nn.ConvTranspose1d with
// groups 1: conv2d_transpose on (channels, height, width),
// conv1d_transpose on (channels, length). Its kernels W are (channels,
// filters, kh, kw) or (channels, filters, k), PyTorch's layout, so that
// weights map one to one, and its bias b is (filters). Each output axis
// is (in − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1.
type convTransposeLayer struct {
	convLayer       // the options it shares with conv2d and conv1d, read the same way
	outPad    []int // per spatial axis
}

func newConv2DTranspose(o *config.Options) Layer { return newConvTranspose(o, "conv2d_transpose", 2) }

func newConv1DTranspose(o *config.Options) Layer { return newConvTranspose(o, "conv1d_transpose", 1) }

func newConvTranspose(o *config.Options, typ string, dims int) *convTransposeLayer {
	c := &convTransposeLayer{convLayer: *newConv(o, typ, dims)}
	if c.win.same {
		o.Fail("padding", "same is not defined for a transposed convolution; give a number, one per axis, "+
			"or [top, bottom, left, right]: the rows and columns cropped from the output")
	}
	raw := o.Ints("output_padding", []int{0})
	c.outPad = perAxis(o, "output_padding", raw, dims, 0)
	if len(raw) == 0 || slices.Min(raw) < 0 || (len(raw) != 1 && len(raw) != dims) {
		return c // perAxis has said what is wrong
	}
	for i, p := range c.outPad {
		if p >= c.win.stride[i] && p >= c.win.dilation[i] {
			o.Fail("output_padding", "must be smaller than the stride or the dilation of its axis (as in PyTorch); "+
				"got %v with stride %v and dilation %v", c.outPad, c.win.stride, c.win.dilation)
			break
		}
	}
	return c
}

// outPadding is the output padding as (height, width); 1-D has no height.
func (c *convTransposeLayer) outPadding() [2]int {
	if c.win.dims == 1 {
		return [2]int{0, c.outPad[0]}
	}
	return [2]int{c.outPad[0], c.outPad[1]}
}

func (c *convTransposeLayer) Setup(s *Scope, in Shape) (Shape, error) {
	if err := c.win.checkInput(c.typ, in); err != nil {
		return nil, err
	}
	h, wd := c.win.spatial(in)
	c.resolved = c.win.resolve(h, wd)
	oh, ow := c.resolved.TransposedOut(h, wd, c.outPadding())
	if oh < 1 || ow < 1 {
		return nil, fmt.Errorf("the output would be %s: input %v, kernel %s, stride %s, padding %s, "+
			"output_padding %s; lower the padding", c.win.dimText(oh, ow), in,
			c.win.dimText(c.resolved.KH, c.resolved.KW), c.win.dimText(c.resolved.SH, c.resolved.SW), c.win.padText,
			c.win.dimText(c.outPadding()[0], c.outPadding()[1]))
	}
	if c.init != "" {
		s.Init = c.init
	}
	ch, area := in[0], c.resolved.KH*c.resolved.KW
	shape := []int{ch, c.filters, c.resolved.KH, c.resolved.KW}
	if c.win.dims == 1 {
		shape = []int{ch, c.filters, c.resolved.KW}
	}
	// PyTorch takes the fans of a (channels, filters, ...) weight as
	// fan-in = filters × kernel area, fan-out = channels × kernel area.
	var err error
	if c.w, err = s.Weight("W", shape, c.filters*area, ch*area); err != nil {
		return nil, err
	}
	if c.useBias {
		if c.b, err = s.Bias("b", []int{c.filters}, c.filters*area); err != nil {
			return nil, err
		}
	}
	return c.win.outShape(c.filters, oh, ow), nil
}

func (c *convTransposeLayer) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	var b *G.Node
	if c.b != nil {
		b = g.Node(c.b)
	}
	return ops.ConvTransposeAct(x, g.Node(c.w), b, c.resolved, c.outPadding(), c.activation, c.alpha, g.NeedsGrad(x))
}

// FLOPs counts two per multiply-add: every input element times every
// kernel tap of every filter.
func (c *convTransposeLayer) FLOPs(in, _ Shape) int64 {
	return 2 * int64(in.Size()) * int64(c.filters) * int64(c.resolved.KH*c.resolved.KW)
}
