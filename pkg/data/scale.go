package data

import "math"

// Scaling is a per-feature affine transform x' = (x − Shift)·Mul fitted on
// the training split and applied unchanged to every split, at training,
// evaluation and prediction time.
type Scaling struct {
	Kind  string    `json:"kind"` // "standard" or "minmax"
	Shift []float64 `json:"shift"`
	Mul   []float64 `json:"mul"`
}

// fitScaling fits kind on the rows of x (width w). Standard scaling uses the
// population standard deviation, as scikit-learn's StandardScaler; a
// constant column is left unscaled (multiplier 1) rather than divided by 0.
func fitScaling(kind string, x []float32, w int) *Scaling {
	if kind == "none" || len(x) == 0 {
		return nil
	}
	n := len(x) / w
	s := &Scaling{Kind: kind, Shift: make([]float64, w), Mul: make([]float64, w)}
	switch kind {
	case "standard":
		sum := make([]float64, w)
		for i, v := range x {
			sum[i%w] += float64(v)
		}
		for j := range sum {
			s.Shift[j] = sum[j] / float64(n)
		}
		ss := make([]float64, w)
		for i, v := range x {
			d := float64(v) - s.Shift[i%w]
			ss[i%w] += d * d
		}
		for j := range ss {
			s.Mul[j] = 1
			if sd := math.Sqrt(ss[j] / float64(n)); sd > 0 {
				s.Mul[j] = 1 / sd
			}
		}
	case "minmax":
		lo, hi := make([]float64, w), make([]float64, w)
		for j := 0; j < w; j++ {
			lo[j], hi[j] = math.Inf(1), math.Inf(-1)
		}
		for i, v := range x {
			lo[i%w] = math.Min(lo[i%w], float64(v))
			hi[i%w] = math.Max(hi[i%w], float64(v))
		}
		for j := range lo {
			s.Shift[j], s.Mul[j] = lo[j], 1
			if hi[j] > lo[j] {
				s.Mul[j] = 1 / (hi[j] - lo[j])
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
	w := len(s.Shift)
	for i, v := range x {
		j := i % w
		x[i] = float32((float64(v) - s.Shift[j]) * s.Mul[j])
	}
}
