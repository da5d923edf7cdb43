package train

import (
	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// huber is torch.nn.HuberLoss: quadratic for errors below delta, linear
// above, so outliers pull less than with mse.
type huber struct {
	delta float64
}

func newHuber(o *config.Options) Loss {
	l := &huber{delta: o.Float("delta", 1)}
	o.Positive("delta", l.delta)
	return l
}

func (l *huber) Build(out, target *G.Node) (*G.Node, error) {
	return ops.Huber(out, target, l.delta)
}

func (*huber) Tasks() []string { return []string{"regression", "forecasting", "reconstruction"} }

func (*huber) Output(meta data.Meta) ([]int, error) { return regressionOutput(meta) }
