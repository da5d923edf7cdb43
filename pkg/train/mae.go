package train

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// meanAbsolute is the mean over every element of the absolute error, as
// torch.nn.L1Loss.
type meanAbsolute struct{}

func newMeanAbsolute(*config.Options) Loss { return meanAbsolute{} }

func (meanAbsolute) Build(out, target *G.Node) (*G.Node, error) {
	return ops.MeanAbsoluteError(out, target)
}

func (meanAbsolute) Tasks() []string { return []string{"regression", "forecasting", "reconstruction"} }

func (meanAbsolute) Output(meta data.Meta) ([]int, error) { return regressionOutput(meta) }
