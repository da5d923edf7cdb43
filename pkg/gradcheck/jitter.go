package gradcheck

import (
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/ops"
	"gorgonia.org/tensor"
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
		ops.Must(ops.Dispatch(p.Value.Dtype(), jitter{p.Value, rng, scale}, jitterBody[float32], jitterBody[float64]))
	}
}

// jitter is Jitter's arguments for one parameter t.
type jitter struct {
	t     *tensor.Dense
	rng   *rand.Rand
	scale float64
}

func jitterBody[T compute.Float](j jitter) error {
	v := ops.Floats[T](j.t)
	for i := range v {
		v[i] += T((2*j.rng.Float64() - 1) * j.scale)
	}
	return nil
}
