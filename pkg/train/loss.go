package train

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
)

// Loss builds the scalar loss of a model output against its targets.
type Loss interface {
	// Build adds the mean loss over the batch of out against target.
	Build(out, target *G.Node) (*G.Node, error)
	// Tasks lists the data tasks the loss applies to.
	Tasks() []string
}

// losses is every loss, by config name.
var losses = map[string]func(o *config.Options) Loss{
	"cross_entropy": func(*config.Options) Loss { return crossEntropy{} },
	"mse":           func(*config.Options) Loss { return meanSquared{} },
}

// LossNames lists the known losses.
func LossNames() []string {
	out := make([]string, 0, len(losses))
	for k := range losses {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// NewLoss builds the loss a block describes, checking it fits the task.
func NewLoss(b config.Block, task string) (Loss, config.Problems) {
	newLoss, ok := losses[b.Kind]
	if !ok {
		return nil, config.Problems{b.Problem("kind", "unknown loss %q; known: %s", b.Kind, strings.Join(LossNames(), ", "))}
	}
	o := b.Read()
	l := newLoss(o)
	ps := o.Done()
	if !slices.Contains(l.Tasks(), task) {
		ps = append(ps, b.Problem("kind", "loss %s does not apply to a %s task; it applies to: %s", b.Kind, task, strings.Join(l.Tasks(), ", ")))
	}
	return l, ps
}

// crossEntropy is softmax cross-entropy on logits against class indices.
type crossEntropy struct{}

func (crossEntropy) Build(out, target *G.Node) (*G.Node, error) {
	if out.Dims() != 2 {
		return nil, fmt.Errorf("cross_entropy needs logits of shape (batch, classes), got %v", out.Shape())
	}
	return ops.SoftmaxCrossEntropy(out, target)
}

func (crossEntropy) Tasks() []string { return []string{"classification", "language_model"} }

// meanSquared is the mean over every element of the squared error.
type meanSquared struct{}

func (meanSquared) Build(out, target *G.Node) (*G.Node, error) {
	return ops.MeanSquaredError(out, target)
}

func (meanSquared) Tasks() []string { return []string{"regression", "forecasting"} }
