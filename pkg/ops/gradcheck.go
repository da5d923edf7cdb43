package ops

import (
	"fmt"
	"math"
	"math/rand/v2"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// GradResult is the comparison of one input's symbolic gradient with
// central finite differences.
type GradResult struct {
	Name    string
	Checked int     // elements perturbed
	RelErr  float64 // max |analytic − numeric| / max(max |analytic|, max |numeric|)
	AbsErr  float64 // max |analytic − numeric|
	MaxGrad float64 // max |numeric|
}

// GradCheckOptions tunes GradCheck.
type GradCheckOptions struct {
	Eps         float64 // finite-difference step; default 1e-6
	MaxElements int     // elements perturbed per input, spread evenly; 0 means all
	Seed        uint64  // seeds the random projection of the output
}

// GradCheck builds f with build over float64 inputs (each bound to a copy
// of inputs[i]), reduces its output to the scalar Σ f⊙R for a fixed random
// R (a scalar output is the cost itself), and compares the symbolic gradient of every input with wrt[i] set to
// central finite differences. The graph must be deterministic between runs
// (freeze dropout masks).
func GradCheck(names []string, inputs []*tensor.Dense, wrt []bool,
	build func(g *G.ExprGraph, in []*G.Node) (*G.Node, error), opt GradCheckOptions) ([]GradResult, error) {
	if opt.Eps == 0 {
		opt.Eps = 1e-6
	}
	g := G.NewGraph()
	nodes := make([]*G.Node, len(inputs))
	var targets G.Nodes
	for i, t := range inputs {
		if t.Dtype() != tensor.Float64 {
			return nil, fmt.Errorf("gradient checks run in float64; input %s is %v", names[i], t.Dtype())
		}
		nodes[i] = G.NewTensor(g, tensor.Float64, t.Dims(), G.WithShape(t.Shape()...),
			G.WithName(names[i]), G.WithValue(t.Clone().(*tensor.Dense)))
		if wrt[i] {
			targets = append(targets, nodes[i])
		}
	}
	out, err := build(g, nodes)
	if err != nil {
		return nil, err
	}
	cost := out
	if !out.IsScalar() {
		rng := rand.New(rand.NewPCG(opt.Seed, 0x9e3779b97f4a7c15))
		proj := make([]float64, out.Shape().TotalSize())
		for i := range proj {
			proj[i] = rng.Float64()*2 - 1
		}
		r := G.NewTensor(g, tensor.Float64, out.Dims(), G.WithShape(out.Shape()...), G.WithName("projection"),
			G.WithValue(tensor.New(tensor.WithShape(out.Shape()...), tensor.WithBacking(proj))))
		if cost, err = WeightedSum(out, r); err != nil {
			return nil, err
		}
	}
	grads, err := G.Grad(cost, targets...)
	if err != nil {
		return nil, fmt.Errorf("building gradients: %w", err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	eval := func() (float64, error) {
		defer m.Reset()
		if err := m.RunAll(); err != nil {
			return 0, err
		}
		return scalarValue(cost.Value()), nil
	}
	if _, err := eval(); err != nil {
		return nil, err
	}
	analytic := make([][]float64, len(grads))
	for i, gn := range grads {
		analytic[i] = append([]float64(nil), gn.Value().Data().([]float64)...)
	}
	var results []GradResult
	k := 0
	for i, n := range nodes {
		if !wrt[i] {
			continue
		}
		x := n.Value().Data().([]float64)
		res := GradResult{Name: names[i]}
		stride := 1
		if opt.MaxElements > 0 && len(x) > opt.MaxElements {
			stride = (len(x) + opt.MaxElements - 1) / opt.MaxElements
		}
		var maxA, maxN float64
		for j := 0; j < len(x); j += stride {
			orig := x[j]
			x[j] = orig + opt.Eps
			plus, err := eval()
			if err != nil {
				return nil, err
			}
			x[j] = orig - opt.Eps
			minus, err := eval()
			if err != nil {
				return nil, err
			}
			x[j] = orig
			num := (plus - minus) / (2 * opt.Eps)
			a := analytic[k][j]
			res.AbsErr = max(res.AbsErr, math.Abs(a-num))
			maxA, maxN = max(maxA, math.Abs(a)), max(maxN, math.Abs(num))
			res.Checked++
		}
		res.MaxGrad = maxN
		if scale := max(maxA, maxN); scale > 0 {
			res.RelErr = res.AbsErr / scale
		}
		results = append(results, res)
		k++
	}
	return results, nil
}

func scalarValue(v G.Value) float64 {
	switch x := v.(type) {
	case *G.F64:
		return float64(*x)
	case *G.F32:
		return float64(*x)
	case *tensor.Dense:
		if f, ok := x.Data().(float64); ok {
			return f
		}
		return x.Data().([]float64)[0]
	}
	return math.NaN()
}
