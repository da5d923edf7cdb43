package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// transformerDecoder is a stack of PyTorch's nn.TransformerDecoderLayer
// (batch_first=True) on a target sequence [time, dim]: each layer is
// masked self-attention, cross-attention whose keys and values are the
// memory (the encoder's output, a named tensor [time', dim]) and a
// feed-forward network, each with dropout, a residual join and a layer
// norm, after the join (norm: post, PyTorch's default) or before the
// sublayer (norm: pre, norm_first=True). Parameters carry
// nn.TransformerDecoder's names (layers.0.self_attn.in_proj_weight,
// layers.0.multihead_attn.*, linear1, linear2, norm1..norm3) and shapes,
// so weights map one to one. causal (the default: a decoder predicts
// each token from the ones before it) is PyTorch's tgt_mask of
// nn.Transformer.generate_square_subsequent_mask; memory_key_mask: NAME
// reads a key-padding mask [time'] of the memory per sample (1 keep, 0
// pad), key_mask: NAME one of the target.
type transformerDecoder struct {
	enc       transformerEncoder // the options both stacks share, and the feed-forward and dropout helpers
	memory    string             // the memory's tensor
	memoryKey string             // the memory's key-padding mask; "" for none
	w         []decoderParams
}

// decoderParams are one nn.TransformerDecoderLayer's parameters: the
// encoder layer's (self-attention, feed-forward, norm1 and norm2) and the
// cross-attention with its norm3.
type decoderParams struct {
	encoderParams
	cross         attnParams
	norm3, norm3b *Param
}

func newTransformerDecoder(o *config.Options) Layer {
	d := &transformerDecoder{memory: o.String("memory", ""), memoryKey: o.String("memory_key_mask", "")}
	d.enc = *newTransformerOpts(o, true)
	if d.memory == "" {
		o.Fail("memory", "is required: the name of the tensor the decoder attends to (the encoder's output), e.g. memory: x to attend to the model's input")
	}
	return d
}

func (d *transformerDecoder) setInit(s string) { d.enc.init = s }

func (d *transformerDecoder) Setup(s *Scope, in Shape) (Shape, error) {
	dim, err := sequenceDim("transformer_decoder", in, d.enc.heads)
	if err != nil {
		return nil, err
	}
	d.w = make([]decoderParams, d.enc.layers)
	for l := range d.w {
		if err := d.w[l].declare(s, fmt.Sprintf("layers.%d.", l), dim, d.enc.ff, d.enc.init); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// declare adds one decoder layer's parameters in PyTorch's order:
// self_attn, multihead_attn, linear1, linear2, norm1, norm2, norm3.
func (p *decoderParams) declare(s *Scope, prefix string, d, ff int, init string) error {
	if err := p.attn.declare(s, prefix+"self_attn.", d, init); err != nil {
		return err
	}
	if err := p.cross.declare(s, prefix+"multihead_attn.", d, init); err != nil {
		return err
	}
	if err := p.declareFeedForward(s, prefix, d, ff, init); err != nil {
		return err
	}
	var err error
	if p.norm3, err = s.add(prefix+"norm3.weight", Norm, []int{d}, initializers["ones"], 0, 0); err != nil {
		return err
	}
	p.norm3b, err = s.add(prefix+"norm3.bias", Norm, []int{d}, initializers["zeros"], 0, 0)
	return err
}

func (d *transformerDecoder) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	mem, err := g.Tensor(d.memory)
	if err != nil {
		return nil, fmt.Errorf("transformer_decoder memory: %w", err)
	}
	keep, err := keyMaskOf(g, d.enc.keyMask, x)
	if err != nil {
		return nil, err
	}
	memKeep, err := keyMaskOf(g, d.memoryKey, mem)
	if err != nil {
		return nil, fmt.Errorf("memory_%w", err)
	}
	h := x
	for l := range d.w {
		if h, err = d.layer(g, &d.w[l], h, mem, keep, memKeep); err != nil {
			return nil, fmt.Errorf("transformer_decoder layer %d: %w", l, err)
		}
	}
	return h, nil
}

// layer is one nn.TransformerDecoderLayer:
// post: h = norm1(x + drop(sa(x))); k = norm2(h + drop(ca(h, m))); y = norm3(k + drop(ff(k)))
// pre:  h = x + drop(sa(norm1(x))); k = h + drop(ca(norm2(h), m)); y = k + drop(ff(norm3(k)))
// with ff(z) = linear2(drop(act(linear1(z)))); the memory m is not normed.
func (d *transformerDecoder) layer(g *Graph, p *decoderParams, x, mem, keep, memKeep *G.Node) (*G.Node, error) {
	e := &d.enc
	sub := func(x *G.Node, gamma, beta *Param, f func(*G.Node) (*G.Node, error)) (*G.Node, error) {
		a := x
		var err error
		if e.norm == "pre" {
			if a, err = ops.LayerNorm(x, g.Node(gamma), g.Node(beta), e.eps, g.NeedsGrad(x)); err != nil {
				return nil, err
			}
		}
		if a, err = f(a); err != nil {
			return nil, err
		}
		if a, err = e.drop(g, a); err != nil {
			return nil, err
		}
		y, err := ops.Add(x, a)
		if err != nil || e.norm == "pre" {
			return y, err
		}
		return ops.LayerNorm(y, g.Node(gamma), g.Node(beta), e.eps, true)
	}
	h, err := sub(x, p.norm1, p.norm1b, func(z *G.Node) (*G.Node, error) {
		return p.attn.apply(g, z, nil, keep, e.heads, e.causal, e.dropout)
	})
	if err != nil {
		return nil, err
	}
	k, err := sub(h, p.norm2, p.norm2b, func(z *G.Node) (*G.Node, error) {
		return p.cross.apply(g, z, mem, memKeep, e.heads, false, e.dropout)
	})
	if err != nil {
		return nil, err
	}
	return sub(k, p.norm3, p.norm3b, func(z *G.Node) (*G.Node, error) {
		return e.feedForwardInner(g, &p.encoderParams, z)
	})
}

// FLOPs counts, per layer, the self-attention, the cross-attention (over
// as many memory positions as target positions, the memory's length not
// being known here) and the feed-forward products.
func (d *transformerDecoder) FLOPs(in, _ Shape) int64 {
	t, dim := int64(in[0]), int64(in[1])
	return int64(d.enc.layers) * (2*attentionFLOPs(t, dim) + 2*2*t*dim*int64(d.enc.ff))
}
