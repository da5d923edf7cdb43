package augment

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
)

// op is one augmentation: it changes a batch of samples in place.
type op interface {
	// check says why the op cannot act on samples described by in; ""
	// when it can.
	check(in Input) string
	// apply transforms every sample of b, drawing from rng.
	apply(b batch, rng *rand.Rand)
}

// ops is every augmentation, by config kind.
var ops = map[string]func(o *config.Options) op{
	"flip":  newFlip,
	"shift": newShift,
	"noise": newNoise,
	// Sequences: text tokens and series windows.
	"token_dropout": newTokenDropout,
	"token_replace": newTokenReplace,
	"jitter":        newNoise, // noise, named as the series literature names it
	"scaling":       newScaling,
	"time_warp":     newTimeWarp,
}

// Names lists the known augmentations.
func Names() []string {
	out := make([]string, 0, len(ops))
	for k := range ops {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Input describes the samples a pipeline will see.
type Input struct {
	Shape  []int // per-sample shape, e.g. [C, H, W]
	Tokens bool  // the values are token ids (a text source), not measurements
	Vocab  int   // the vocabulary size of token ids (index encoding)
	Padded bool  // the token ids are padded (id 0 is padding: a text column)
}

// Pipeline is an experiment's list of augmentations, ready to apply.
type Pipeline struct {
	ops    []op
	seed   uint64
	stream uint64 // the purpose its draws are seeded for: data.StreamAugment or data.StreamCorrupt
	shape  []int
	vocab  int       // token samples' vocabulary size
	then   *Pipeline // applied after this one, drawing from its own stream; nil: none
}

// build makes the ops of blocks, reporting every problem of their options.
func build(blocks []config.Block) ([]op, config.Problems) {
	var ps config.Problems
	out := make([]op, 0, len(blocks))
	for _, b := range blocks {
		newOp, ok := ops[b.Kind]
		if !ok {
			if b.Kind == "" {
				ps = append(ps, b.Problem(b.KindKey, "is required: which augmentation (%s)", strings.Join(Names(), ", ")))
			} else {
				ps = append(ps, b.Problem(b.KindKey, "unknown augmentation %q; known: %s", b.Kind, strings.Join(Names(), ", ")))
			}
			continue
		}
		o := b.Read()
		out = append(out, newOp(o))
		ps = append(ps, o.Done()...)
	}
	return out, ps
}

// New builds the pipeline blocks describe, for samples described by in,
// drawing from the experiment seed. It returns nil (no augmentation) for
// an empty list. An op that cannot act on such samples (a flip of samples
// that are not images) is a problem naming its block.
func New(blocks []config.Block, in Input, seed uint64) (*Pipeline, config.Problems) {
	if len(blocks) == 0 {
		return nil, nil
	}
	built, ps := build(blocks)
	if len(ps) > 0 {
		return nil, ps
	}
	for i, o := range built {
		if msg := o.check(in); msg != "" {
			ps = append(ps, blocks[i].Problem("", "%s: %s", blocks[i].Kind, msg))
		}
	}
	if len(ps) > 0 {
		return nil, ps
	}
	return &Pipeline{ops: built, seed: seed, stream: data.StreamAugment, shape: append([]int(nil), in.Shape...), vocab: vocab(in)}, nil
}

// Validate checks every augmentation's kind and options when a config is
// loaded; whether they suit the data's shape is known only once it is
// read (New). It is a config.Validator.
func Validate(e *config.Experiment) config.Problems {
	_, ps := build(e.Augment)
	if len(e.Augment) > 0 && data.SelfTask(e.Data.Task) {
		ps = append(ps, e.Problem("augment", "transforms the inputs only, so in a %s task the target (the clean input) would not follow; "+
			"for a denoising autoencoder set model.corrupt instead", e.Data.Task))
	}
	return append(ps, checkCorruption(e.Model.Corrupt)...)
}

// Source is the reusable random source of one goroutine that augments:
// reseeded for every batch, so that augmenting allocates nothing.
type Source struct {
	pcg rand.PCG
	rng *rand.Rand
	buf []float64 // scratch of the ops that need some (time_warp), grown once
}

// NewSource returns a source for Apply.
func NewSource() *Source {
	s := &Source{}
	s.rng = rand.New(&s.pcg)
	return s
}

// seed points src at the stream of mini-batch index of epoch: a function
// of (seed, epoch, index) only. Multiplying by an odd constant is a
// bijection of uint64, so distinct epochs (and indices) give distinct
// seeds.
func (p *Pipeline) seedSource(src *Source, epoch, index int) {
	src.pcg.Seed(p.seed^uint64(epoch)*0x9e3779b97f4a7c15, p.stream^uint64(index)*0xbf58476d1ce4e5b9)
}

// Apply32 augments in place the n samples of x (n × the input's size),
// mini-batch index of epoch (both 0-based), drawing from src.
func (p *Pipeline) Apply32(x []float32, n, epoch, index int, src *Source) {
	p.apply(batch{f32: x, n: n, shape: p.shape, vocab: p.vocab, buf: &src.buf}, epoch, index, src)
}

// Apply64 is Apply32 for a float64 model.
func (p *Pipeline) Apply64(x []float64, n, epoch, index int, src *Source) {
	p.apply(batch{f64: x, n: n, shape: p.shape, vocab: p.vocab, buf: &src.buf}, epoch, index, src)
}

func (p *Pipeline) apply(b batch, epoch, index int, src *Source) {
	p.seedSource(src, epoch, index)
	for _, o := range p.ops {
		o.apply(b, src.rng)
	}
	if p.then != nil {
		p.then.apply(b, epoch, index, src)
	}
}

// Then returns the pipeline that applies p, then q, each drawing from its
// own stream; either may be nil (none).
func (p *Pipeline) Then(q *Pipeline) *Pipeline {
	if p == nil {
		return q
	}
	if q == nil {
		return p
	}
	c := *p
	c.then = c.then.Then(q)
	return &c
}

// batch is the samples an op transforms: one of f32, f64 is set.
type batch struct {
	f32   []float32
	f64   []float64
	n     int
	shape []int      // per sample
	vocab int        // token samples' vocabulary size
	buf   *[]float64 // the source's scratch
}

// size is the number of values per sample.
func (b batch) size() int {
	n := 1
	for _, d := range b.shape {
		n *= d
	}
	return n
}

// image returns the channels, height and width of an image sample shape,
// or a reason it is not one.
func image(in Input) (c, h, w int, why string) {
	if len(in.Shape) != 3 {
		return 0, 0, 0, fmt.Sprintf("needs image samples of shape [C, H, W] (set data.shape), got %v", shapeString(in.Shape))
	}
	return in.Shape[0], in.Shape[1], in.Shape[2], ""
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
