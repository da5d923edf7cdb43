package augment

import (
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
)

// noise adds Gaussian noise of mean 0 and standard deviation std to every
// input value.
type noise struct {
	std float64
}

var _ op = (*noise)(nil)

func newNoise(o *config.Options) op {
	n := &noise{std: o.Float("std", 0)}
	if !o.Block().Has("std") {
		o.Fail("std", "required: the noise's standard deviation (> 0), in the units of the preprocessed inputs")
	} else {
		o.Positive("std", n.std)
	}
	return n
}

func (n *noise) check(in Input) string {
	if in.Tokens {
		return "the inputs encode tokens (a text source), not measurements that noise could perturb"
	}
	return ""
}

func (n *noise) apply(b batch, rng *rand.Rand) {
	if b.f32 != nil {
		addNoise(n.std, b.f32[:b.n*b.size()], rng)
	} else {
		addNoise(n.std, b.f64[:b.n*b.size()], rng)
	}
}

func addNoise[T data.Float](std float64, x []T, rng *rand.Rand) {
	for i := range x {
		x[i] += T(std * rng.NormFloat64())
	}
}
