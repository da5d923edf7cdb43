package models

import (
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// embeddingLayer looks token ids up in a table, PyTorch's nn.Embedding:
// a sample of ids [T] (any shape) becomes [T, dim]. Without vocab, the
// table has a row per id of the data's vocabulary (Scope.Vocab). Its one parameter,
// weight [vocab, dim], is drawn from N(0, 1) as PyTorch's unless init is
// set; the row of padding_id starts at zeros and gets no gradient. An id
// that is not an integer in [0, vocab) is an error of the step that reads
// it, naming the id and its position.
type embeddingLayer struct {
	dim, vocab, padding int
	init                string
	w                   *Param
}

func newEmbedding(o *config.Options) Layer {
	e := &embeddingLayer{dim: o.Int("dim", 0), vocab: o.Int("vocab", 0), padding: o.Int("padding_id", -1)}
	switch {
	case !o.Block().Has("dim"):
		o.Fail("dim", "is required: the size of each token's vector")
	case e.dim < 1:
		o.Fail("dim", "must be >= 1, got %d", e.dim)
	}
	if o.Block().Has("vocab") && e.vocab < 1 { // unset: the data's vocabulary (Scope.Vocab)
		o.Fail("vocab", "must be >= 1, got %d", e.vocab)
	}
	if o.Block().Has("padding_id") && (e.padding < 0 || (e.vocab > 0 && e.padding >= e.vocab)) {
		o.Fail("padding_id", "must be an id in [0, %d) (vocab), got %d", e.vocab, e.padding)
	}
	return e
}

func (e *embeddingLayer) setInit(s string) { e.init = s }

func (e *embeddingLayer) Setup(s *Scope, in Shape) (Shape, error) {
	if len(in) < 1 {
		return nil, shapeErr("embedding needs token ids [time], got a scalar sample %v", in)
	}
	if e.vocab == 0 {
		if s.Vocab == 0 {
			return nil, shapeErr("embedding: vocab is not set and the data's inputs %v are not token ids with a vocabulary (text with data.text.encoding: index); set vocab: the number of ids", in)
		}
		e.vocab = s.Vocab
	}
	if e.padding >= e.vocab {
		return nil, shapeErr("embedding: padding_id %d is not an id of the vocabulary [0, %d)", e.padding, e.vocab)
	}
	init := func(r *rand.Rand, w []float64, _, _ int) { normal(r, w, 1) }
	if e.init != "" {
		init = initializers[e.init]
	}
	var err error
	if e.w, err = s.add("weight", Weight, []int{e.vocab, e.dim}, init, e.vocab, e.dim); err != nil {
		return nil, err
	}
	if e.padding >= 0 && e.w.Value != nil { // a plan's parameters have no values
		setRange(e.w.Value, e.padding*e.dim, (e.padding+1)*e.dim, 0)
	}
	return append(in[:len(in):len(in)], e.dim), nil
}

func (e *embeddingLayer) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	if e.padding >= 0 {
		return ops.GatherPadded(g.Node(e.w), x, e.padding)
	}
	return ops.Gather(g.Node(e.w), x)
}

// TokenInput describes the embedding that reads a model's input x
// directly, if it has one: the size of its table (the input's values must
// be integers in [0, Vocab)) and its config block, for problems that name
// it.
type TokenInput struct {
	Vocab int
	Block config.Block
}

// InputTokens returns the embedding reading m's input x, or ok = false
// when the first layer of m is not one.
func InputTokens(m Model) (t TokenInput, ok bool) {
	var first []builtLayer
	switch m := m.(type) {
	case *Sequential:
		first = m.layers
	case *Autoencoder:
		first = m.encoder
	}
	if len(first) == 0 {
		return t, false
	}
	e, ok := unwrapLayer(first[0].Layer).(*embeddingLayer)
	if !ok {
		return t, false
	}
	return TokenInput{Vocab: e.vocab, Block: first[0].info.block}, true
}
