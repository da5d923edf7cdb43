package augment

import (
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
)

// flip mirrors each image sample, with probability p, left to right (or,
// with vertical, top to bottom).
type flip struct {
	p        float64
	vertical bool
}

var _ op = (*flip)(nil)

func newFlip(o *config.Options) op {
	f := &flip{p: o.Float("p", 0.5), vertical: o.Bool("vertical", false)}
	o.Range("p", f.p, 0, 1)
	return f
}

func (f *flip) check(in Input) string {
	_, _, _, why := image(in)
	return why
}

func (f *flip) apply(b batch, rng *rand.Rand) {
	if b.f32 != nil {
		flipAll(f, b.f32, b, rng)
	} else {
		flipAll(f, b.f64, b, rng)
	}
}

// flipAll draws one number per sample (flipped or not, the stream moves
// the same) and mirrors the samples it selects.
func flipAll[T data.Float](f *flip, x []T, b batch, rng *rand.Rand) {
	c, h, w := b.shape[0], b.shape[1], b.shape[2]
	size := b.size()
	for i := range b.n {
		if !(rng.Float64() < f.p) {
			continue
		}
		s := x[i*size : (i+1)*size]
		for ch := range c {
			img := s[ch*h*w : (ch+1)*h*w]
			if f.vertical {
				for y := range h / 2 {
					top, bottom := img[y*w:(y+1)*w], img[(h-1-y)*w:(h-y)*w]
					for j := range w {
						top[j], bottom[j] = bottom[j], top[j]
					}
				}
				continue
			}
			for y := range h {
				row := img[y*w : (y+1)*w]
				for l, r := 0, w-1; l < r; l, r = l+1, r-1 {
					row[l], row[r] = row[r], row[l]
				}
			}
		}
	}
}
