package models

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// addTensor is a test layer that reads a named tensor of the computation
// besides its input, as a mask or cross-attention layer does: it adds it.
type addTensor struct{ name string }

func (a addTensor) Setup(_ *Scope, in Shape) (Shape, error) { return in, nil }

func (a addTensor) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	other, err := g.Tensor(a.name)
	if err != nil {
		return nil, err
	}
	return ops.Add(x, other)
}

// twoInputs is a test model with inputs "x" and "mask", whose one layer
// reads "mask" by name; it also gives a second output, "mid".
type twoInputs struct {
	Signature
	store *ParamStore
	layer Layer
}

func (m *twoInputs) Params() *ParamStore { return m.store }
func (m *twoInputs) Layers() []LayerInfo { return nil }
func (m *twoInputs) Forward(g *Graph, in Tensors) (Tensors, error) {
	y, err := m.layer.Forward(g, in[InputX])
	if err != nil {
		return nil, err
	}
	return Tensors{OutputOut: y, "mid": in[InputX]}, nil
}

func input(g *Graph, name string, vals ...float64) *G.Node {
	t := tensor.New(tensor.WithShape(1, len(vals)), tensor.WithBacking(vals))
	return G.NewTensor(g.G, tensor.Float64, 2, G.WithShape(1, len(vals)), G.WithName(name), G.WithValue(t))
}

// TestLayerReadsANamedTensor: a layer reads the model's second input by
// name, the outputs are readable by name after Run, and an unknown name
// is an error listing the defined ones.
func TestLayerReadsANamedTensor(t *testing.T) {
	sig := Signature{In: []TensorSpec{{"x", Shape{3}}, {"mask", Shape{3}}}, Out: []TensorSpec{{"out", Shape{3}}, {"mid", Shape{3}}}}
	m := &twoInputs{Signature: sig, store: NewParamStore(tensor.Float64), layer: addTensor{"mask"}}
	g := NewGraph(m.store, false)
	x, mask := input(g, "x", 1, 2, 3), input(g, "mask", 10, 20, 30)
	out, err := Run(g, m, Tensors{"x": x, "mask": mask})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := ops.NewMachine(g.G)
	if err != nil {
		t.Fatal(err)
	}
	if err := vm.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := out["out"].Value().Data().([]float64)
	if got[0] != 11 || got[1] != 22 || got[2] != 33 {
		t.Errorf("out = %v, want x + mask = [11 22 33]", got)
	}
	if n, err := g.Tensor("mid"); err != nil || n != x {
		t.Errorf("the output mid is not readable by name: %v", err)
	}
	if g.NeedsGrad(mask) || g.NeedsGrad(x) {
		t.Error("a data input needs no gradient")
	}

	g2 := NewGraph(m.store, false)
	m.layer = addTensor{"maks"}
	_, err = Run(g2, m, Tensors{"x": input(g2, "x", 1, 2, 3), "mask": input(g2, "mask", 1, 2, 3)})
	if err == nil || !strings.Contains(err.Error(), `no tensor named "maks" in this computation; defined: mask, x`) {
		t.Errorf("unknown name: error %v", err)
	}
	g3 := NewGraph(m.store, false)
	_, err = Run(g3, m, Tensors{"x": input(g3, "x", 1, 2, 3)})
	if err == nil || !strings.Contains(err.Error(), `takes an input "mask" that was not given (given: x)`) {
		t.Errorf("missing input: error %v", err)
	}
}

// TestTrainableFalseFreezesTheLayer: the weights of a layer set
// trainable: false are out of the trainable parameters and counted as not
// trained in the summary; the other layers' stay trainable.
func TestTrainableFalseFreezesTheLayer(t *testing.T) {
	e := experiment(t, `{layers: [{type: dense, units: 5, trainable: false}, {type: batchnorm, trainable: false}, {type: dense, units: 3}]}`)
	m, err := Build(Spec{Exp: e, Input: Shape{4}, Output: Shape{3}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	var trainable []string
	for _, p := range m.Params().Trainable() {
		trainable = append(trainable, p.Name)
	}
	if got := strings.Join(trainable, " "); got != "dense2/W dense2/b" {
		t.Errorf("trainable %s, want dense2/W dense2/b", got)
	}
	s := Summarize("mlp", m)
	if s.Params != 5*3+3 || s.Buffers != 4*5+5+4*5 {
		t.Errorf("summary: %d trainable, %d not trained; want 18 and 45", s.Params, s.Buffers)
	}
	for _, p := range m.Params().All() {
		if p.Name == "dense1/W" && (p.Role != Weight || !p.Frozen) {
			t.Errorf("dense1/W: role %v frozen %v, want a frozen weight", p.Role, p.Frozen)
		}
	}
}

// TestTrainableNeedsParameters: a layer without parameters refuses
// trainable: false, naming the key.
func TestTrainableNeedsParameters(t *testing.T) {
	e, err := config.Parse("m.yaml", []byte("name: t\ndata: {source: builtin:iris}\nmodel: {layers: [{type: relu, trainable: false}]}\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps := Validate(e)
	if len(ps) != 1 || ps[0].Key != "model.layers[0].trainable" || !strings.Contains(ps[0].Msg, "a relu layer has no weights to freeze") {
		t.Errorf("problems %v, want one at model.layers[0].trainable", ps)
	}
}
