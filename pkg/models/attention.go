package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// attentionLayer is PyTorch's nn.MultiheadAttention(dim, heads,
// dropout, batch_first=True) on a sequence [time, dim]: self-attention on
// its input, or, with input: NAME, cross-attention whose queries are the
// layer's input and whose keys and values are the named tensor [time',
// dim]. causal lets position i attend only to positions ≤ i; key_mask:
// NAME reads a key-padding mask [time'] per sample (1 keep, 0 pad). The
// output has the input's shape.
type attentionLayer struct {
	heads   int
	dropout float64
	causal  bool
	input   string // the keys' and values' tensor; "" for self-attention
	keyMask string // the key-padding mask's tensor; "" for none
	init    string
	w       attnParams
}

func newAttention(o *config.Options) Layer {
	a := &attentionLayer{heads: o.Int("heads", 0), dropout: o.Float("dropout", 0), causal: o.Bool("causal", false),
		input: o.String("input", ""), keyMask: o.String("key_mask", maskAuto)}
	requireHeads(o, a.heads)
	if !(a.dropout >= 0 && a.dropout < 1) {
		o.Fail("dropout", "must be in [0, 1), got %v", a.dropout)
	}
	return a
}

// requireHeads reports a missing or non-positive heads option.
func requireHeads(o *config.Options, heads int) {
	switch {
	case !o.Block().Has("heads"):
		o.Fail("heads", "is required: the number of attention heads, which must divide the model dimension")
	case heads < 1:
		o.Fail("heads", "must be >= 1, got %d", heads)
	}
}

func (a *attentionLayer) setInit(s string) { a.init = s }

func (a *attentionLayer) Setup(s *Scope, in Shape) (Shape, error) {
	d, err := sequenceDim("multihead_attention", in, a.heads)
	if err != nil {
		return nil, err
	}
	if err := a.w.declare(s, "", d, a.init); err != nil {
		return nil, err
	}
	return in, nil
}

// sequenceDim checks that a sample is a sequence [time, dim] whose dim
// the heads divide, and returns dim.
func sequenceDim(typ string, in Shape, heads int) (int, error) {
	if len(in) != 2 {
		return 0, shapeErr("%s needs a sequence [time, dim], got %v; token ids need {type: embedding} first, "+
			"features per step a sequence shape (data.shape: [time, features])", typ, in)
	}
	if in[1]%heads != 0 {
		return 0, shapeErr("%s: heads %d do not divide the dimension %d of its input %v", typ, heads, in[1], in)
	}
	return in[1], nil
}

func (a *attentionLayer) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	var kv *G.Node
	var err error
	if a.input != "" {
		if kv, err = g.Tensor(a.input); err != nil {
			return nil, fmt.Errorf("multihead_attention input: %w", err)
		}
	}
	option := a.keyMask
	if option == maskAuto && a.input != "" {
		option = maskNone // auto is self-attention's: cross-attention's keys are another sequence
	}
	keep, err := keyMaskOf(g, option, x)
	if err != nil {
		return nil, err
	}
	return a.w.apply(g, x, kv, keep, a.heads, a.causal, a.dropout)
}

// keyMaskOf returns the key-padding mask a key_mask option names for
// self-attention on x (mask.go's rule), or nil for none. A named mask of
// cross-attention's keys is checked by the op.
func keyMaskOf(g *Graph, option string, x *G.Node) (*G.Node, error) {
	switch option {
	case maskAuto, maskNone, "":
		return maskFor(g, option, "key_mask", x)
	}
	n, err := g.Tensor(option)
	if err != nil {
		return nil, fmt.Errorf("key_mask: %w", err)
	}
	return n, nil
}

// FLOPs counts the projections and the two products per head (per
// sample, self-attention over T positions).
func (a *attentionLayer) FLOPs(in, _ Shape) int64 { return attentionFLOPs(int64(in[0]), int64(in[1])) }

func attentionFLOPs(t, d int64) int64 { return 2*t*d*3*d + 2*2*t*t*d + 2*t*d*d }

// attnParams are one attention block's parameters, with PyTorch's names
// under prefix: in_proj_weight [3D, D], in_proj_bias [3D],
// out_proj.weight [D, D], out_proj.bias [D].
type attnParams struct{ in, inBias, out, outBias *Param }

// declare adds the parameters, initialized as PyTorch's
// nn.MultiheadAttention (Xavier-uniform input projection, the output
// projection uniform in ±1/√D as nn.Linear's, zero biases) unless init
// names another initializer for the two weights.
func (p *attnParams) declare(s *Scope, prefix string, d int, init string) error {
	inInit := initializers["xavier_uniform"]
	outInit := linearInit(d)
	if init != "" {
		inInit, outInit = initializers[init], initializers[init]
	}
	var err error
	if p.in, err = s.add(prefix+"in_proj_weight", Weight, []int{3 * d, d}, inInit, d, 3*d); err != nil {
		return err
	}
	if p.inBias, err = s.add(prefix+"in_proj_bias", Bias, []int{3 * d}, initializers["zeros"], 0, 0); err != nil {
		return err
	}
	if p.out, err = s.add(prefix+"out_proj.weight", Weight, []int{d, d}, outInit, d, d); err != nil {
		return err
	}
	p.outBias, err = s.add(prefix+"out_proj.bias", Bias, []int{d}, initializers["zeros"], 0, 0)
	return err
}

// linearInit is nn.Linear's initialization for fanIn inputs: uniform in
// ±1/√fanIn (its weights' kaiming_uniform(a=√5), and its biases').
func linearInit(fanIn int) Initializer {
	return func(r *rand.Rand, w []float64, _, _ int) { uniform(r, w, 1/math.Sqrt(float64(fanIn))) }
}

// apply adds the fused attention op; dropout applies in training only.
func (p *attnParams) apply(g *Graph, x, kv, keep *G.Node, heads int, causal bool, dropout float64) (*G.Node, error) {
	a := ops.Attention{Heads: heads, Causal: causal}
	if g.Train && dropout > 0 {
		a.Dropout, a.RNG, a.Frozen = dropout, g.DropoutRNG, g.FreezeDropout
	}
	w := ops.AttentionWeights{In: g.Node(p.in), InBias: g.Node(p.inBias), Out: g.Node(p.out), OutBias: g.Node(p.outBias)}
	wrtKV := kv != nil && g.NeedsGrad(kv)
	y, err := ops.MultiheadAttention(x, kv, w, keep, a, g.NeedsGrad(x), wrtKV)
	if err != nil {
		return nil, fmt.Errorf("multihead_attention: %w", err)
	}
	return y, nil
}
