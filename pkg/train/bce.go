package train

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// probabilityCrossEntropy is torch.nn.BCELoss: the binary cross-entropy
// of probabilities (a sigmoid's outputs) against targets in [0, 1], every
// value on its own. An autoencoder of inputs scaled to [0, 1] (minmax)
// whose decoder ends in a sigmoid trains with it; binary_cross_entropy is
// the two-class classification loss on a logit.
type probabilityCrossEntropy struct{}

func newProbabilityCrossEntropy(*config.Options) Loss { return probabilityCrossEntropy{} }

func (probabilityCrossEntropy) Build(out, target *G.Node) (*G.Node, error) {
	return ops.BinaryCrossEntropy(out, target)
}

func (probabilityCrossEntropy) Tasks() []string { return []string{"reconstruction"} }

func (probabilityCrossEntropy) Output(meta data.Meta) ([]int, error) { return regressionOutput(meta) }
