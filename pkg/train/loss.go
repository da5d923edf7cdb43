package train

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	G "gorgonia.org/gorgonia"
)

// Loss builds the scalar loss of a model output against its targets.
type Loss interface {
	// Build adds the mean loss over the batch of out against target.
	Build(out, target *G.Node) (*G.Node, error)
	// Tasks lists the data tasks the loss applies to.
	Tasks() []string
	// Output returns the per-sample shape the model's output must have for
	// data described by meta, or why the loss does not fit that data.
	Output(meta data.Meta) ([]int, error)
}

// losses is every loss, by config name; each kind is in its own file.
var losses = map[string]func(o *config.Options) Loss{
	"cross_entropy":        newCrossEntropy,
	"binary_cross_entropy": newBinaryCrossEntropy,
	"mse":                  newMeanSquared,
	"mae":                  newMeanAbsolute,
	"huber":                newHuber,
	"bce":                  newProbabilityCrossEntropy,
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

// NewLoss builds the loss a block describes, checking its options and that
// it applies to the task.
func NewLoss(b config.Block, task string) (Loss, config.Problems) {
	newLoss, ok := losses[b.Kind]
	if !ok {
		return nil, config.Problems{b.Problem("kind", "unknown loss %q; known: %s", b.Kind, strings.Join(LossNames(), ", "))}
	}
	o := b.Read()
	l := newLoss(o)
	if t, ok := l.(interface{ forTask(string) }); ok {
		t.forTask(task) // a loss whose behaviour depends on the task (cross_entropy's ignored target)
	}
	ps := o.Done()
	if !slices.Contains(l.Tasks(), task) {
		if b.Path == "" {
			b.Path = "train.loss" // the default loss: no train section set it
		}
		ps = append(ps, b.Problem("", "loss %s does not apply to a %s task; it applies to: %s", b.Kind, task, strings.Join(l.Tasks(), ", ")))
	}
	return l, ps
}

// LossOutput is l.Output with its error reported as a problem of the
// loss's config block, so that a loss that does not fit the data is a
// config error naming train.loss.
func LossOutput(l Loss, b config.Block, meta data.Meta) ([]int, config.Problems) {
	out, err := l.Output(meta)
	if err != nil {
		return nil, config.Problems{b.Problem("", "%v", err)}
	}
	return out, nil
}

// regressionOutput is the output of every regression loss: one value per
// target.
func regressionOutput(meta data.Meta) ([]int, error) {
	if data.ClassTask(meta.Task) {
		return nil, fmt.Errorf("applies to regression data, not %s", meta.Task)
	}
	return meta.Target, nil
}
