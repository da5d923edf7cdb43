package ops

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func vec(v ...float64) *tensor.Dense {
	return tensor.New(tensor.WithShape(len(v)), tensor.WithBacking(v))
}

// evalLoss runs build on float64 constants and returns the scalar.
func evalLoss(t *testing.T, in []*tensor.Dense, build func([]*G.Node) (*G.Node, error)) float64 {
	t.Helper()
	g := G.NewGraph()
	nodes := make([]*G.Node, len(in))
	for i, x := range in {
		nodes[i] = G.NewTensor(g, tensor.Float64, x.Dims(), G.WithShape(x.Shape()...), G.WithName(fmt.Sprintf("in%d", i)), G.WithValue(x))
	}
	out, err := build(nodes)
	if err != nil {
		t.Fatal(err)
	}
	m := G.NewTapeMachine(g)
	defer m.Close()
	if err := m.RunAll(); err != nil {
		t.Fatal(err)
	}
	return scalarValue(out.Value())
}

// TestLossValuesMatchPyTorch compares every loss kernel with values printed
// by PyTorch 1.13 in float64 (torch.nn.functional.cross_entropy,
// binary_cross_entropy_with_logits, mse_loss, l1_loss, huber_loss on the
// inputs below; script: the inputs and calls exactly as written here).
func TestLossValuesMatchPyTorch(t *testing.T) {
	logits := tensor.New(tensor.WithShape(4, 3), tensor.WithBacking([]float64{1.5, -0.3, 0.2, -1.0, 2.0, 0.5, 0.3, 0.1, -2.2, 0.0, 0.7, 1.1}))
	labels := vec(0, 1, 2, 1)
	w := []float64{0.5, 2.0, 1.5}
	x, y := vec(2.5, -1.0, 0.3, -30.0, 40.0), vec(1, 0, 1, 1, 0)
	p, q := vec(0.5, -1.2, 2.0, 3.5, -0.1, 0.9), vec(0.2, -1.0, 0.4, 1.0, 0.3, 0.95)
	ce := func(opt CrossEntropyOptions) func(n []*G.Node) (*G.Node, error) {
		return func(n []*G.Node) (*G.Node, error) { return SoftmaxCrossEntropyWith(n[0], n[1], opt) }
	}
	cases := []struct {
		name  string
		in    []*tensor.Dense
		build func([]*G.Node) (*G.Node, error)
		want  float64
	}{
		{"cross_entropy", []*tensor.Dense{logits, labels}, ce(CrossEntropyOptions{}), 1.2103678534808844},
		{"cross_entropy smoothing 0.1", []*tensor.Dense{logits, labels}, ce(CrossEntropyOptions{Smoothing: 0.1}), 1.2362011868142178},
		{"cross_entropy weighted", []*tensor.Dense{logits, labels}, ce(CrossEntropyOptions{Weights: w}), 1.2611829999629862},
		{"cross_entropy weighted smoothing 0.2", []*tensor.Dense{logits, labels}, ce(CrossEntropyOptions{Weights: w, Smoothing: 0.2}), 1.259678462811435},
		{"bce", []*tensor.Dense{x, y}, func(n []*G.Node) (*G.Node, error) { return BinaryCrossEntropyWithLogits(n[0], n[1], 1) }, 14.189301333255878},
		{"bce pos_weight 3", []*tensor.Dense{x, y}, func(n []*G.Node) (*G.Node, error) { return BinaryCrossEntropyWithLogits(n[0], n[1], 3) }, 26.442599324760344},
		{"mse", []*tensor.Dense{p, q}, func(n []*G.Node) (*G.Node, error) { return MeanSquaredError(n[0], n[1]) }, 1.5170833333333336},
		{"mae", []*tensor.Dense{p, q}, func(n []*G.Node) (*G.Node, error) { return MeanAbsoluteError(n[0], n[1]) }, 0.8416666666666667},
		{"huber delta 1", []*tensor.Dense{p, q}, func(n []*G.Node) (*G.Node, error) { return Huber(n[0], n[1], 1) }, 0.5410416666666666},
		{"huber delta 0.7", []*tensor.Dense{p, q}, func(n []*G.Node) (*G.Node, error) { return Huber(n[0], n[1], 0.7) }, 0.4210416666666667},
		// torch.nn.functional.binary_cross_entropy (BCELoss) on probabilities,
		// then on probabilities of 0 and 1 where its logs are clamped at −100.
		{"bce on probabilities", []*tensor.Dense{vec(0.1, 0.9, 0.5, 0.999, 0.02, 0.7), vec(0, 1, 0.3, 0.2, 0.5, 0.7)},
			func(n []*G.Node) (*G.Node, error) { return BinaryCrossEntropy(n[0], n[1]) }, 1.5012082822592916},
		{"bce on certain probabilities", []*tensor.Dense{vec(0, 1, 0.5), vec(0, 1, 1)},
			func(n []*G.Node) (*G.Node, error) { return BinaryCrossEntropy(n[0], n[1]) }, 0.23104906018664842},
		{"bce clamped at -100", []*tensor.Dense{vec(0, 1, 0.25), vec(1, 0, 1)},
			func(n []*G.Node) (*G.Node, error) { return BinaryCrossEntropy(n[0], n[1]) }, 67.12876478703997},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := evalLoss(t, c.in, c.build); math.Abs(got-c.want) > 1e-12*max(1, math.Abs(c.want)) {
				t.Errorf("got %.17g, want %.17g (PyTorch)", got, c.want)
			}
		})
	}
}

// randTargets returns values in [0, 1] (probabilities for BCE) or spread
// targets kept at least 0.1 away from the predictions, so no element sits
// on a kink of |d| or of Huber's threshold within the finite-difference step.
func awayFrom(rng *rand.Rand, pred *tensor.Dense, kinks []float64) *tensor.Dense {
	p := pred.Data().([]float64)
	out := make([]float64, len(p))
	for i := range out {
		for {
			out[i] = rng.Float64()*4 - 2
			ok := true
			for _, k := range kinks {
				if math.Abs(math.Abs(p[i]-out[i])-k) < 0.1 {
					ok = false
				}
			}
			if ok {
				break
			}
		}
	}
	return tensor.New(tensor.WithShape(pred.Shape()...), tensor.WithBacking(out))
}

func TestNewLossGradients(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	t.Run("cross_entropy weighted smoothed", func(t *testing.T) {
		in := []*tensor.Dense{randTensor(rng, 7, 4), labels(rng, 7, 4)}
		checkAll(t, []string{"logits", "labels"}, in, []bool{true, false}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
			return SoftmaxCrossEntropyWith(n[0], n[1], CrossEntropyOptions{Weights: []float64{0.3, 1, 2.5, 0.8}, Smoothing: 0.15})
		})
	})
	t.Run("binary_cross_entropy", func(t *testing.T) {
		x := randTensor(rng, 6, 2)
		y := randTensor(rng, 6, 2)
		for i, v := range y.Data().([]float64) {
			y.Data().([]float64)[i] = math.Abs(v) // soft targets in [0, 1] are allowed too
		}
		checkAll(t, []string{"logits", "targets"}, []*tensor.Dense{x, y}, []bool{true, false}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
			return BinaryCrossEntropyWithLogits(n[0], n[1], 2.5)
		})
	})
	t.Run("binary_cross_entropy on probabilities", func(t *testing.T) {
		p := randTensor(rng, 6, 2)
		for i, v := range p.Data().([]float64) {
			p.Data().([]float64)[i] = 0.05 + 0.9/(1+math.Exp(-v)) // in [0.05, 0.95]: away from the clamps
		}
		y := randTensor(rng, 6, 2)
		for i, v := range y.Data().([]float64) {
			y.Data().([]float64)[i] = math.Min(1, math.Abs(v))
		}
		checkAll(t, []string{"probs", "targets"}, []*tensor.Dense{p, y}, []bool{true, false}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
			return BinaryCrossEntropy(n[0], n[1])
		})
	})
	t.Run("mae", func(t *testing.T) {
		p := randTensor(rng, 5, 3)
		checkAll(t, []string{"pred", "target"}, []*tensor.Dense{p, awayFrom(rng, p, []float64{0})}, []bool{true, false}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
			return MeanAbsoluteError(n[0], n[1])
		})
	})
	t.Run("huber", func(t *testing.T) {
		p := randTensor(rng, 5, 3)
		checkAll(t, []string{"pred", "target"}, []*tensor.Dense{p, awayFrom(rng, p, []float64{0.8})}, []bool{true, false}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
			return Huber(n[0], n[1], 0.8)
		})
	})
}

func TestBinaryCrossEntropyIsStable(t *testing.T) {
	// σ(±800) rounds to 0 or 1; the softplus form still gives the exact
	// loss: softplus(800) = 800.
	got := evalLoss(t, []*tensor.Dense{vec(800, -800), vec(0, 1)}, func(n []*G.Node) (*G.Node, error) {
		return BinaryCrossEntropyWithLogits(n[0], n[1], 1)
	})
	if math.Abs(got-800) > 1e-9 {
		t.Errorf("loss = %v, want 800", got)
	}
}
