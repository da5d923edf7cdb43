package augment

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
)

// window checks that samples are series windows [T, F] of measurements.
func window(in Input) string {
	if in.Tokens || len(in.Shape) != 2 {
		return fmt.Sprintf("needs series windows of shape [time, features] (a series source), got %s", shapeString(in.Shape))
	}
	return ""
}

// scaling multiplies each window by one random factor drawn from
// N(1, std²): the magnitude changes, the shape does not.
type scaling struct {
	std float64
}

var _ op = (*scaling)(nil)

func newScaling(o *config.Options) op {
	s := &scaling{std: o.Float("std", 0)}
	if !o.Block().Has("std") {
		o.Fail("std", "required: the standard deviation (> 0) of the factor around 1")
	} else {
		o.Positive("std", s.std)
	}
	return s
}

func (s *scaling) check(in Input) string { return window(in) }

func (s *scaling) apply(b batch, rng *rand.Rand) {
	if b.f32 != nil {
		scaleAll(s, b.f32, b, rng)
	} else {
		scaleAll(s, b.f64, b, rng)
	}
}

func scaleAll[T data.Float](s *scaling, x []T, b batch, rng *rand.Rand) {
	size := b.size()
	for i := range b.n {
		f := T(1 + s.std*rng.NormFloat64())
		for j := range x[i*size : (i+1)*size] {
			x[i*size+j] *= f
		}
	}
}

// timeWarp resamples each window along a smoothly warped time axis: the
// speed of time is drawn as N(1, sigma²) at knots+2 evenly spaced points
// (clamped to at least 0.1, so time never stops or runs back) and
// interpolated linearly between them; its running sum, rescaled to end at
// the last step, says where each step reads the window, linearly
// interpolated between its steps. The first and last steps stay in place.
type timeWarp struct {
	sigma float64
	knots int
}

var _ op = (*timeWarp)(nil)

func newTimeWarp(o *config.Options) op {
	w := &timeWarp{sigma: o.Float("sigma", 0.2), knots: o.Int("knots", 4)}
	o.Positive("sigma", w.sigma)
	if w.knots < 1 {
		o.Fail("knots", "must be >= 1, got %d", w.knots)
	}
	return w
}

func (w *timeWarp) check(in Input) string {
	if why := window(in); why != "" {
		return why
	}
	if in.Shape[0] < 3 {
		return fmt.Sprintf("windows of %d steps have no inside to warp (need >= 3)", in.Shape[0])
	}
	return ""
}

func (w *timeWarp) apply(b batch, rng *rand.Rand) {
	if b.f32 != nil {
		warpAll(w, b.f32, b, rng)
	} else {
		warpAll(w, b.f64, b, rng)
	}
}

// warpAll warps every window, using the source's scratch: T·F values of
// the window, T positions and knots+2 speeds.
func warpAll[T data.Float](w *timeWarp, x []T, b batch, rng *rand.Rand) {
	steps, feats := b.shape[0], b.shape[1]
	k := w.knots + 2
	need := steps*feats + steps + k
	if cap(*b.buf) < need {
		*b.buf = make([]float64, need)
	}
	buf := (*b.buf)[:need]
	orig, pos, speed := buf[:steps*feats], buf[steps*feats:steps*feats+steps], buf[steps*feats+steps:]
	for i := range b.n {
		smp := x[i*steps*feats : (i+1)*steps*feats]
		for j := range speed {
			speed[j] = max(0.1, 1+w.sigma*rng.NormFloat64())
		}
		warpPositions(pos, speed)
		for j, v := range smp {
			orig[j] = float64(v)
		}
		for t, p := range pos {
			lo := min(int(math.Floor(p)), steps-2)
			f := p - float64(lo)
			for c := range feats {
				smp[t*feats+c] = T(orig[lo*feats+c]*(1-f) + orig[(lo+1)*feats+c]*f)
			}
		}
	}
}

// warpPositions writes the warped time of each step: the running sum of
// the speed (linear between the knots, evenly spaced over the steps),
// rescaled so that the first step reads 0 and the last len(pos)−1.
func warpPositions(pos, speed []float64) {
	n, k := len(pos), len(speed)
	at := func(t int) float64 { // the speed at step t
		u := float64(t) * float64(k-1) / float64(n-1)
		j := min(int(u), k-2)
		f := u - float64(j)
		return speed[j]*(1-f) + speed[j+1]*f
	}
	pos[0] = 0
	prev := at(0)
	for t := 1; t < n; t++ {
		cur := at(t)
		pos[t] = pos[t-1] + (prev+cur)/2
		prev = cur
	}
	scale := float64(n-1) / pos[n-1]
	for t := range pos {
		pos[t] *= scale
	}
	pos[n-1] = float64(n - 1)
}
