package models

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// InputLabels is a conditional GAN's second input: each real sample's
// class index, as a number of the model's dtype (shape [] per sample).
// The session feeds it from the data's targets, which for a conditional
// GAN are the class indices.
const InputLabels = "labels"

// labelEmbedding is the name (under each network) of a conditional GAN's
// learned label embedding, whose parameter is, e.g.,
// generator/label_embedding/weight [classes, label_dim].
const labelEmbedding = "label_embedding"

// conditioning is what a conditional GAN adds to each network: the
// number of classes and a learned embedding of the labels, [classes,
// label_dim], PyTorch's nn.Embedding, initialised from N(0, 1).
type conditioning struct {
	classes, dim int
	gen, dis     builtLayer // each network's embedding
}

// setupConditioning adds both networks' label embeddings to the store
// (after the stacks, so that the stacks draw their initial weights first).
func setupConditioning(e *config.Experiment, root *Scope, classes int) (*conditioning, config.Problems) {
	if classes < 1 {
		return nil, config.Problems{e.Problem("model.conditional", "a conditional GAN needs each sample's class, but the data names no classes")}
	}
	c := &conditioning{classes: classes, dim: e.Model.LabelDim}
	if c.dim == 0 {
		c.dim = classes
	}
	for _, part := range []struct {
		net string
		at  *builtLayer
	}{{GeneratorPart, &c.gen}, {DiscriminatorPart, &c.dis}} {
		scope := root.Child(part.net).Child(labelEmbedding)
		l := &embeddingLayer{dim: c.dim, vocab: classes, padding: -1}
		out, err := l.Setup(scope, Shape{1})
		if err != nil {
			return nil, config.Problems{e.Problem("model.label_dim", "%v", err)}
		}
		*part.at = builtLayer{Layer: l, info: describeLayer(scope, config.Block{Kind: "embedding", Path: "model.label_dim"}, l, Shape{1}, out[1:])}
	}
	return c, nil
}

// withLabels is a per-sample shape s with dim more channels (its first
// axis): the input of a network that also reads a label embedding of
// dim values (ops.ConcatChannels).
func withLabels(s Shape, dim int) Shape {
	out := append(Shape(nil), s...)
	out[0] += dim
	return out
}

// embed appends the embedding of labels ([batch] class indices) by one of
// the networks' tables to x as constant channels (or features).
func embed(g *Graph, l builtLayer, x, labels *G.Node) (*G.Node, error) {
	e, err := l.Forward(g, labels)
	if err != nil {
		return nil, fmt.Errorf("label embedding: %w", err)
	}
	return ops.ConcatChannels(x, e)
}

// Conditional reports whether the GAN is class-conditional.
func (m *GAN) Conditional() bool { return m.cond != nil }

// Classes is the number of classes a conditional GAN draws; 0 for an
// unconditional one.
func (m *GAN) Classes() int {
	if m.cond == nil {
		return 0
	}
	return m.cond.classes
}

// GenerateClasses adds the generator on noise z (batch, Latent) to g,
// asked for the classes labels ([batch] class indices) if the GAN is
// conditional; labels must be nil otherwise.
func (m *GAN) GenerateClasses(g *Graph, z, labels *G.Node) (*G.Node, error) {
	if (labels != nil) != m.Conditional() {
		return nil, fmt.Errorf("generator: labels given %v, conditional GAN %v", labels != nil, m.Conditional())
	}
	if labels != nil {
		var err error
		if z, err = embed(g, m.cond.gen, z, labels); err != nil {
			return nil, fmt.Errorf("generator: %w", err)
		}
	}
	return m.Generate(g, z)
}

// discriminateClasses adds the discriminator on samples x of classes
// labels (nil: unconditional) to g.
func (m *GAN) discriminateClasses(g *Graph, x, labels *G.Node) (*G.Node, error) {
	if labels != nil {
		var err error
		if x, err = embed(g, m.cond.dis, x, labels); err != nil {
			return nil, fmt.Errorf("discriminator: %w", err)
		}
	}
	return m.Discriminate(g, x)
}

// conditionalOnly checks the conditional keys against the rest of the
// config: label_dim needs conditional.
func conditionalOnly(e *config.Experiment) config.Problems {
	var ps config.Problems
	if e.Model.LabelDim != 0 && !e.Model.Conditional {
		ps = append(ps, e.Problem("model.label_dim", "applies to a conditional GAN only: set model.conditional: true, or remove model.label_dim"))
	}
	return ps
}
