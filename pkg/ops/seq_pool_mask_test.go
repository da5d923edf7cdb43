package ops

import (
	"math"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestSequencePoolMaskedValues compares masked mean, max and first
// pooling with a direct computation over the real positions; a sequence
// with none pools to zeros (mean, max).
func TestSequencePoolMaskedValues(t *testing.T) {
	b, steps, d := 3, 4, 2
	x := seqTensor([]int{b, steps, d}, 0.3, 0.77, 2)
	xs := data[float64](x)
	lengths := []int{4, 2, 0}
	for _, mode := range []string{"mean", "max", "first"} {
		t.Run(mode, func(t *testing.T) {
			got, _ := runWithGradsOf(t, tensor.Float64, []*tensor.Dense{x, keepTensor(steps, lengths...)}, []bool{true, false},
				func(n []*G.Node) (*G.Node, error) { return SequencePoolMasked(n[0], n[1], mode) })
			for r, n := range lengths {
				for j := range d {
					want := 0.0
					switch {
					case mode == "first":
						want = xs[(r*steps)*d+j]
					case n == 0:
					case mode == "mean":
						for p := range n {
							want += xs[(r*steps+p)*d+j] / float64(n)
						}
					default:
						want = math.Inf(-1)
						for p := range n {
							want = max(want, xs[(r*steps+p)*d+j])
						}
					}
					if g := got[r*d+j]; math.Abs(g-want) > 1e-15 {
						t.Errorf("row %d feature %d: got %v, want %v", r, j, g, want)
					}
				}
			}
		})
	}
}

// TestSequencePoolMaskedGradients checks masked and unmasked mean and max
// pooling against central finite differences.
func TestSequencePoolMaskedGradients(t *testing.T) {
	x := seqTensor([]int{3, 5, 4}, 0.1, 0.93, 1.7) // distinct values: no ties for max
	for _, mode := range []string{"mean", "max"} {
		for _, masked := range []bool{false, true} {
			name := mode
			if masked {
				name += "/masked"
			}
			t.Run(name, func(t *testing.T) {
				in, names, wrt := []*tensor.Dense{x}, []string{"x"}, []bool{true}
				if masked {
					in, names, wrt = append(in, keepTensor(5, 5, 2, 0)), append(names, "mask"), append(wrt, false)
				}
				build := func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
					var keep *G.Node
					if masked {
						keep = n[1]
					}
					return SequencePoolMasked(n[0], keep, mode)
				}
				res, err := GradCheck(names, in, wrt, build, GradCheckOptions{Seed: 5})
				must(t, err)
				for _, r := range res {
					if r.RelErr > 1e-7 || r.Checked == 0 {
						t.Errorf("%s: relative error %.3g over %d elements", r.Name, r.RelErr, r.Checked)
					}
				}
			})
		}
	}
}

// TestKeepMask: 1 where an id is not the padding id, 0 where it is.
func TestKeepMask(t *testing.T) {
	ids := tensor.New(tensor.WithShape(2, 3), tensor.WithBacking([]float64{4, 1, 0, 0, 0, 0}))
	got, _ := runWithGradsOf(t, tensor.Float64, []*tensor.Dense{ids, seqTensor([]int{2, 3}, 0, 1, 1)}, []bool{false, true},
		func(n []*G.Node) (*G.Node, error) {
			k, err := KeepMask(n[0], 0)
			if err != nil {
				return nil, err
			}
			return Add(k, G.Must(G.Mul(n[1], G.NewConstant(0.0))))
		})
	want := []float64{1, 1, 0, 0, 0, 0}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("mask %v, want %v", got, want)
		}
	}
}
