package models

import (
	"fmt"
	"math/rand/v2"

	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Shape is the shape of one sample, without the batch axis.
type Shape []int

func (s Shape) String() string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = fmt.Sprint(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Size is the number of scalars in one sample.
func (s Shape) Size() int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// Layer is one step of a network.
type Layer interface {
	// Setup declares the layer's parameters in scope and returns its output
	// shape for a per-sample input shape, or an error naming both shapes.
	Setup(s *Scope, in Shape) (Shape, error)
	// Forward adds the layer's computation on x (batch first) to g.
	Forward(g *Graph, x *G.Node) (*G.Node, error)
}

// FLOPer is implemented by layers that can count their floating-point
// operations per sample in the forward pass (a multiply-add counts 2).
type FLOPer interface {
	FLOPs(in, out Shape) int64
}

// layerTypes is every layer type, by config name, each activation being
// also a layer type of its own ({type: relu}). A constructor reads the
// layer's options; its problems are reported by Options.Done.
var layerTypes = withActivations(map[string]func(o *config.Options) Layer{
	"dense":            newDense,
	"dropout":          newDropout,
	"flatten":          newFlatten,
	"activation":       newActivation,
	"conv2d":           newConv2D,
	"conv1d":           newConv1D,
	"maxpool2d":        poolOf("maxpool2d", 2, false),
	"avgpool2d":        poolOf("avgpool2d", 2, true),
	"maxpool1d":        poolOf("maxpool1d", 1, false),
	"avgpool1d":        poolOf("avgpool1d", 1, true),
	"global_avgpool":   newGlobalAvgPool,
	"batchnorm":        newBatchNorm,
	"layernorm":        newLayerNorm,
	"spatial_dropout":  newSpatialDropout,
	"reshape":          newReshape,
	"residual":         newResidual,
	"upsample2d":       upsampleOf("upsample2d", 2),
	"upsample1d":       upsampleOf("upsample1d", 1),
	"conv2d_transpose": newConv2DTranspose,
	"conv1d_transpose": newConv1DTranspose,

	"rnn":       recurrentOf("rnn"),
	"lstm":      recurrentOf("lstm"),
	"gru":       recurrentOf("gru"),
	"embedding": newEmbedding,

	"multihead_attention": newAttention,
	"positional":          newPositional,
	"transformer_encoder": newTransformerEncoder,
	"transformer_decoder": newTransformerDecoder,
	"sequence_pool":       newSequencePool,
	"linear":              newLinear,
})

// withActivations adds a layer type per activation to types.
func withActivations(types map[string]func(o *config.Options) Layer) map[string]func(o *config.Options) Layer {
	for _, name := range ops.Activations() {
		if name != "none" {
			types[name] = activationOf(name)
		}
	}
	return types
}

// LayerTypes lists the known layer types.
func LayerTypes() []string {
	out := make([]string, 0, len(layerTypes))
	for k := range layerTypes {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// parseLayer builds the layer a block describes, with every problem in its
// options.
func parseLayer(b config.Block) (Layer, string, config.Problems) {
	newLayer, ok := layerTypes[b.Kind]
	if !ok {
		msg := fmt.Sprintf("unknown layer type %q", b.Kind)
		if b.Kind == "" {
			msg = "layer has no type"
		}
		return nil, "", config.Problems{b.Problem("type", "%s; known types: %s", msg, strings.Join(LayerTypes(), ", "))}
	}
	o := b.Read()
	name := o.String("name", "")
	l := newLayer(o)
	_, weighted := l.(interface{ setInit(string) })
	init, trainable := "", true
	if weighted || o.Block().Has("init") { // else "init" is not one of its options
		init = o.String("init", "", InitializerNames()...)
	}
	_, learns := l.(interface{ learns() })
	learns = learns || weighted
	if learns || o.Block().Has("trainable") { // nor "trainable"
		trainable = o.Bool("trainable", true)
	}
	ps := o.Done()
	if n, ok := l.(interface{ nestedProblems() config.Problems }); ok {
		ps = append(ps, n.nestedProblems()...)
	}
	if strings.Contains(name, "/") {
		ps = append(ps, b.Problem("name", "must not contain '/', which separates the parts of parameter names; got %q", name))
	}
	if init != "" {
		if s, ok := l.(interface{ setInit(string) }); ok {
			s.setInit(init)
		} else {
			ps = append(ps, b.Problem("init", "a %s layer has no weights to initialize", b.Kind))
		}
	}
	if !learns && o.Block().Has("trainable") {
		ps = append(ps, b.Problem("trainable", "a %s layer has no weights to freeze", b.Kind))
	}
	if len(ps) > 0 {
		return nil, "", ps
	}
	if !trainable {
		l = frozen{l}
	}
	return l, name, nil
}

// frozen is a layer set trainable: false: its weights keep their initial
// (or restored) values, as no training phase's parameter group holds them.
// Its buffers (batch norm running statistics) still update.
type frozen struct{ Layer }

// Setup implements Layer: the layer's, then every parameter it declared,
// its nested layers' included, is frozen.
func (f frozen) Setup(s *Scope, in Shape) (Shape, error) {
	out, err := f.Layer.Setup(s, in)
	if err != nil {
		return nil, err
	}
	for _, p := range s.Store.All() {
		if strings.HasPrefix(p.Name, s.Name+"/") && p.Role != Buffer {
			p.Frozen = true
		}
	}
	return out, nil
}

// FLOPs implements FLOPer when the frozen layer does.
func (f frozen) FLOPs(in, out Shape) int64 {
	if c, ok := f.Layer.(FLOPer); ok {
		return c.FLOPs(in, out)
	}
	return 0
}

func (f frozen) sublayers() []builtLayer {
	if n, ok := f.Layer.(interface{ sublayers() []builtLayer }); ok {
		return n.sublayers()
	}
	return nil
}

// parsed is one layer read from its config block, not yet set up.
type parsed struct {
	Layer
	name  string // the configured name; "" for the default (type and counter)
	block config.Block
}

// parseBlocks reads a list of layer blocks, with every problem of every
// block.
func parseBlocks(bs []config.Block) ([]parsed, config.Problems) {
	var out []parsed
	var ps config.Problems
	for _, b := range bs {
		l, name, lps := parseLayer(b)
		ps = append(ps, lps...)
		if len(lps) == 0 {
			out = append(out, parsed{Layer: l, name: name, block: b})
		}
	}
	return out, ps
}

// Scope is what a layer's Setup declares its parameters in.
type Scope struct {
	Store *ParamStore
	Name  string // the layer's name, prefix of its parameter names
	Init  string // initializer for weights (layer option, else the model's)
	// BiasInit is the initializer of the biases Bias declares
	// (model.bias_init; "" is zeros).
	BiasInit string
	RNG      *rand.Rand
	// Vocab is the data's vocabulary size when its inputs are token ids
	// (Spec.Vocab), for an embedding that does not set its own.
	Vocab int
	added []*Param
}

// Child returns the scope of a layer called name inside s: its parameters
// are named S/NAME/..., with s's initializer unless the layer sets its own.
func (s *Scope) Child(name string) *Scope {
	if s.Name != "" {
		name = s.Name + "/" + name
	}
	return &Scope{Store: s.Store, Name: name, Init: s.Init, BiasInit: s.BiasInit, RNG: s.RNG, Vocab: s.Vocab}
}

// Weight declares a weight initialized with the scope's initializer.
func (s *Scope) Weight(name string, shape []int, fanIn, fanOut int) (*Param, error) {
	return s.add(name, Weight, shape, initializers[s.Init], fanIn, fanOut)
}

// Bias declares the bias of a linear map (a dense layer, a convolution)
// whose outputs each sum fanIn inputs, initialized with the scope's bias
// initializer: zeros unless model.bias_init says otherwise.
func (s *Scope) Bias(name string, shape []int, fanIn int) (*Param, error) {
	init := biasInitializers[s.BiasInit]
	if s.BiasInit == "" {
		init = biasInitializers["zeros"]
	}
	return s.add(name, Bias, shape, init, fanIn, 0)
}

// Add declares a parameter with an explicit role and initializer name.
func (s *Scope) Add(name string, role Role, shape []int, init string) (*Param, error) {
	return s.add(name, role, shape, initializers[init], 0, 0)
}

func (s *Scope) add(name string, role Role, shape []int, init Initializer, fanIn, fanOut int) (*Param, error) {
	p, err := s.Store.Add(s.Name+"/"+name, role, shape, init, fanIn, fanOut, s.RNG)
	if err == nil {
		s.added = append(s.added, p)
	}
	return p, err
}

// Graph is one computation being built: a Gorgonia graph in training or
// evaluation mode, with parameter nodes bound to the store's tensors.
type Graph struct {
	G     *G.ExprGraph
	Train bool
	// Input is the data node; layers do not build gradients with respect to it.
	Input *G.Node
	// DropoutRNG is the stream dropout masks are drawn from (training only).
	DropoutRNG *rand.Rand
	// FreezeDropout keeps each dropout mask fixed after its first draw, for
	// gradient checks.
	FreezeDropout bool
	// Dropouts collects the state of every dropout op added.
	Dropouts []*ops.DropoutState
	// UpdatesStats says whether a training pass updates the running
	// statistics of a batch norm layer, asked with its running mean; nil:
	// every layer's. A GAN's phase updates only its own network's: the
	// other network runs on batch statistics and keeps its running ones.
	UpdatesStats func(mean *Param) bool

	store   *ParamStore
	nodes   map[*Param]*G.Node
	tensors Tensors   // the computation's named tensors (Define, Tensor)
	inputs  []*G.Node // the data inputs Run was given
}

// NewGraph starts a graph over the parameters of store.
func NewGraph(store *ParamStore, train bool) *Graph {
	return &Graph{G: G.NewGraph(), Train: train, store: store, nodes: map[*Param]*G.Node{}, tensors: Tensors{}}
}

// Define names a tensor of the computation, so that the layers added after
// it can read it with Tensor: Run defines a model's inputs and outputs,
// and a model may define what it computes in between (an autoencoder's
// "code"). A name is defined once.
func (g *Graph) Define(name string, n *G.Node) error {
	if _, dup := g.tensors[name]; dup {
		return fmt.Errorf("the tensor %q is defined twice in one computation", name)
	}
	g.tensors[name] = n
	return nil
}

// Tensor returns the tensor of the computation called name: a layer reads
// other named tensors than its input this way (a mask, an encoder's
// output). An unknown name is an error listing the defined ones.
func (g *Graph) Tensor(name string) (*G.Node, error) {
	n, ok := g.tensors[name]
	if !ok {
		return nil, fmt.Errorf("no tensor named %q in this computation; defined: %s", name, names(g.tensors))
	}
	return n, nil
}

// Node returns the graph node bound to p's tensor, creating it on first use.
func (g *Graph) Node(p *Param) *G.Node {
	if n, ok := g.nodes[p]; ok {
		return n
	}
	t := p.Value
	n := G.NewTensor(g.G, t.Dtype(), t.Dims(), G.WithShape(t.Shape()...), G.WithName(p.Name), G.WithValue(t))
	g.nodes[p] = n
	return n
}

// Bound returns the nodes created for parameters, in store order, with the
// parameters they are bound to.
func (g *Graph) Bound() ([]*Param, G.Nodes) {
	var ps []*Param
	var ns G.Nodes
	for _, p := range g.store.All() {
		if n, ok := g.nodes[p]; ok {
			ps = append(ps, p)
			ns = append(ns, n)
		}
	}
	return ps, ns
}

// NeedsGrad reports whether a layer must build the gradient with respect to
// x: every node but the data inputs does.
func (g *Graph) NeedsGrad(x *G.Node) bool {
	if x == g.Input {
		return false
	}
	for _, in := range g.inputs {
		if x == in {
			return false
		}
	}
	return true
}

// Dtype is the element type of the graph.
func (g *Graph) Dtype() tensor.Dtype { return g.store.Dtype() }

func shapeErr(format string, args ...any) error { return fmt.Errorf(format, args...) }
