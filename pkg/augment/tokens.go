package augment

import (
	"fmt"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
)

// tokenDrop replaces each input token, with probability p, by the id
// `id` (default 0, dltrain's <unk>; a padding id where the vocabulary has
// one). With replace set it instead draws the new id uniformly from 1 to
// V−1 (any token but <unk>), the random replacement of text
// augmentation.
type tokenDrop struct {
	p       float64
	id      int
	replace bool
}

var _ op = (*tokenDrop)(nil)

func newTokenDropout(o *config.Options) op {
	t := &tokenDrop{p: o.Float("p", 0.1), id: o.Int("id", 0)}
	o.Range("p", t.p, 0, 1)
	if t.id < 0 {
		o.Fail("id", "must be a token id >= 0, got %d", t.id)
	}
	return t
}

func newTokenReplace(o *config.Options) op {
	t := &tokenDrop{p: o.Float("p", 0.1), replace: true}
	o.Range("p", t.p, 0, 1)
	return t
}

// vocab is the vocabulary size of token samples: the one-hot width, or
// in.Vocab for ids.
func vocab(in Input) int {
	if len(in.Shape) == 2 {
		return in.Shape[1]
	}
	return in.Vocab
}

func (t *tokenDrop) check(in Input) string {
	if !in.Tokens || len(in.Shape) < 1 || len(in.Shape) > 2 {
		return fmt.Sprintf("needs token samples (a text source: ids [T] or one-hot [T, V]), got %s", shapeString(in.Shape))
	}
	if in.Padded {
		return "is not built for padded token ids (a text column): it would change the padding too; it works on a text: corpus"
	}
	v := vocab(in)
	if !t.replace && t.id >= v {
		return fmt.Sprintf("id %d is not in the vocabulary of %d tokens", t.id, v)
	}
	if t.replace && v < 2 {
		return fmt.Sprintf("a vocabulary of %d token(s) has nothing to replace with", v)
	}
	return ""
}

func (t *tokenDrop) apply(b batch, rng *rand.Rand) {
	if b.f32 != nil {
		dropTokens(t, b.f32, b, rng)
	} else {
		dropTokens(t, b.f64, b, rng)
	}
}

// dropTokens draws, for every token, whether it is replaced (and, for a
// replacement, the new id: one more draw only then).
func dropTokens[T data.Float](t *tokenDrop, x []T, b batch, rng *rand.Rand) {
	steps, width := b.shape[0], 1
	if len(b.shape) == 2 {
		width = b.shape[1]
	}
	for i := range b.n * steps {
		if !(rng.Float64() < t.p) {
			continue
		}
		id := t.id
		if t.replace {
			id = 1 + rng.IntN(b.vocab-1)
		}
		if width == 1 {
			x[i] = T(id)
			continue
		}
		row := x[i*width : (i+1)*width]
		clear(row)
		row[id] = 1
	}
}
