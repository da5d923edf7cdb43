package sweep

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// tpe is the Tree-structured Parzen Estimator of Bergstra, Bardenet,
// Bengio and Kégl, "Algorithms for Hyper-Parameter Optimization" (NIPS
// 2011). After opt.Startup random trials, the observations are split at
// their gamma quantile into good and bad; each parameter gets a Parzen
// estimator over each group, l(x) from the good and g(x) from the bad;
// candidates are drawn from l and the one with the largest l(x)/g(x)
// (the expected improvement's maximizer, section 4.1) is suggested.
//
// Parameters are modelled independently, as in the paper's tree with no
// conditional nodes: numbers as mixtures of Gaussians truncated to the
// range (in log space for log_uniform; int_uniform as a continuous range
// widened by ½ each side, rounded), with the prior as one more component;
// choices as smoothed category frequencies.
type tpe struct {
	space []Param
	opt   TPE
}

func (t *tpe) Suggest(trial int, done []Observation, rng *rand.Rand) map[string]any {
	var obs []Observation
	for _, o := range done {
		if !math.IsNaN(o.Loss) && !math.IsInf(o.Loss, 0) {
			obs = append(obs, o)
		}
	}
	if len(obs) < t.opt.Startup {
		return random{t.space}.Suggest(trial, done, rng)
	}
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].Loss < obs[j].Loss })
	nGood := max(1, int(math.Ceil(t.opt.Gamma*float64(len(obs)))))
	good, bad := obs[:nGood], obs[nGood:]
	type dim struct {
		l, g density
	}
	dims := make([]dim, len(t.space))
	for i, p := range t.space {
		dims[i] = dim{l: newDensity(p, good), g: newDensity(p, bad)}
	}
	var best []float64
	bestScore := math.Inf(-1)
	for range t.opt.Candidates {
		x := make([]float64, len(t.space))
		score := 0.0
		for i, d := range dims {
			x[i] = d.l.sample(rng)
			score += d.l.logPDF(x[i]) - d.g.logPDF(x[i])
		}
		if score > bestScore {
			best, bestScore = x, score
		}
	}
	out := map[string]any{}
	for i, p := range t.space {
		out[p.Path] = p.fromInternal(best[i])
	}
	return out
}

// density is a Parzen estimator of one parameter in its internal space.
type density interface {
	sample(rng *rand.Rand) float64
	logPDF(x float64) float64
}

func newDensity(p Param, obs []Observation) density {
	if p.Kind == "choice" {
		c := categorical{w: make([]float64, len(p.Choices))}
		for i := range c.w {
			c.w[i] = 1 // the prior: one pseudo-count each
		}
		for _, o := range obs {
			if k := p.choiceIndex(o.Values[p.Path]); k >= 0 {
				c.w[k]++
			}
		}
		return c.normalized()
	}
	lo, hi := p.internalRange()
	var xs []float64
	for _, o := range obs {
		if v, ok := o.Values[p.Path].(float64); ok {
			xs = append(xs, p.toInternal(v))
		}
	}
	return newParzen(xs, lo, hi)
}

// internalRange is the range the estimator works in.
func (p Param) internalRange() (float64, float64) {
	switch p.Kind {
	case "log_uniform":
		return math.Log(p.Lo), math.Log(p.Hi)
	case "int_uniform":
		return p.Lo - 0.5, p.Hi + 0.5
	}
	return p.Lo, p.Hi
}

func (p Param) toInternal(v float64) float64 {
	if p.Kind == "log_uniform" {
		return math.Log(v)
	}
	return v
}

func (p Param) fromInternal(x float64) any {
	switch p.Kind {
	case "choice":
		return p.Choices[int(x)]
	case "log_uniform":
		return min(max(math.Exp(x), p.Lo), p.Hi)
	case "int_uniform":
		return min(max(math.Round(x), p.Lo), p.Hi)
	}
	return min(max(x, p.Lo), p.Hi)
}

// parzen is a mixture of Gaussians truncated to [lo, hi]: one at each
// observation plus the prior (centred, as wide as the range), equally
// weighted. Each observation's width is the larger distance to its
// neighbours, clipped to [range/min(100, n+1), range] (Bergstra et al.'s
// adaptive Parzen estimator).
type parzen struct {
	mu, sigma []float64
	lo, hi    float64
}

func newParzen(xs []float64, lo, hi float64) parzen {
	width := hi - lo
	mus := append(slices.Clone(xs), (lo+hi)/2)
	slices.Sort(mus)
	p := parzen{mu: mus, sigma: make([]float64, len(mus)), lo: lo, hi: hi}
	minSigma := width / math.Min(100, float64(len(mus)))
	prior := false
	for i, m := range mus {
		left, right := m-lo, hi-m
		if i > 0 {
			left = m - mus[i-1]
		}
		if i < len(mus)-1 {
			right = mus[i+1] - m
		}
		p.sigma[i] = min(max(left, right, minSigma), width)
		if !prior && m == (lo+hi)/2 {
			p.sigma[i], prior = width, true
		}
	}
	return p
}

func (p parzen) sample(rng *rand.Rand) float64 {
	k := rng.IntN(len(p.mu))
	for range 1000 {
		if x := p.mu[k] + p.sigma[k]*rng.NormFloat64(); x >= p.lo && x <= p.hi {
			return x
		}
	}
	return min(max(p.mu[k], p.lo), p.hi)
}

func (p parzen) logPDF(x float64) float64 {
	sum := 0.0
	for i, m := range p.mu {
		s := p.sigma[i]
		mass := normCDF((p.hi-m)/s) - normCDF((p.lo-m)/s)
		z := (x - m) / s
		sum += math.Exp(-z*z/2) / (s * math.Sqrt(2*math.Pi) * max(mass, 1e-12))
	}
	return math.Log(sum/float64(len(p.mu)) + 1e-300)
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// categorical is a distribution over choice indices.
type categorical struct{ w []float64 }

func (c categorical) normalized() categorical {
	sum := 0.0
	for _, w := range c.w {
		sum += w
	}
	for i := range c.w {
		c.w[i] /= sum
	}
	return c
}

func (c categorical) sample(rng *rand.Rand) float64 {
	u := rng.Float64()
	for i, w := range c.w {
		if u < w {
			return float64(i)
		}
		u -= w
	}
	return float64(len(c.w) - 1)
}

func (c categorical) logPDF(x float64) float64 { return math.Log(c.w[int(x)]) }
