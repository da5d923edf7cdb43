package models

import (
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// Initializer fills w with initial values for a tensor with the given fan
// in (inputs per output unit) and fan out.
type Initializer func(rng *rand.Rand, w []float64, fanIn, fanOut int)

// initializers is every weight initializer, by config name. The scaled
// ones follow Glorot & Bengio (2010) and He et al. (2015), as in PyTorch's
// torch.nn.init with gain 1 (xavier) and √2 (he, for ReLU).
var initializers = map[string]Initializer{
	"zeros":  func(_ *rand.Rand, w []float64, _, _ int) { clear(w) },
	"ones":   func(_ *rand.Rand, w []float64, _, _ int) { fill(w, 1) },
	"normal": func(r *rand.Rand, w []float64, _, _ int) { normal(r, w, 0.05) },
	"uniform": func(r *rand.Rand, w []float64, _, _ int) {
		uniform(r, w, 0.05)
	},
	"xavier_uniform": func(r *rand.Rand, w []float64, in, out int) {
		uniform(r, w, math.Sqrt(6/float64(in+out)))
	},
	"xavier_normal": func(r *rand.Rand, w []float64, in, out int) {
		normal(r, w, math.Sqrt(2/float64(in+out)))
	},
	"he_uniform": func(r *rand.Rand, w []float64, in, _ int) {
		uniform(r, w, math.Sqrt(6/float64(in)))
	},
	"he_normal": func(r *rand.Rand, w []float64, in, _ int) {
		normal(r, w, math.Sqrt(2/float64(in)))
	},
	"orthogonal": func(r *rand.Rand, w []float64, in, _ int) { orthogonal(r, w, in) },
	// torch_linear: PyTorch's default for nn.Linear and nn.Conv weights,
	// kaiming_uniform(a=√5), which is uniform in ±1/√fanIn.
	"torch_linear": func(r *rand.Rand, w []float64, in, _ int) {
		uniform(r, w, 1/math.Sqrt(float64(in)))
	},
}

// biasInitializers is every bias initializer (model.bias_init), by config
// name: zeros, the default, or PyTorch's nn.Linear and nn.Conv* bias,
// uniform in ±1/√fanIn (fanIn of a transposed convolution taken as
// PyTorch does, from its weight's second axis: filters × kernel area).
var biasInitializers = map[string]Initializer{
	"zeros": initializers["zeros"],
	"torch_linear": func(r *rand.Rand, w []float64, in, _ int) {
		uniform(r, w, 1/math.Sqrt(float64(in)))
	},
}

// BiasInitializerNames lists the known bias initializers.
func BiasInitializerNames() []string { return slices.Sorted(maps.Keys(biasInitializers)) }

// InitializerNames lists the known initializers.
func InitializerNames() []string {
	var out []string
	for k := range initializers {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func fill(w []float64, v float64) {
	for i := range w {
		w[i] = v
	}
}

func uniform(r *rand.Rand, w []float64, limit float64) {
	for i := range w {
		w[i] = (2*r.Float64() - 1) * limit
	}
}

func normal(r *rand.Rand, w []float64, std float64) {
	for i := range w {
		w[i] = r.NormFloat64() * std
	}
}
