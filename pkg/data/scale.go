package data

import "math"

// Scaling is an affine transform x' = (x − Shift[p])·Mul[p] fitted on the
// training split and applied unchanged to every split, at training,
// evaluation and prediction time. Feature j of a sample uses parameter
// p = (j / Inner) mod len(Shift): one parameter per feature (Inner 1,
// len(Shift) = Width), per channel of a [C, H, W] sample (Inner H·W) or
// per column of a [T, C] window (Inner 1, len(Shift) = C).
type Scaling struct {
	Kind  string    `json:"kind"` // "standard", "minmax" or "symmetric"
	Shift []float64 `json:"shift"`
	Mul   []float64 `json:"mul"`
	Width int       `json:"width,omitempty"` // features per sample; 0 means len(Shift)
	Inner int       `json:"inner,omitempty"` // consecutive features sharing a parameter; 0 means 1
}

func (s *Scaling) param(j int) int {
	inner := max(s.Inner, 1)
	return (j / inner) % len(s.Shift)
}

func (s *Scaling) width() int {
	if s.Width == 0 {
		return len(s.Shift)
	}
	return s.Width
}

// params maps each feature of a sample to its parameter.
func (s *Scaling) params(w int) []int {
	out := make([]int, w)
	for j := range out {
		out[j] = s.param(j)
	}
	return out
}

// fitScaling fits kind on the rows of x (width w), with params parameters
// shared by runs of inner consecutive features (params = w, inner = 1 for
// one per feature). Standard scaling uses the population standard
// deviation, as scikit-learn's StandardScaler; a constant feature is left
// unscaled (multiplier 1) rather than divided by 0. Symmetric scaling maps
// [min, max] to [−1, 1] (a GAN's tanh range); fitted per feature it would
// leave a feature constant in training (an image's border) at 0 rather
// than −1, so without per-channel parameters it fits one range over all.
func fitScaling(kind string, x []float32, w, params, inner int) *Scaling {
	if kind == "none" || len(x) == 0 {
		return nil
	}
	if kind == "symmetric" && params == w && inner == 1 {
		params, inner = 1, w // one range over every feature: a pixel that is 0 in every training image still maps to −1
	}
	s := &Scaling{Kind: kind, Shift: make([]float64, params), Mul: make([]float64, params)}
	if params != w || inner != 1 {
		s.Width, s.Inner = w, inner
	}
	pidx := s.params(w)
	rows := len(x) / w
	count := make([]float64, params)
	for _, p := range pidx {
		count[p] += float64(rows)
	}
	switch kind {
	case "standard":
		sum := make([]float64, params)
		for r := 0; r < rows; r++ {
			for j, v := range x[r*w : (r+1)*w] {
				sum[pidx[j]] += float64(v)
			}
		}
		for p := range sum {
			s.Shift[p] = sum[p] / count[p]
		}
		ss := make([]float64, params)
		for r := 0; r < rows; r++ {
			for j, v := range x[r*w : (r+1)*w] {
				p := pidx[j]
				d := float64(v) - s.Shift[p]
				ss[p] += d * d
			}
		}
		for p := range ss {
			s.Mul[p] = 1
			if sd := math.Sqrt(ss[p] / count[p]); sd > 0 {
				s.Mul[p] = 1 / sd
			}
		}
	case "minmax", "symmetric":
		lo, hi := make([]float64, params), make([]float64, params)
		for p := range lo {
			lo[p], hi[p] = math.Inf(1), math.Inf(-1)
		}
		for r := 0; r < rows; r++ {
			for j, v := range x[r*w : (r+1)*w] {
				p, f := pidx[j], float64(v)
				if f < lo[p] {
					lo[p] = f
				}
				if f > hi[p] {
					hi[p] = f
				}
			}
		}
		for p := range lo {
			s.Shift[p], s.Mul[p] = lo[p], 1
			if hi[p] > lo[p] {
				s.Mul[p] = 1 / (hi[p] - lo[p])
			}
			if kind == "symmetric" { // [lo, hi] to [−1, 1]: centred on the midpoint
				s.Shift[p], s.Mul[p] = (lo[p]+hi[p])/2, 2*s.Mul[p]
			}
		}
	}
	return s
}

// Apply transforms rows of x in place.
func (s *Scaling) Apply(x []float32) {
	if s == nil {
		return
	}
	w := s.width()
	pidx := s.params(w)
	for lo := 0; lo+w <= len(x); lo += w {
		row := x[lo : lo+w]
		for j, v := range row {
			p := pidx[j]
			row[j] = float32((float64(v) - s.Shift[p]) * s.Mul[p])
		}
	}
}

// skip marks features that must not be scaled (encoded categories): their
// parameters become the identity.
func (s *Scaling) skip(features []int) {
	if s == nil {
		return
	}
	for _, j := range features {
		s.Shift[s.param(j)], s.Mul[s.param(j)] = 0, 1
	}
}
