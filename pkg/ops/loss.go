package ops

import (
	"fmt"
	"math"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SoftmaxCrossEntropy returns the mean over the batch of −log softmax(logits)[label],
// computed stably through log-sum-exp. logits is (batch, classes); labels
// is (batch) holding class indices as numbers.
func SoftmaxCrossEntropy(logits, labels *G.Node) (*G.Node, error) {
	return SoftmaxCrossEntropyWith(logits, labels, CrossEntropyOptions{})
}

// CrossEntropyOptions are the options of torch.nn.CrossEntropyLoss that
// dltrain supports.
type CrossEntropyOptions struct {
	// Weights holds one weight per class (nil: all 1). The mean is then
	// weighted: Σ w[yᵢ]·lossᵢ / Σ w[yᵢ].
	Weights []float64
	// Smoothing ε mixes the one-hot target with the uniform distribution:
	// (1−ε)·onehot + ε/C.
	Smoothing float64
}

// SoftmaxCrossEntropyWith is SoftmaxCrossEntropy with class weights and
// label smoothing, with PyTorch's semantics:
//
//	loss = [ (1−ε)·Σᵢ w[yᵢ]·(lseᵢ − zᵢ,yᵢ) + ε/C·Σᵢ Σ_c w[c]·(lseᵢ − zᵢ,c) ] / Σᵢ w[yᵢ]
func SoftmaxCrossEntropyWith(logits, labels *G.Node, opt CrossEntropyOptions) (*G.Node, error) {
	return Apply(softmaxCE{opt}, []bool{true, false}, logits, labels)
}

type softmaxCE struct{ opt CrossEntropyOptions }

func (softmaxCE) Name() string { return "softmax_cross_entropy" }

func (k softmaxCE) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].Dims() != 2 || in[1].Dims() != 1 || in[0][0] != in[1][0] {
		return nil, fmt.Errorf("want logits (batch, classes) and labels (batch), got %v and %v", in[0], in[1])
	}
	if k.opt.Weights != nil && len(k.opt.Weights) != in[0][1] {
		return nil, fmt.Errorf("%d class weights for %d classes", len(k.opt.Weights), in[0][1])
	}
	return tensor.ScalarShape(), nil
}

func (k softmaxCE) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, softmaxCEBody[float32], softmaxCEBody[float64])
}

func softmaxCEBody[T compute.Float](k softmaxCE, out []T, in []*tensor.Dense) error {
	v, err := crossEntropy(data[T](in[0]), data[T](in[1]), in[0].Shape()[1], k.opt)
	out[0] = T(v)
	return err
}

func label[T compute.Float](v T, classes int) (int, error) {
	k := int(v)
	if T(k) != v || k < 0 || k >= classes {
		return 0, fmt.Errorf("label %v is not a class index in [0, %d)", v, classes)
	}
	return k, nil
}

// classWeight is w[k], or 1 without weights.
func classWeight(w []float64, k int) float64 {
	if w == nil {
		return 1
	}
	return w[k]
}

// crossEntropy accumulates in float64 so that the mean of a large batch in
// float32 does not lose the small terms.
func crossEntropy[T compute.Float](logits, labels []T, c int, opt CrossEntropyOptions) (float64, error) {
	var nll, smooth, norm float64
	eps := opt.Smoothing
	for i, y := range labels {
		k, err := label(y, c)
		if err != nil {
			return 0, err
		}
		row := logits[i*c : (i+1)*c]
		lse := logSumExp(row)
		wk := classWeight(opt.Weights, k)
		norm += wk
		nll += wk * (lse - float64(row[k]))
		if eps != 0 {
			for j, z := range row {
				smooth += classWeight(opt.Weights, j) * (lse - float64(z))
			}
		}
	}
	return ((1-eps)*nll + eps/float64(c)*smooth) / norm, nil
}

func logSumExp[T compute.Float](row []T) float64 {
	m := float64(row[0])
	for _, v := range row {
		m = max(m, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - m)
	}
	return m + math.Log(s)
}

func (k softmaxCE) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(softmaxCEGrad(k), []bool{false, false, true}, in[0], in[1], grad)
	return G.Nodes{g, nil}, err
}

// softmaxCEGrad computes d(loss)/d(logits):
//
//	g/W · [ (1−ε)·w[y]·(p − onehot(y)) + ε/C·(Σw·p − w) ]
type softmaxCEGrad softmaxCE

func (softmaxCEGrad) Name() string { return "softmax_cross_entropy_grad" }

func (softmaxCEGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (k softmaxCEGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, softmaxCEGradBody[float32], softmaxCEGradBody[float64])
}

func softmaxCEGradBody[T compute.Float](k softmaxCEGrad, dx []T, in []*tensor.Dense) error {
	return crossEntropyGrad(dx, data[T](in[0]), data[T](in[1]), data[T](in[2])[0], in[0].Shape()[1], k.opt)
}

func crossEntropyGrad[T compute.Float](dx, logits, labels []T, g T, c int, opt CrossEntropyOptions) error {
	softmaxRows(dx, logits, c)
	var norm, sumW float64
	for j := 0; j < c; j++ {
		sumW += classWeight(opt.Weights, j)
	}
	for _, y := range labels {
		k, err := label(y, c)
		if err != nil {
			return err
		}
		norm += classWeight(opt.Weights, k)
	}
	eps := opt.Smoothing
	scale := float64(g) / norm
	for i, y := range labels {
		k := int(y)
		wk := classWeight(opt.Weights, k)
		row := dx[i*c : (i+1)*c]
		for j, p := range row {
			d := (1 - eps) * wk * float64(p)
			if j == k {
				d -= (1 - eps) * wk
			}
			if eps != 0 {
				d += eps / float64(c) * (sumW*float64(p) - classWeight(opt.Weights, j))
			}
			row[j] = T(scale * d)
		}
	}
	return nil
}

func (softmaxCEGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}

// MeanSquaredError returns the mean over every element of (pred − target)².
func MeanSquaredError(pred, target *G.Node) (*G.Node, error) {
	return Apply(mse{}, []bool{true, false}, pred, target)
}

type mse struct{}

func (mse) Name() string { return "mse" }

func (mse) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	if in[0].TotalSize() != in[1].TotalSize() {
		return nil, fmt.Errorf("prediction %v and target %v differ in size", in[0], in[1])
	}
	return tensor.ScalarShape(), nil
}

func (k mse) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, mseBody[float32], mseBody[float64])
}

func mseBody[T compute.Float](_ mse, out []T, in []*tensor.Dense) error {
	p, t := data[T](in[0]), data[T](in[1])
	out[0] = T(compute.SquaredDiffSum(p, t) / float64(len(p)))
	return nil
}

func (mse) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(mseGrad{}, []bool{false, false, true}, in[0], in[1], grad)
	return G.Nodes{g, nil}, err
}

// mseGrad computes 2·g·(pred − target)/n.
type mseGrad struct{}

func (mseGrad) Name() string { return "mse_grad" }

func (mseGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (k mseGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, mseGradBody[float32], mseGradBody[float64])
}

func mseGradBody[T compute.Float](_ mseGrad, dx []T, in []*tensor.Dense) error {
	p, t, g := data[T](in[0]), data[T](in[1]), data[T](in[2])[0]
	compute.ScaledDiff(dx, p, t, 2*g/T(len(p)))
	return nil
}

func (mseGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
