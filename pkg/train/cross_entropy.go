package train

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// crossEntropy is softmax cross-entropy on logits against class indices,
// as torch.nn.CrossEntropyLoss: optional label smoothing and class
// weights (the mean is then weighted by the weights of the true classes).
type crossEntropy struct {
	opt    ops.CrossEntropyOptions
	ignore int // the target id no position counts for: ignoreIndex, or seq2seq's padding
}

// forTask sets the ignored target: seq2seq pads its targets with
// data.PadID; a language model's every position counts.
func (l *crossEntropy) forTask(task string) {
	if task == data.Seq2SeqTask {
		l.ignore = data.PadID
	}
}

func newCrossEntropy(o *config.Options) Loss {
	l := &crossEntropy{ignore: ignoreIndex}
	l.opt.Smoothing = o.Float("label_smoothing", 0)
	o.Range("label_smoothing", l.opt.Smoothing, 0, 1)
	l.opt.Weights = o.Floats("weights", nil)
	var sum float64
	for i, w := range l.opt.Weights {
		if !(w >= 0) {
			o.Fail("weights", "item %d: a class weight must be >= 0, got %v", i, w)
		}
		sum += w
	}
	if len(l.opt.Weights) > 0 && sum == 0 {
		o.Fail("weights", "every class weight is 0: the loss would be 0/0; give at least one class a positive weight")
	}
	return l
}

// ignoreIndex is PyTorch's default ignore_index; no target of the data
// takes it, so every position counts.
const ignoreIndex = -100

func (l *crossEntropy) Build(out, target *G.Node) (*G.Node, error) {
	if out.Dims() > 2 && target.Dims() == out.Dims()-1 { // a class per position: seq2seq's padding is ignored
		return ops.SequenceCrossEntropy(out, target, l.ignore)
	}
	if out.Dims() != 2 {
		return nil, fmt.Errorf("cross_entropy needs logits of shape (batch, classes), got %v", out.Shape())
	}
	return ops.SoftmaxCrossEntropyWith(out, target, l.opt)
}

func (*crossEntropy) Tasks() []string {
	return []string{"classification", "language_model", data.Seq2SeqTask}
}

func (l *crossEntropy) Output(meta data.Meta) ([]int, error) {
	if meta.Task == data.Seq2SeqTask {
		if l.opt.Smoothing != 0 || len(l.opt.Weights) > 0 {
			return nil, fmt.Errorf("label_smoothing and weights are not built for seq2seq (the loss is the mean cross-entropy over every target token but padding)")
		}
		return []int{meta.TargetSize(), len(meta.Classes)}, nil
	}
	if n := len(l.opt.Weights); n > 0 && n != len(meta.Classes) {
		return nil, fmt.Errorf("weights: %d class weights for %d classes (%v)", n, len(meta.Classes), meta.Classes)
	}
	if len(meta.Target) > 0 && (l.opt.Smoothing != 0 || len(l.opt.Weights) > 0) {
		return nil, fmt.Errorf("label_smoothing and weights are not built for a class at every position (data.text.targets: all); remove them or use text.targets: last")
	}
	return meta.ModelOutput(), nil
}
