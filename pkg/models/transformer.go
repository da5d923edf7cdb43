package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// transformerEncoder is a stack of PyTorch's nn.TransformerEncoderLayer
// (batch_first=True) on a sequence [time, dim]: each layer is
// self-attention and a feed-forward network (linear1 [ff, dim],
// activation, linear2 [dim, ff]), each with dropout, a residual join and
// a layer norm, after the join (norm: post, PyTorch's default) or before
// the sublayer (norm: pre, norm_first=True). Parameters carry
// nn.TransformerEncoder's names (layers.0.self_attn.in_proj_weight, ...,
// layers.0.norm2.bias) and shapes, so weights map one to one. causal masks
// attention to later positions (a decoder-only language model); key_mask:
// NAME reads a key-padding mask [time] per sample (1 keep, 0 pad).
type transformerEncoder struct {
	layers, heads, ff int
	dropout, eps      float64
	norm, activation  string
	causal            bool
	keyMask           string
	init              string
	w                 []encoderParams
}

// encoderParams are one nn.TransformerEncoderLayer's parameters.
type encoderParams struct {
	attn                                 attnParams
	linear1, linear1b, linear2, linear2b *Param
	norm1, norm1b, norm2, norm2b         *Param
}

func newTransformerEncoder(o *config.Options) Layer { return newTransformerOpts(o, false) }

// newTransformerOpts reads the options encoder and decoder stacks share;
// causal is the default of causal.
func newTransformerOpts(o *config.Options, causal bool) *transformerEncoder {
	e := &transformerEncoder{
		layers: o.Int("layers", 1), heads: o.Int("heads", 0), ff: o.Int("ff", 0),
		dropout: o.Float("dropout", 0.1), eps: o.Float("eps", 1e-5),
		norm:       o.String("norm", "post", "post", "pre"),
		activation: o.String("activation", "relu", "relu", "gelu"),
		causal:     o.Bool("causal", causal), keyMask: o.String("key_mask", maskAuto),
	}
	if e.layers < 1 {
		o.Fail("layers", "must be >= 1 (stacked encoder layers), got %d", e.layers)
	}
	requireHeads(o, e.heads)
	switch {
	case !o.Block().Has("ff"):
		o.Fail("ff", "is required: the feed-forward network's width (PyTorch's dim_feedforward), e.g. 4 × the model dimension")
	case e.ff < 1:
		o.Fail("ff", "must be >= 1, got %d", e.ff)
	}
	if !(e.dropout >= 0 && e.dropout < 1) {
		o.Fail("dropout", "must be in [0, 1), got %v", e.dropout)
	}
	o.Positive("eps", e.eps)
	return e
}

func (e *transformerEncoder) setInit(s string) { e.init = s }

func (e *transformerEncoder) Setup(s *Scope, in Shape) (Shape, error) {
	d, err := sequenceDim("transformer_encoder", in, e.heads)
	if err != nil {
		return nil, err
	}
	e.w = make([]encoderParams, e.layers)
	for l := range e.w {
		if err := e.w[l].declare(s, fmt.Sprintf("layers.%d.", l), d, e.ff, e.init); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// declare adds one encoder layer's parameters in PyTorch's order, with
// PyTorch's initialization unless init names an initializer for the
// weights.
func (p *encoderParams) declare(s *Scope, prefix string, d, ff int, init string) error {
	if err := p.attn.declare(s, prefix+"self_attn.", d, init); err != nil {
		return err
	}
	return p.declareFeedForward(s, prefix, d, ff, init)
}

// declareFeedForward adds linear1, linear2, norm1 and norm2, in that
// order, as declare does after the self-attention.
func (p *encoderParams) declareFeedForward(s *Scope, prefix string, d, ff int, init string) error {
	pick := func(fanIn int, weight bool) Initializer {
		if weight && init != "" {
			return initializers[init]
		}
		return linearInit(fanIn)
	}
	decl := []struct {
		p      **Param
		name   string
		role   Role
		shape  []int
		init   Initializer
		fanIn  int
		fanOut int
	}{
		{&p.linear1, "linear1.weight", Weight, []int{ff, d}, pick(d, true), d, ff},
		{&p.linear1b, "linear1.bias", Bias, []int{ff}, pick(d, false), d, ff},
		{&p.linear2, "linear2.weight", Weight, []int{d, ff}, pick(ff, true), ff, d},
		{&p.linear2b, "linear2.bias", Bias, []int{d}, pick(ff, false), ff, d},
		{&p.norm1, "norm1.weight", Norm, []int{d}, initializers["ones"], 0, 0},
		{&p.norm1b, "norm1.bias", Norm, []int{d}, initializers["zeros"], 0, 0},
		{&p.norm2, "norm2.weight", Norm, []int{d}, initializers["ones"], 0, 0},
		{&p.norm2b, "norm2.bias", Norm, []int{d}, initializers["zeros"], 0, 0},
	}
	for _, q := range decl {
		var err error
		if *q.p, err = s.add(prefix+q.name, q.role, q.shape, q.init, q.fanIn, q.fanOut); err != nil {
			return err
		}
	}
	return nil
}

func (e *transformerEncoder) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	keep, err := keyMaskOf(g, e.keyMask, x)
	if err != nil {
		return nil, err
	}
	h := x
	for l := range e.w {
		if h, err = e.layer(g, &e.w[l], h, keep); err != nil {
			return nil, fmt.Errorf("transformer_encoder layer %d: %w", l, err)
		}
	}
	return h, nil
}

// layer is one nn.TransformerEncoderLayer:
// post: h = norm1(x + drop(attn(x))); y = norm2(h + drop(ff(h)))
// pre:  h = x + drop(attn(norm1(x))); y = h + drop(ff(norm2(h)))
// with ff(z) = linear2(drop(act(linear1(z)))).
func (e *transformerEncoder) layer(g *Graph, p *encoderParams, x, keep *G.Node) (*G.Node, error) {
	wrtX := g.NeedsGrad(x)
	norm := func(z, gamma, beta *G.Node, wrt bool) (*G.Node, error) {
		return ops.LayerNorm(z, gamma, beta, e.eps, wrt)
	}
	a := x
	var err error
	if e.norm == "pre" {
		if a, err = norm(x, g.Node(p.norm1), g.Node(p.norm1b), wrtX); err != nil {
			return nil, err
		}
	}
	if a, err = p.attn.apply(g, a, nil, keep, e.heads, e.causal, e.dropout); err != nil {
		return nil, err
	}
	if a, err = e.drop(g, a); err != nil {
		return nil, err
	}
	h, err := ops.Add(x, a)
	if err != nil {
		return nil, err
	}
	if e.norm == "post" {
		if h, err = norm(h, g.Node(p.norm1), g.Node(p.norm1b), true); err != nil {
			return nil, err
		}
	}
	f := h
	if e.norm == "pre" {
		if f, err = norm(h, g.Node(p.norm2), g.Node(p.norm2b), true); err != nil {
			return nil, err
		}
	}
	if f, err = e.feedForward(g, p, f); err != nil {
		return nil, err
	}
	y, err := ops.Add(h, f)
	if err != nil || e.norm == "pre" {
		return y, err
	}
	return norm(y, g.Node(p.norm2), g.Node(p.norm2b), true)
}

// feedForward is drop(linear2(drop(act(linear1(z))))).
func (e *transformerEncoder) feedForward(g *Graph, p *encoderParams, z *G.Node) (*G.Node, error) {
	f, err := e.feedForwardInner(g, p, z)
	if err != nil {
		return nil, err
	}
	return e.drop(g, f)
}

// feedForwardInner is linear2(drop(act(linear1(z)))): the feed-forward
// without its output dropout.
func (e *transformerEncoder) feedForwardInner(g *Graph, p *encoderParams, z *G.Node) (*G.Node, error) {
	f, err := ops.LinearLastAxis(z, g.Node(p.linear1), g.Node(p.linear1b), true)
	if err != nil {
		return nil, err
	}
	if f, err = ops.Activate(f, e.activation, 0); err != nil {
		return nil, err
	}
	if f, err = e.drop(g, f); err != nil {
		return nil, err
	}
	return ops.LinearLastAxis(f, g.Node(p.linear2), g.Node(p.linear2b), true)
}

// drop is the layer's dropout: in training graphs with a rate above 0.
func (e *transformerEncoder) drop(g *Graph, x *G.Node) (*G.Node, error) {
	if !g.Train || e.dropout == 0 {
		return x, nil
	}
	st := &ops.DropoutState{Rate: e.dropout, Group: 1, RNG: g.DropoutRNG, Frozen: g.FreezeDropout}
	g.Dropouts = append(g.Dropouts, st)
	return ops.Dropout(x, st)
}

// FLOPs counts, per layer, the attention and the feed-forward products.
func (e *transformerEncoder) FLOPs(in, _ Shape) int64 {
	t, d := int64(in[0]), int64(in[1])
	return int64(e.layers) * (attentionFLOPs(t, d) + 2*2*t*d*int64(e.ff))
}
