package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// SequenceCrossEntropy returns the mean cross-entropy of every position of
// a sequence, as PyTorch's F.cross_entropy(logits.reshape(−1, C),
// targets.reshape(−1), ignore_index=ignore) with reduction 'mean': logits
// are [..., C] (such as [B, T, C]), targets have logits' shape without the
// last axis ([B, T]) and hold class ids as numbers. A position whose
// target is ignore (padding, or a prompt that is not predicted) neither
// counts in the mean nor gets a gradient; the others must be integers in
// [0, C), or the forward pass fails naming the position.
//
// When every position is ignored (a batch of padding only), PyTorch
// returns NaN; here the loss is 0 and its gradient is 0, so that such a
// batch leaves the weights as they are instead of poisoning them.
func SequenceCrossEntropy(logits, targets *G.Node, ignore int) (*G.Node, error) {
	return Apply(seqCE{ignore: ignore}, []bool{true, false}, logits, targets)
}

type seqCE struct{ ignore int }

func (k seqCE) Name() string { return fmt.Sprintf("sequence_cross_entropy(ignore %d)", k.ignore) }

func (seqCE) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	l, y := in[0], in[1]
	if l.Dims() < 2 || !sameShape(l[:l.Dims()-1], y) {
		return nil, fmt.Errorf("want logits [..., classes] and targets of the leading shape, got %v and %v", l, y)
	}
	return tensor.ScalarShape(), nil
}

func (k seqCE) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, seqCEBody[float32], seqCEBody[float64])
}

func seqCEBody[T compute.Float](k seqCE, out []T, in []*tensor.Dense) error {
	v, err := seqCrossEntropy(data[T](in[0]), data[T](in[1]), lastAxis(in[0]), k.ignore)
	out[0] = T(v)
	return err
}

// target returns the class of a position, or ok = false where it is
// ignored.
func target[T compute.Float](y T, pos, c, ignore int) (k int, ok bool, err error) {
	if y == T(ignore) {
		return 0, false, nil
	}
	k = int(y)
	if T(k) != y || k < 0 || k >= c {
		return 0, false, fmt.Errorf("target %v at position %d is neither a class in [0, %d) nor the ignore index %d", y, pos, c, ignore)
	}
	return k, true, nil
}

// seqCrossEntropy accumulates in float64, as crossEntropy does.
func seqCrossEntropy[T compute.Float](logits, targets []T, c, ignore int) (float64, error) {
	var sum float64
	n := 0
	for i, y := range targets {
		k, ok, err := target(y, i, c, ignore)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		row := logits[i*c : (i+1)*c]
		sum += logSumExp(row) - float64(row[k])
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return sum / float64(n), nil
}

func (k seqCE) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(seqCEGrad(k), []bool{false, false, true}, in[0], in[1], grad)
	return G.Nodes{g, nil}, err
}

// seqCEGrad computes d(loss)/d(logits) = g/n·(softmax − onehot) at the n
// positions that count, 0 at the ignored ones.
type seqCEGrad seqCE

func (seqCEGrad) Name() string { return "sequence_cross_entropy_grad" }

func (seqCEGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (k seqCEGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, seqCEGradBody[float32], seqCEGradBody[float64])
}

func seqCEGradBody[T compute.Float](k seqCEGrad, o []T, in []*tensor.Dense) error {
	return seqCrossEntropyGrad(o, data[T](in[0]), data[T](in[1]), data[T](in[2])[0], lastAxis(in[0]), k.ignore)
}

func seqCrossEntropyGrad[T compute.Float](dx, logits, targets []T, g T, c, ignore int) error {
	n := 0
	for i, y := range targets {
		_, ok, err := target(y, i, c, ignore)
		if err != nil {
			return err
		}
		if ok {
			n++
		}
	}
	scale := float64(g) / float64(max(n, 1))
	for i, y := range targets {
		row := dx[i*c : (i+1)*c]
		k, ok, _ := target(y, i, c, ignore)
		if !ok {
			clear(row)
			continue
		}
		softmaxRows(row, logits[i*c:(i+1)*c], c)
		for j, p := range row {
			d := float64(p)
			if j == k {
				d--
			}
			row[j] = T(scale * d)
		}
	}
	return nil
}

func (seqCEGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
