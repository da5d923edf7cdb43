package train

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Session runs one model: it compiles, on first use, a training graph and
// an evaluation graph per batch size, all bound to the model's parameters.
type Session struct {
	Model models.Model
	Loss  Loss
	// DropoutRNG is the stream dropout masks draw from; checkpoints save it.
	DropoutRNG *rand.Rand

	targetShape []int // per-sample target shape fed to the loss
	train, eval map[int]*compiled
}

// compiled is one graph for one batch size.
type compiled struct {
	graph  *models.Graph
	vm     G.VM
	batch  int
	x, y   *tensor.Dense // input and target values, filled before each run
	out    *G.Node
	loss   *G.Node
	params []*models.Param
	grads  []*G.Node
}

// NewSession prepares to run model with loss; targetShape is the
// per-sample shape of the targets (empty for a class index).
func NewSession(model models.Model, loss Loss, targetShape []int, dropoutRNG *rand.Rand) *Session {
	return &Session{Model: model, Loss: loss, DropoutRNG: dropoutRNG, targetShape: targetShape,
		train: map[int]*compiled{}, eval: map[int]*compiled{}}
}

func (s *Session) graph(batch int, train bool) (*compiled, error) {
	cache := s.eval
	if train {
		cache = s.train
	}
	if c, ok := cache[batch]; ok {
		return c, nil
	}
	c, err := s.compile(batch, train)
	if err != nil {
		return nil, err
	}
	cache[batch] = c
	return c, nil
}

func (s *Session) compile(batch int, train bool) (*compiled, error) {
	store := s.Model.Params()
	dt := store.Dtype()
	g := models.NewGraph(store, train)
	g.DropoutRNG = s.DropoutRNG
	c := &compiled{graph: g, batch: batch}
	xShape := append([]int{batch}, s.Model.InputShape()...)
	yShape := append([]int{batch}, s.targetShape...)
	c.x = tensor.New(tensor.WithShape(xShape...), tensor.Of(dt))
	c.y = tensor.New(tensor.WithShape(yShape...), tensor.Of(dt))
	x := G.NewTensor(g.G, dt, len(xShape), G.WithShape(xShape...), G.WithName("x"), G.WithValue(c.x))
	y := G.NewTensor(g.G, dt, len(yShape), G.WithShape(yShape...), G.WithName("y"), G.WithValue(c.y))
	g.Input = x
	var err error
	if c.out, err = s.Model.Forward(g, x); err != nil {
		return nil, err
	}
	if c.loss, err = s.Loss.Build(c.out, y); err != nil {
		return nil, err
	}
	if train {
		var nodes G.Nodes
		for _, p := range store.Trainable() {
			c.params = append(c.params, p)
			nodes = append(nodes, g.Node(p))
		}
		grads, err := G.Grad(c.loss, nodes...)
		if err != nil {
			return nil, fmt.Errorf("building gradients: %w", err)
		}
		c.grads = grads
	}
	// dltrain's own executor: the same values as Gorgonia's tape machine
	// (tested), without its per-step goroutine, channels and allocations.
	vm, err := ops.NewMachine(g.G)
	if err != nil {
		return nil, err
	}
	c.vm = vm
	return c, nil
}

// fill copies the samples idx of a split into the graph's inputs.
func (c *compiled) fill(split *data.Split, idx []int, inW, tgtW int) {
	switch c.x.Dtype() {
	case tensor.Float32:
		x := c.x.Float32s()
		data.Gather(x, split.X, inW, idx)
		data.Gather(c.y.Float32s(), split.Y, tgtW, idx)
	case tensor.Float64:
		x := c.x.Float64s()
		data.Gather(x, split.X, inW, idx)
		data.Gather(c.y.Float64s(), split.Y, tgtW, idx)
	}
}

func (c *compiled) run() (float64, error) {
	defer c.vm.Reset()
	if err := c.vm.RunAll(); err != nil {
		return math.NaN(), err
	}
	return scalar(c.loss.Value()), nil
}

func scalar(v G.Value) float64 {
	switch x := v.(type) {
	case *G.F32:
		return float64(*x)
	case *G.F64:
		return float64(*x)
	}
	return math.NaN()
}

// Gradients is the result of one training forward and backward pass.
type Gradients struct {
	Loss   float64
	Params []*models.Param
	Grads  []*tensor.Dense
}

// Forward runs the training graph on the samples idx of split: forward
// pass with dropout, loss, and the gradient of every trainable parameter.
func (s *Session) Forward(split *data.Split, idx []int) (Gradients, error) {
	c, err := s.graph(len(idx), true)
	if err != nil {
		return Gradients{}, err
	}
	c.fill(split, idx, s.Model.InputShape().Size(), models.Shape(s.targetShape).Size())
	loss, err := c.run()
	if err != nil {
		return Gradients{}, err
	}
	gs := make([]*tensor.Dense, len(c.grads))
	for i, n := range c.grads {
		gs[i] = n.Value().(*tensor.Dense)
	}
	return Gradients{Loss: loss, Params: c.params, Grads: gs}, nil
}

// Predict runs the evaluation graph on the samples idx of split and
// returns the batch's mean loss; out (batch × output size) receives the
// model's outputs when not nil.
func (s *Session) Predict(split *data.Split, idx []int, out []float64) (float64, error) {
	c, err := s.graph(len(idx), false)
	if err != nil {
		return 0, err
	}
	c.fill(split, idx, s.Model.InputShape().Size(), models.Shape(s.targetShape).Size())
	defer c.vm.Reset()
	if err := c.vm.RunAll(); err != nil {
		return 0, err
	}
	if out != nil {
		o := c.out.Value().(*tensor.Dense)
		switch o.Dtype() {
		case tensor.Float32:
			v := o.Float32s()
			for i, x := range v {
				out[i] = float64(x)
			}
		case tensor.Float64:
			copy(out, o.Float64s())
		}
	}
	return scalar(c.loss.Value()), nil
}
