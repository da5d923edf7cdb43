package models

import (
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Model is a network whose parameters live in a ParamStore.
type Model interface {
	// Params is the model's parameter store.
	Params() *ParamStore
	// InputShape and OutputShape are per-sample shapes.
	InputShape() Shape
	OutputShape() Shape
	// Forward adds the network's computation on x (batch first) to g.
	Forward(g *Graph, x *G.Node) (*G.Node, error)
	// Layers describes each layer, for summaries.
	Layers() []LayerInfo
}

// LayerInfo describes one layer of a built model.
type LayerInfo struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Output  Shape  `json:"output_shape"`
	Params  int    `json:"params"`            // trainable scalars
	Buffers int    `json:"buffers,omitempty"` // scalars saved but not trained (batch norm running statistics)
	FLOPs   int64  `json:"flops"`             // forward floating-point operations per sample; 0 when unknown
	Depth   int    `json:"depth"`             // nesting depth (residual blocks hold layers)

	block config.Block // the layer's config (a projection: its residual block's)
}

// Spec is what building a model needs beyond the experiment: the shapes
// the data gives.
type Spec struct {
	Exp    *config.Experiment
	Input  Shape // per-sample input shape
	Output Shape // per-sample shape the loss expects of the model's output
	// InitRNG draws the initial weights.
	InitRNG *rand.Rand
	// Check, when set, is given the model's plan before any parameter is
	// allocated; an error from it stops Build (a model too large for the
	// memory).
	Check func(*Plan) error

	planned bool // build a plan: record shapes, allocate nothing
}

// kinds is every model kind, by config name.
var kinds = map[string]func(Spec) (Model, error){
	"mlp": buildSequential("mlp"),
	"cnn": buildSequential("cnn"),
}

// Kinds lists the known model kinds.
func Kinds() []string {
	out := make([]string, 0, len(kinds))
	for k := range kinds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Build builds the model an experiment describes for data of the given
// shapes. Problems with the layer stack (shapes that do not fit) are
// config.Problems naming the layer.
func Build(spec Spec) (Model, error) {
	build, ok := kinds[spec.Exp.Model.Kind]
	if !ok {
		return nil, config.Problems{spec.Exp.Problem("model.kind", "unknown model kind %q; known: %s",
			spec.Exp.Model.Kind, strings.Join(Kinds(), ", "))}
	}
	if spec.Check != nil {
		plan, err := PlanModel(spec)
		if err != nil {
			return nil, err
		}
		if err := spec.Check(plan); err != nil {
			return nil, err
		}
	}
	return build(spec)
}

// DType returns the tensor dtype named in the config.
func DType(name string) tensor.Dtype {
	if name == "float64" {
		return tensor.Float64
	}
	return tensor.Float32
}

func init() { config.RegisterValidator(validate) }

// validate checks the model section without any data: the kind, the
// initializer, and every layer's type and options.
func validate(e *config.Experiment) config.Problems {
	var ps config.Problems
	if _, ok := kinds[e.Model.Kind]; !ok {
		ps = append(ps, e.Problem("model.kind", "unknown model kind %q; known: %s", e.Model.Kind, strings.Join(Kinds(), ", ")))
	}
	if _, ok := initializers[e.Model.Init]; !ok {
		ps = append(ps, e.Problem("model.init", "unknown initializer %q; known: %s", e.Model.Init, strings.Join(InitializerNames(), ", ")))
	}
	if len(e.Model.Layers) == 0 {
		ps = append(ps, e.Problem("model.layers", "the model has no layers"))
	}
	for _, b := range e.Model.Layers {
		_, _, lps := parseLayer(b)
		ps = append(ps, lps...)
	}
	return ps
}

// ParamCount sums a model's trainable scalars.
func ParamCount(m Model) int { return m.Params().Count() }

// Describe renders shapes for messages: "(3, 8, 8)".
func Describe(s []int) string { return Shape(s).String() }
