package models

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Model is a network whose parameters live in a ParamStore: a
// computation from named input tensors ("x", and for other kinds "mask",
// "z", ...) to named output tensors ("out", what the loss reads, and
// others such as an autoencoder's "code").
type Model interface {
	// Params is the model's parameter store.
	Params() *ParamStore
	// Inputs are the named per-sample inputs, "x" first; Outputs the named
	// per-sample outputs, "out" first.
	Inputs() []TensorSpec
	Outputs() []TensorSpec
	// InputShape and OutputShape are the per-sample shapes of "x" and
	// "out", the common case's shortcuts.
	InputShape() Shape
	OutputShape() Shape
	// Forward adds the network's computation on the inputs in (batch
	// first, one node per name in Inputs) to g and returns a node per name
	// in Outputs. Callers go through Run or Apply, which make the inputs
	// and outputs readable by name on g.
	Forward(g *Graph, in Tensors) (Tensors, error)
	// Layers describes each layer, for summaries.
	Layers() []LayerInfo
}

// Tensors are the nodes of a computation by name.
type Tensors map[string]*G.Node

// TensorSpec is a named per-sample tensor a model takes or gives.
type TensorSpec struct {
	Name  string
	Shape Shape
}

// The names of the tensors every model has.
const (
	// InputX is the data's input.
	InputX = "x"
	// OutputOut is what the loss reads.
	OutputOut = "out"
)

// Signature is a model's named inputs and outputs; model kinds embed it
// for Inputs, Outputs, InputShape and OutputShape.
type Signature struct {
	In, Out []TensorSpec
}

// Inputs implements Model.
func (s Signature) Inputs() []TensorSpec { return s.In }

// Outputs implements Model.
func (s Signature) Outputs() []TensorSpec { return s.Out }

// InputShape implements Model: the shape of the first input, "x".
func (s Signature) InputShape() Shape { return s.In[0].Shape }

// OutputShape implements Model: the shape of the first output, "out".
func (s Signature) OutputShape() Shape { return s.Out[0].Shape }

// Run adds m's computation on the named inputs in to g: the inputs are
// data (no gradient is built with respect to them), and inputs and
// outputs can be read by name with g.Tensor while and after it runs. Every
// input m declares must be given; every output it declares is returned.
func Run(g *Graph, m Model, in Tensors) (Tensors, error) {
	for _, spec := range m.Inputs() {
		n, ok := in[spec.Name]
		if !ok {
			return nil, fmt.Errorf("the model takes an input %q that was not given (given: %s)", spec.Name, names(in))
		}
		if err := g.Define(spec.Name, n); err != nil {
			return nil, err
		}
		g.inputs = append(g.inputs, n)
		if spec.Name == InputX {
			g.Input = n
		}
	}
	out, err := m.Forward(g, in)
	if err != nil {
		return nil, err
	}
	for _, spec := range m.Outputs() {
		n, ok := out[spec.Name]
		if !ok {
			return nil, fmt.Errorf("the model gave no output %q (gave: %s)", spec.Name, names(out))
		}
		if cur, err := g.Tensor(spec.Name); err == nil && cur == n {
			continue // the model defined it on g itself
		}
		if err := g.Define(spec.Name, n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Apply is Run for the common case: x in, "out" back.
func Apply(g *Graph, m Model, x *G.Node) (*G.Node, error) {
	out, err := Run(g, m, Tensors{InputX: x})
	if err != nil {
		return nil, err
	}
	return out[OutputOut], nil
}

func names(t Tensors) string {
	out := make([]string, 0, len(t))
	for k := range t {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// LayerInfo describes one layer of a built model.
type LayerInfo struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Output  Shape  `json:"output_shape"`
	Params  int    `json:"params"`            // trainable scalars
	Buffers int    `json:"buffers,omitempty"` // scalars saved but not trained (batch norm running statistics, a frozen layer's weights)
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
	// Vocab is the number of token ids the inputs hold (the data's
	// vocabulary, <unk> included), 0 when they are not token ids: an
	// embedding without vocab takes it.
	Vocab int
	// InitRNG draws the initial weights.
	InitRNG *rand.Rand
	// PadMask says that the input "x" holds token ids [T] padded at the
	// end with id 0: the model defines the padding mask MaskName from them
	// (mask.go).
	PadMask bool
	// Check, when set, is given the model's plan before any parameter is
	// allocated; an error from it stops Build (a model too large for the
	// memory).
	Check func(*Plan) error
	// Sequences describes seq2seq data (data.task: seq2seq); nil otherwise.
	Sequences *Sequences
	// Classes is the number of classes a conditional GAN's data names
	// (model.conditional); 0 otherwise.
	Classes int

	planned bool // build a plan: record shapes, allocate nothing
}

// Kind is a model kind: how it is built, and how its part of the model
// section is checked before any data is read (the layer stack, for the
// sequential kinds).
type Kind struct {
	Build    func(Spec) (Model, error)
	Validate func(e *config.Experiment) config.Problems
}

// kinds is every model kind, by config name; each lives in its own file.
var kinds = map[string]Kind{
	"mlp":         mlpKind,
	"cnn":         cnnKind,
	"sequential":  sequentialKind,
	"autoencoder": autoencoderKind,
	"gan":         ganKind,
	"seq2seq":     seq2seqKind,
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
	k, ok := kinds[spec.Exp.Model.Kind]
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
	return k.Build(spec)
}

// DType returns the tensor dtype named in the config.
func DType(name string) tensor.Dtype {
	if name == "float64" {
		return tensor.Float64
	}
	return tensor.Float32
}

// Validate checks the model section without any data: the kind, the
// initializer, and the kind's own part (every layer's type and options,
// for the sequential kinds; those too when the kind is unknown). It is a
// config.Validator.
func Validate(e *config.Experiment) config.Problems {
	var ps config.Problems
	k, ok := kinds[e.Model.Kind]
	if !ok {
		ps = append(ps, e.Problem("model.kind", "unknown model kind %q; known: %s", e.Model.Kind, strings.Join(Kinds(), ", ")))
		k.Validate = validateStack
	}
	if _, ok := initializers[e.Model.Init]; !ok {
		ps = append(ps, e.Problem("model.init", "unknown initializer %q; known: %s", e.Model.Init, strings.Join(InitializerNames(), ", ")))
	}
	if _, ok := biasInitializers[e.Model.BiasInit]; !ok {
		ps = append(ps, e.Problem("model.bias_init", "unknown bias initializer %q; known: %s", e.Model.BiasInit, strings.Join(BiasInitializerNames(), ", ")))
	}
	return append(ps, k.Validate(e)...)
}

// validateStack checks model.layers: at least one, each of a known type
// with its options right; and that the autoencoder's keys are not set.
func validateStack(e *config.Experiment) config.Problems {
	ps := append(autoencoderOnly(e), ganOnly(e)...)
	ps = append(ps, seq2seqOnly(e)...)
	if len(e.Model.Layers) == 0 {
		ps = append(ps, e.Problem("model.layers", "the model has no layers"))
	}
	for _, b := range e.Model.Layers {
		_, _, lps := parseLayer(b)
		ps = append(ps, lps...)
	}
	return append(ps, checkAuto(e.Model.Layers, true)...)
}

// ParamCount sums a model's trainable scalars.
func ParamCount(m Model) int { return m.Params().Count() }

// Describe renders shapes for messages: "(3, 8, 8)".
func Describe(s []int) string { return Shape(s).String() }
