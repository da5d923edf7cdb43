package train

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// meanSquared is the mean over every element of the squared error, as
// torch.nn.MSELoss.
type meanSquared struct{}

func newMeanSquared(*config.Options) Loss { return meanSquared{} }

func (meanSquared) Build(out, target *G.Node) (*G.Node, error) {
	return ops.MeanSquaredError(out, target)
}

func (meanSquared) Tasks() []string { return []string{"regression", "forecasting", "reconstruction"} }

func (meanSquared) Output(meta data.Meta) ([]int, error) { return regressionOutput(meta) }
