package train

import (
	"fmt"
	"math"
	"path"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/ops"
	"gorgonia.org/tensor"
)

// Regularizer is what the loop does to gradients and weights around each
// optimizer step, in this order:
//
//  1. L1 and L2 penalties: their gradients l1·sign(w) and l2·w are added,
//     and l1·Σ|w| + 0.5·l2·Σw² is reported as the step's penalty;
//  2. clipping: each gradient element clamped to ±ClipValue, then every
//     gradient rescaled when their global L2 norm exceeds ClipNorm (as
//     torch.nn.utils.clip_grad_norm_);
//  3. decoupled weight decay: w ← w − lr·WeightDecay·w (as AdamW).
//
// Penalties and decay skip the parameters Skip selects.
type Regularizer struct {
	L1, L2, WeightDecay float64
	ClipNorm, ClipValue float64
	// Skip selects the parameters penalties and decay leave alone.
	Skip func(p *models.Param) bool
}

// Excluder returns the Skip function for train.regularization.exclude:
// each entry is a role (weight, bias, norm) or a path.Match pattern on
// parameter names. Buffers are never penalized.
func Excluder(exclude []string) func(p *models.Param) bool {
	return func(p *models.Param) bool {
		if p.Role == models.Buffer {
			return true
		}
		for _, x := range exclude {
			if x == p.Role.String() {
				return true
			}
			if ok, _ := path.Match(x, p.Name); ok {
				return true
			}
		}
		return false
	}
}

// CheckExclude reports patterns of exclude that match no parameter of the
// store (a typo would otherwise silently penalize everything).
func CheckExclude(store *models.ParamStore, exclude []string) error {
	var unused []string
	for _, x := range exclude {
		if slices.Contains([]string{"weight", "bias", "norm"}, x) {
			continue
		}
		used := false
		for _, p := range store.All() {
			if ok, _ := path.Match(x, p.Name); ok {
				used = true
			}
		}
		if !used {
			unused = append(unused, x)
		}
	}
	if len(unused) > 0 {
		var names []string
		for _, p := range store.All() {
			names = append(names, p.Name)
		}
		verb := "matches"
		if len(unused) > 1 {
			verb = "match"
		}
		return fmt.Errorf("%s %s no parameter; the parameters are: %s", strings.Join(unused, ", "), verb, strings.Join(names, ", "))
	}
	return nil
}

func (r *Regularizer) skip(p *models.Param) bool { return r.Skip != nil && r.Skip(p) }

// Penalize adds the L1 and L2 gradients to grads and returns the penalty.
func (r *Regularizer) Penalize(params []*models.Param, grads []*tensor.Dense) float64 {
	if r.L1 == 0 && r.L2 == 0 {
		return 0
	}
	var pen float64
	for i, p := range params {
		if r.skip(p) {
			continue
		}
		pen += ops.MustValue(ops.DispatchValue(p.Value.Dtype(), penalty{r.L1, r.L2, p.Value, grads[i]}, penalize[float32], penalize[float64]))
	}
	return pen
}

// penalty is the L1 and L2 coefficients, a parameter w and its gradient g.
type penalty struct {
	l1, l2 float64
	w, g   *tensor.Dense
}

// penalize adds the penalties' gradients to g and returns the penalty.
func penalize[T compute.Float](a penalty) float64 {
	l1, l2, w, g := a.l1, a.l2, ops.Floats[T](a.w), ops.Floats[T](a.g)
	var abs, sq float64
	c1, c2 := T(l1), T(l2)
	for j, v := range w {
		switch {
		case v > 0:
			g[j] += c1
		case v < 0:
			g[j] -= c1
		}
		g[j] += c2 * v
		abs += math.Abs(float64(v))
		sq += float64(v) * float64(v)
	}
	return l1*abs + 0.5*l2*sq
}

// Clip clamps and rescales grads in place and returns their global L2
// norm before rescaling (0 when ClipNorm is off).
func (r *Regularizer) Clip(grads []*tensor.Dense) float64 {
	if r.ClipValue > 0 {
		for _, g := range grads {
			ops.Must(ops.Dispatch(g.Dtype(), scaling{g, r.ClipValue}, clamp[float32], clamp[float64]))
		}
	}
	if r.ClipNorm == 0 {
		return 0
	}
	norm := GlobalNorm(grads)
	coef := r.ClipNorm / (norm + 1e-6)
	if coef < 1 {
		for _, g := range grads {
			ops.Must(ops.Dispatch(g.Dtype(), scaling{g, coef}, scale[float32], scale[float64]))
		}
	}
	return norm
}

// GlobalNorm is the L2 norm of every gradient taken together (squares
// summed in float64, without copying the tensors).
func GlobalNorm(grads []*tensor.Dense) float64 {
	var s float64
	for _, g := range grads {
		s += ops.MustValue(ops.DispatchValue(g.Dtype(), g, sumSquares[float32], sumSquares[float64]))
	}
	return math.Sqrt(s)
}

// sumSquares is Σx² over a tensor's values, summed in float64.
func sumSquares[T compute.Float](t *tensor.Dense) float64 {
	var s float64
	for _, v := range ops.Floats[T](t) {
		s += float64(v) * float64(v)
	}
	return s
}

// scaling is a tensor and a constant c, for clamp and scale.
type scaling struct {
	t *tensor.Dense
	c float64
}

// clamp clamps the tensor's values to [−c, c].
func clamp[T compute.Float](a scaling) error {
	d, c := ops.Floats[T](a.t), T(a.c)
	for j, v := range d {
		d[j] = min(max(v, -c), c)
	}
	return nil
}

// scale multiplies the tensor's values by c.
func scale[T compute.Float](a scaling) error {
	d, c := ops.Floats[T](a.t), T(a.c)
	for j := range d {
		d[j] *= c
	}
	return nil
}

// Decay shrinks every decayed parameter by lr·wd (decoupled weight decay).
func (r *Regularizer) Decay(lr, wd float64, params []*models.Param) {
	if wd == 0 {
		return
	}
	f := 1 - lr*wd
	for _, p := range params {
		if r.skip(p) {
			continue
		}
		ops.Must(ops.Dispatch(p.Value.Dtype(), scaling{p.Value, f}, scale[float32], scale[float64]))
	}
}
