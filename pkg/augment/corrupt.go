package augment

import (
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
)

// corruptions is every corruption a denoising autoencoder may train on
// (model.corrupt), by kind. Like augmentations they change the training
// mini-batches only, never validation, test or predicted samples; unlike
// them the target stays the clean input.
var corruptions = map[string]func(o *config.Options) op{
	"gaussian": newNoise,
	"mask":     newMask,
}

// CorruptionNames lists the known corruptions.
func CorruptionNames() []string {
	out := make([]string, 0, len(corruptions))
	for k := range corruptions {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkCorruption checks model.corrupt's kind and options; an empty block
// is no corruption.
func checkCorruption(b config.Block) config.Problems {
	_, ps := buildCorruption(b)
	return ps
}

func buildCorruption(b config.Block) (op, config.Problems) {
	if b.Kind == "" && len(b.Opts) == 0 {
		return nil, nil
	}
	newOp, ok := corruptions[b.Kind]
	if !ok {
		if b.Path == "" {
			b.Path = "model.corrupt"
		}
		what := "is required"
		if b.Kind != "" {
			what = "unknown corruption " + `"` + b.Kind + `"`
		}
		return nil, config.Problems{b.Problem("kind", "%s; known: %s", what, strings.Join(CorruptionNames(), ", "))}
	}
	o := b.Read()
	c := newOp(o)
	return c, o.Done()
}

// Corruption builds the corruption model.corrupt describes for samples
// described by in, its draws a function of (seed, epoch, mini-batch)
// from their own stream (data.StreamCorrupt): adding one changes neither
// the data order nor the augmentations. It returns nil for none.
func Corruption(b config.Block, in Input, seed uint64) (*Pipeline, config.Problems) {
	c, ps := buildCorruption(b)
	if c == nil || len(ps) > 0 {
		return nil, ps
	}
	if msg := c.check(in); msg != "" {
		return nil, config.Problems{b.Problem("", "%s: %s", b.Kind, msg)}
	}
	return &Pipeline{ops: []op{c}, seed: seed, stream: data.StreamCorrupt, shape: append([]int(nil), in.Shape...)}, nil
}

// mask sets each input value to 0 with probability rate (masking noise,
// as in Vincent et al.'s denoising autoencoders), without rescaling the
// rest: the network learns to fill the holes, not to undo a scale.
type mask struct {
	rate float64
}

var _ op = (*mask)(nil)

func newMask(o *config.Options) op {
	m := &mask{rate: o.Float("rate", 0)}
	if !o.Block().Has("rate") {
		o.Fail("rate", "required: the fraction of input values set to 0, in (0, 1)")
	} else if !(m.rate > 0 && m.rate < 1) {
		o.Fail("rate", "must be in (0, 1), got %v", m.rate)
	}
	return m
}

func (m *mask) check(in Input) string {
	if in.Tokens {
		return "the inputs encode tokens (a text source), not measurements that a mask could hide"
	}
	return ""
}

func (m *mask) apply(b batch, rng *rand.Rand) {
	if b.f32 != nil {
		maskValues(m.rate, b.f32[:b.n*b.size()], rng)
	} else {
		maskValues(m.rate, b.f64[:b.n*b.size()], rng)
	}
}

func maskValues[T data.Float](rate float64, x []T, rng *rand.Rand) {
	for i := range x {
		if rng.Float64() < rate {
			x[i] = 0
		}
	}
}
