package train

import (
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/models"
	"gorgonia.org/tensor"
)

// stepOperands returns a parameter holding w0 and a gradient holding
// grads[0], in float32 or float64.
func stepOperands(f32 bool) ([]*models.Param, []*tensor.Dense) {
	mk := func(v []float64) *tensor.Dense {
		if !f32 {
			return tensor.New(tensor.WithBacking(append([]float64(nil), v...)))
		}
		s := make([]float32, len(v))
		for i, x := range v {
			s[i] = float32(x)
		}
		return tensor.New(tensor.WithBacking(s))
	}
	return []*models.Param{{Name: "w", Value: mk(w0)}}, []*tensor.Dense{mk(grads[0])}
}

// TestOptimizerStepsDoNotAllocate: once its buffers exist, a step of
// every optimizer, and of every regularization, allocates nothing, in
// either dtype.
func TestOptimizerStepsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	reg := &Regularizer{L1: 1e-3, L2: 1e-3, ClipValue: 0.25, ClipNorm: 0.1}
	for _, c := range optimizerCases {
		for _, f32 := range []bool{false, true} {
			t.Run(c.name+map[bool]string{false: "/float64", true: "/float32"}[f32], func(t *testing.T) {
				opt, ps := NewOptimizer(block(t, "optimizer", c.config))
				if len(ps) > 0 {
					t.Fatal(ps)
				}
				params, g := stepOperands(f32)
				step := func() {
					reg.Penalize(params, g)
					reg.Clip(g)
					reg.Decay(opt.LR(), 0.01, params)
					if err := opt.Step(opt.LR(), params, g); err != nil {
						t.Fatal(err)
					}
				}
				step()
				if n := testing.AllocsPerRun(10, step); n != 0 {
					t.Errorf("%v allocations per step, want 0", n)
				}
			})
		}
	}
}

// TestOptimizersRefuseOtherDtypes: a parameter that is neither float32
// nor float64 is an error naming it and its dtype, not a parameter left
// silently untouched.
func TestOptimizersRefuseOtherDtypes(t *testing.T) {
	for _, c := range optimizerCases {
		t.Run(c.name, func(t *testing.T) {
			opt, _ := NewOptimizer(block(t, "optimizer", c.config))
			ints := func() *tensor.Dense { return tensor.New(tensor.WithBacking([]int{1, 2, 3})) }
			err := opt.Step(0.1, []*models.Param{{Name: "w", Value: ints()}}, []*tensor.Dense{ints()})
			if err == nil || !strings.Contains(err.Error(), "parameter w: int tensors are not supported") {
				t.Fatalf("error %v, want one naming w and the int dtype", err)
			}
		})
	}
}
