package augment

import (
	"fmt"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
)

// shift translates each image sample by a random whole number of pixels,
// drawn uniformly in [-max_pixels, max_pixels] for each axis; the pixels
// that come in are zero.
type shift struct {
	max int
}

var _ op = (*shift)(nil)

func newShift(o *config.Options) op {
	s := &shift{max: o.Int("max_pixels", 1)} // 1: no second complaint after a bad value
	if !o.Block().Has("max_pixels") {
		o.Fail("max_pixels", "required: the largest shift in pixels (>= 1)")
	} else if s.max < 1 {
		o.Fail("max_pixels", "must be >= 1, got %d", s.max)
	}
	return s
}

func (s *shift) check(in Input) string {
	_, h, w, why := image(in)
	if why != "" {
		return why
	}
	if s.max >= h || s.max >= w {
		return fmt.Sprintf("max_pixels %d would shift a %d×%d image out of its frame; it must be below the height and the width", s.max, h, w)
	}
	return ""
}

func (s *shift) apply(b batch, rng *rand.Rand) {
	if b.f32 != nil {
		shiftAll(s, b.f32, b, rng)
	} else {
		shiftAll(s, b.f64, b, rng)
	}
}

// shiftAll draws (dy, dx) per sample and moves every channel of it: the
// value at (y, x) goes to (y+dy, x+dx).
func shiftAll[T data.Float](s *shift, x []T, b batch, rng *rand.Rand) {
	c, h, w := b.shape[0], b.shape[1], b.shape[2]
	size := b.size()
	for i := range b.n {
		dy := rng.IntN(2*s.max+1) - s.max
		dx := rng.IntN(2*s.max+1) - s.max
		smp := x[i*size : (i+1)*size]
		for ch := range c {
			translate(smp[ch*h*w:(ch+1)*h*w], h, w, dy, dx)
		}
	}
}

// translate moves one h×w image in place by (dy, dx), filling with zeros.
// Rows are visited so that each source row is read before it is
// overwritten (bottom up when moving down); within a row, copy handles
// the overlap.
func translate[T data.Float](img []T, h, w, dy, dx int) {
	if dy == 0 && dx == 0 {
		return
	}
	row := func(y int) {
		dst := img[y*w : (y+1)*w]
		sy := y - dy
		if sy < 0 || sy >= h {
			clear(dst)
			return
		}
		src := img[sy*w : (sy+1)*w]
		if dx >= 0 {
			copy(dst[dx:], src[:w-dx])
			clear(dst[:dx])
		} else {
			copy(dst[:w+dx], src[-dx:])
			clear(dst[w+dx:])
		}
	}
	if dy > 0 {
		for y := h - 1; y >= 0; y-- {
			row(y)
		}
	} else {
		for y := range h {
			row(y)
		}
	}
}
