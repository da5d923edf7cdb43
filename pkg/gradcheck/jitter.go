package gradcheck

import (
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/models"
)

// Jitter adds uniform noise in [−scale, scale] to every bias and
// normalization parameter of store. They start as constants (biases and
// shifts 0, scales 1), and a check from there would prove less: every unit
// of a layer fed the same padding would sit on the same point, exactly on
// a ReLU's kink when its bias is 0, where the two one-sided differences
// disagree. Weights are left as their initializers drew them.
func Jitter(store *models.ParamStore, rng *rand.Rand, scale float64) {
	for _, p := range store.Trainable() {
		if p.Role != models.Bias && p.Role != models.Norm {
			continue
		}
		switch v := p.Value.Data().(type) {
		case []float64:
			for i := range v {
				v[i] += (2*rng.Float64() - 1) * scale
			}
		case []float32:
			for i := range v {
				v[i] += float32((2*rng.Float64() - 1) * scale)
			}
		}
	}
}
