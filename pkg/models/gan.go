package models

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// The outputs of a GAN besides "out", D's score of generated samples.
const (
	// OutputFake is the generator's samples, G(z), in the data's shape.
	OutputFake = "fake"
	// OutputRealScore is the discriminator's score of the data, D(x).
	OutputRealScore = "d_real"
)

// The parts of a GAN, which name its parameters (generator/dense1/W) and
// its training phases.
const (
	GeneratorPart     = "generator"
	DiscriminatorPart = "discriminator"
)

// ganTask is the data task a GAN trains on.
const ganTask = "generation"

// evalNoiseSeed seeds the noise of a GAN's evaluation graphs, drawn anew
// (the same values) at every run of one, so that evaluating never moves
// the training's random stream.
const evalNoiseSeed = 0x9a17

// GAN is a generative adversarial network: a generator stack from noise
// z ~ N(0, 1) of Latent values to a sample of the data's shape, and a
// discriminator stack from a sample to one score. Its outputs, for a
// batch of data x and as many noise draws z, are "out" = D(G(z)), "d_real"
// = D(x) and "fake" = G(z), and for train.loss wgan_gp "gp", the critic's
// gradient penalty per sample. It trains in two phases (pkg/run builds
// them): the discriminator's, over its parameters, and the generator's,
// over its own. A conditional GAN (model.conditional) also takes each
// real sample's class (input "labels"), and each network reads a learned
// embedding of the class next to its input (gan_conditional.go).
type GAN struct {
	Signature
	store                *ParamStore
	latent               int
	generator, discrim   []builtLayer
	genParams, disParams []*Param
	// penalty: train.loss is wgan_gp, and the model also gives the
	// critic's gradient penalty (OutputGradientPenalty).
	penalty bool
	// cond is a conditional GAN's labels and their embeddings; nil for
	// an unconditional one.
	cond *conditioning
}

var _ Model = (*GAN)(nil)

// ganKind is the GAN: model.generator, model.discriminator and
// model.latent instead of model.layers.
var ganKind = Kind{Build: buildGAN, Validate: validateGAN}

// buildGAN builds the gan kind. A generator whose output is not the
// data's shape, or a discriminator whose output is not one value per
// sample, is a problem naming the stack's key and both shapes.
func buildGAN(spec Spec) (Model, error) {
	e := spec.Exp
	gen, ps := parseBlocks(e.Model.Generator)
	dis, dps := parseBlocks(e.Model.Discriminator)
	if ps = append(ps, dps...); len(ps) > 0 {
		return nil, ps
	}
	store := spec.newStore()
	root := &Scope{Store: store, Init: e.Model.Init, BiasInit: e.Model.BiasInit, RNG: spec.InitRNG}
	latent := Shape{e.Model.Latent}
	genIn, disIn := latent, spec.Input
	if e.Model.Conditional {
		// Each network also reads the label's embedding: next to the
		// noise, and as more channels (features) of a sample.
		dim := e.Model.LabelDim
		if dim == 0 {
			dim = spec.Classes
		}
		genIn, disIn = withLabels(latent, dim), withLabels(spec.Input, dim)
	}
	generator, out, ps := setupStack(gen, root.Child(GeneratorPart), genIn)
	if len(ps) > 0 {
		return nil, ps
	}
	if !equalShapes(out, spec.Input) {
		return nil, config.Problems{e.Problem("model.generator", "the generator turns the noise %v into %v, but its samples must have the data's shape %v; "+
			"end it with a layer producing %v (a dense layer of units: %d%s)", genIn, out, spec.Input, spec.Input, spec.Input.Size(), reshapeHint(spec.Input))}
	}
	discrim, score, ps := setupStack(dis, root.Child(DiscriminatorPart), disIn)
	if len(ps) > 0 {
		return nil, ps
	}
	if !equalShapes(score, Shape{1}) {
		return nil, config.Problems{e.Problem("model.discriminator", "the discriminator turns a sample %v into %v, but it must give one score per sample, (1); "+
			"end it with a dense layer of units: 1 (after a flatten for images)", disIn, score)}
	}
	var cond *conditioning
	if e.Model.Conditional {
		if cond, ps = setupConditioning(e, root, spec.Classes); len(ps) > 0 {
			return nil, ps
		}
	}
	m := &GAN{
		Signature: Signature{
			In:  []TensorSpec{{InputX, spec.Input}},
			Out: []TensorSpec{{OutputOut, Shape{1}}, {OutputRealScore, Shape{1}}, {OutputFake, spec.Input}},
		},
		store: store, latent: e.Model.Latent, generator: generator, discrim: discrim,
		penalty: e.Train.Loss.Kind == penaltyLoss, cond: cond,
	}
	if cond != nil {
		m.In = append(m.In, TensorSpec{InputLabels, Shape{}})
	}
	if m.penalty {
		if ps := checkPenaltyCritic(e, discrim); len(ps) > 0 {
			return nil, ps
		}
		m.Out = append(m.Out, TensorSpec{OutputGradientPenalty, Shape{1}})
	}
	for _, p := range store.All() {
		switch {
		case strings.HasPrefix(p.Name, GeneratorPart+"/"):
			m.genParams = append(m.genParams, p)
		case strings.HasPrefix(p.Name, DiscriminatorPart+"/"):
			m.disParams = append(m.disParams, p)
		}
	}
	return m, nil
}

// reshapeHint adds how a flat dense output becomes an image shape.
func reshapeHint(s Shape) string {
	if len(s) < 2 {
		return ""
	}
	return fmt.Sprintf(", then a reshape to %v", s)
}

// validateGAN checks the gan kind's sections without any data: both
// stacks are given and their layers parse, latent is set, the data task
// is generation and no other kind's keys are set. A conditional GAN's
// keys are checked by conditionalOnly.
func validateGAN(e *config.Experiment) config.Problems {
	var ps config.Problems
	if len(e.Model.Layers) > 0 {
		ps = append(ps, e.Problem("model.layers", "a GAN has model.generator and model.discriminator, not model.layers"))
	}
	if len(e.Model.Generator) == 0 {
		ps = append(ps, e.Problem("model.generator", "a GAN needs its generator layers, from the noise (model.latent values) to a sample of the data's shape"))
	}
	if len(e.Model.Discriminator) == 0 {
		ps = append(ps, e.Problem("model.discriminator", "a GAN needs its discriminator layers, from a sample to one score"))
	}
	if e.Model.Latent < 1 {
		ps = append(ps, e.Problem("model.latent", "a GAN needs the size of its noise input: set model.latent (e.g. 64), got %d", e.Model.Latent))
	}
	ps = append(ps, conditionalOnly(e)...)
	if e.Data.Task != ganTask {
		ps = append(ps, e.Problem("model.kind", "a GAN learns to generate samples like the data: set data.task: %s (got %s)", ganTask, e.Data.Task))
	}
	ps = append(ps, autoencoderOnly(e)...)
	for _, stack := range [][]config.Block{e.Model.Generator, e.Model.Discriminator} {
		for _, b := range stack {
			_, _, lps := parseLayer(b)
			ps = append(ps, lps...)
		}
	}
	return ps
}

// ganOnly refuses the GAN's keys in a model of another kind, which would
// silently ignore them.
func ganOnly(e *config.Experiment) config.Problems {
	var ps config.Problems
	for _, k := range []struct {
		key string
		set bool
	}{
		{"model.generator", len(e.Model.Generator) > 0},
		{"model.discriminator", len(e.Model.Discriminator) > 0},
		{"model.latent", e.Model.Latent != 0},
		{"model.conditional", e.Model.Conditional},
		{"model.label_dim", e.Model.LabelDim != 0},
	} {
		if k.set {
			ps = append(ps, e.Problem(k.key, "applies to model.kind gan only; this model is %s", e.Model.Kind))
		}
	}
	return ps
}

// Params implements Model.
func (m *GAN) Params() *ParamStore { return m.store }

// Latent is the size of the generator's noise input.
func (m *GAN) Latent() int { return m.latent }

// GeneratorParams and DiscriminatorParams are each network's parameters
// (trainable ones and buffers), in the store's order.
func (m *GAN) GeneratorParams() []*Param { return m.genParams }

// DiscriminatorParams: see GeneratorParams.
func (m *GAN) DiscriminatorParams() []*Param { return m.disParams }

// Forward implements Model: noise z drawn for every sample of x (from the
// graph's dropout stream in training, from a fixed one in evaluation),
// "fake" = G(z), "out" = D(G(z)) and "d_real" = D(x). A conditional GAN
// also draws a class c for each generated sample, uniformly from the same
// stream (or its own fixed one), and reads the real samples' classes y
// (input "labels"): "fake" = G(z, c), "out" = D(G(z, c), c) and "d_real"
// = D(x, y).
func (m *GAN) Forward(g *Graph, in Tensors) (Tensors, error) {
	x := in[InputX]
	st := &ops.NoiseState{RNG: g.DropoutRNG, Frozen: g.FreezeDropout}
	eps := &ops.NoiseState{RNG: g.DropoutRNG, Frozen: g.FreezeDropout}
	if !g.Train || st.RNG == nil {
		src := rand.NewPCG(evalNoiseSeed, evalNoiseSeed)
		st = &ops.NoiseState{RNG: rand.New(src), Reseed: func() { src.Seed(evalNoiseSeed, evalNoiseSeed) }}
		esrc := rand.NewPCG(evalNoiseSeed+1, evalNoiseSeed)
		eps = &ops.NoiseState{RNG: rand.New(esrc), Reseed: func() { esrc.Seed(evalNoiseSeed+1, evalNoiseSeed) }}
	}
	z, err := ops.Noise(x, m.latent, st)
	if err != nil {
		return nil, err
	}
	var fakeLabels, realLabels *G.Node
	if m.cond != nil {
		cls := &ops.NoiseState{RNG: g.DropoutRNG, Frozen: g.FreezeDropout}
		if !g.Train || cls.RNG == nil {
			csrc := rand.NewPCG(evalNoiseSeed+2, evalNoiseSeed)
			cls = &ops.NoiseState{RNG: rand.New(csrc), Reseed: func() { csrc.Seed(evalNoiseSeed+2, evalNoiseSeed) }}
		}
		if fakeLabels, err = ops.RandomClasses(x, m.cond.classes, cls); err != nil {
			return nil, err
		}
		realLabels = in[InputLabels]
	}
	fake, err := m.GenerateClasses(g, z, fakeLabels)
	if err != nil {
		return nil, err
	}
	dFake, err := m.discriminateClasses(g, fake, fakeLabels)
	if err != nil {
		return nil, err
	}
	dReal, err := m.discriminateClasses(g, x, realLabels)
	if err != nil {
		return nil, err
	}
	outs := Tensors{OutputOut: dFake, OutputRealScore: dReal, OutputFake: fake}
	if m.penalty {
		// ε is drawn from the training stream (as z is), so a resumed or
		// repeated run draws the same ε.
		if outs[OutputGradientPenalty], err = m.gradientPenalty(g, x, fake, realLabels, eps); err != nil {
			return nil, err
		}
	}
	return outs, nil
}

// Generate adds the generator on its input z to g: the noise (batch,
// Latent), or for a conditional GAN the noise with the label embedding
// appended, which GenerateClasses adds.
func (m *GAN) Generate(g *Graph, z *G.Node) (*G.Node, error) {
	out, err := forwardStack(g, m.generator, z)
	if err != nil {
		return nil, fmt.Errorf("generator: %w", err)
	}
	return out, nil
}

// Discriminate adds the discriminator on samples x to g: one score per
// sample (a conditional GAN's x has the label embedding appended).
func (m *GAN) Discriminate(g *Graph, x *G.Node) (*G.Node, error) {
	out, err := forwardStack(g, m.discrim, x)
	if err != nil {
		return nil, fmt.Errorf("discriminator: %w", err)
	}
	return out, nil
}

// Layers implements Model: the generator's rows, then the
// discriminator's.
func (m *GAN) Layers() []LayerInfo {
	if m.cond != nil { // each network's label embedding first
		return slices.Concat(flattenInfo([]builtLayer{m.cond.gen}, 0), flattenInfo(m.generator, 0), flattenInfo([]builtLayer{m.cond.dis}, 0), flattenInfo(m.discrim, 0))
	}
	return append(flattenInfo(m.generator, 0), flattenInfo(m.discrim, 0)...)
}
