package train

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// binaryCrossEntropy is torch.nn.BCEWithLogitsLoss for a binary
// classification: the model has one output, the logit of the second class
// (class index 1, the positive class), and the target is the class index.
// pos_weight multiplies the loss of positive samples.
type binaryCrossEntropy struct {
	posWeight float64
}

func newBinaryCrossEntropy(o *config.Options) Loss {
	l := &binaryCrossEntropy{posWeight: o.Float("pos_weight", 1)}
	o.Positive("pos_weight", l.posWeight)
	return l
}

func (l *binaryCrossEntropy) Build(out, target *G.Node) (*G.Node, error) {
	return ops.BinaryCrossEntropyWithLogits(out, target, l.posWeight)
}

func (*binaryCrossEntropy) Tasks() []string { return []string{"classification"} }

func (*binaryCrossEntropy) Output(meta data.Meta) ([]int, error) {
	if len(meta.Classes) != 2 {
		return nil, fmt.Errorf("binary_cross_entropy needs exactly 2 classes, the data has %d; use cross_entropy", len(meta.Classes))
	}
	return []int{1}, nil
}
