package train

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/dltrain/dltrain/pkg/augment"
	"github.com/dltrain/dltrain/pkg/compute"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Session runs one model: it compiles, on first use, a training graph per
// objective (training phase) and input shapes, and an evaluation graph per
// input shapes, all bound to the model's parameters. It keeps at most
// MaxGraphs of each mode, dropping the least recently used.
type Session struct {
	Model models.Model
	Loss  Loss
	// DropoutRNG is the stream dropout masks draw from; checkpoints save it.
	DropoutRNG *rand.Rand

	targetShape []int   // per-sample target shape fed to the loss
	inputs      [][]int // per-sample shapes of the model's inputs, in order
	train, eval graphCache
	augment     *augment.Pipeline // applied to the loop's training mini-batches; nil: none
}

// SetMaxGraphs bounds the compiled graphs kept of each mode (0:
// DefaultMaxGraphs); it applies from the next graph compiled.
func (s *Session) SetMaxGraphs(n int) { s.train.max, s.eval.max = n, n }

// compiled is one graph for one batch size.
type compiled struct {
	graph        *models.Graph
	vm           G.VM
	batch        int
	xNode, yNode *G.Node
	x, y         *tensor.Dense // input and target values bound to xNode, yNode, filled before each run
	// spareX, spareY are a second set of input buffers, into which the
	// training loop gathers the next mini-batch while this one runs
	// (prefetch.go); nil until then. The bind functions bind each buffer
	// to its node (made once: Gorgonia's Let allocates at every call).
	spareX, spareY         *tensor.Dense
	bindX, bindY           G.NodeConsOpt
	bindSpareX, bindSpareY G.NodeConsOpt
	inW, tgtW              int // values per sample of the input and the target
	// aug augments the training loop's mini-batches once gathered (nil:
	// none; always nil in an evaluation graph). spareAt is the place of
	// the mini-batch fillSpare gathers, set by the loop while no gather
	// is in flight. Each buffer set has its own random source, as the
	// spare one is filled on the prefetcher's goroutine.
	aug              *augment.Pipeline
	spareAt          batchPos
	augSrc, spareSrc *augment.Source
	out              *G.Node
	outs             models.Tensors // every named output of the model
	loss             *G.Node
	params           []*models.Param
	grads            []*G.Node
	gradVals         []*tensor.Dense // the gradients' values, returned by Forward
	watch            []watchNode     // the objective's watched outputs (training)
	watched          []Watched       // their sums over the last run
}

// watchNode is a watched output of a training graph.
type watchNode struct {
	node *G.Node
	fn   func(float64) float64
}

// Watched is a watched output's sum over one mini-batch (of Map(v), see
// Watch) and the number of values summed.
type Watched struct {
	Sum float64
	N   int
}

// NewSession prepares to run model with loss; targetShape is the
// per-sample shape of the targets (empty for a class index).
func NewSession(model models.Model, loss Loss, targetShape []int, dropoutRNG *rand.Rand) *Session {
	s := &Session{Model: model, Loss: loss, DropoutRNG: dropoutRNG, targetShape: targetShape}
	for _, in := range model.Inputs() {
		s.inputs = append(s.inputs, in.Shape)
	}
	return s
}

// SetAugment makes the training loop pass every mini-batch it gathers
// through p (nil: none) before the step runs on it. Evaluation graphs,
// Predict and Forward never augment.
func (s *Session) SetAugment(p *augment.Pipeline) {
	s.augment = p
	for _, e := range s.train.entries {
		e.c.setAugment(p)
	}
}

func (c *compiled) setAugment(p *augment.Pipeline) {
	c.aug = p
	if p != nil && c.augSrc == nil {
		c.augSrc, c.spareSrc = augment.NewSource(), augment.NewSource()
	}
}

// Compile builds (and keeps) the training or evaluation graph for batches
// of batch samples, so that a batch size the model cannot take (batch norm
// over a single value) is found before training starts.
func (s *Session) Compile(batch int, train bool) error {
	_, err := s.graph(batch, train)
	return err
}

// CompilePhase is Compile for the training graph of phase p.
func (s *Session) CompilePhase(p *Phase, batch int) error {
	_, err := s.phaseGraph(&p.Objective, batch)
	return err
}

// graph returns the training graph of the session's own objective (its
// loss over every trainable parameter), or the evaluation graph.
func (s *Session) graph(batch int, train bool) (*compiled, error) {
	if train {
		return s.phaseGraph(nil, batch)
	}
	return s.cached(&s.eval, nil, batch, false)
}

// phaseGraph returns the training graph of obj (nil: the session's own).
func (s *Session) phaseGraph(obj *Objective, batch int) (*compiled, error) {
	if obj != nil && obj.Terms == nil && obj.Params == nil {
		obj = nil // the session's own objective: one graph for both
	}
	return s.cached(&s.train, obj, batch, true)
}

func (s *Session) cached(cache *graphCache, obj *Objective, batch int, train bool) (*compiled, error) {
	key, err := keyOf(obj, batch, s.inputs)
	if err != nil {
		return nil, err
	}
	if c := cache.get(key); c != nil {
		return c, nil
	}
	c, err := s.compile(obj, batch, train)
	if err != nil {
		return nil, err
	}
	cache.put(key, c)
	return c, nil
}

func (s *Session) compile(obj *Objective, batch int, train bool) (*compiled, error) {
	labels, err := s.labelsInput()
	if err != nil {
		return nil, err
	}
	store := s.Model.Params()
	dt := store.Dtype()
	g := models.NewGraph(store, train)
	g.DropoutRNG = s.DropoutRNG
	if train && obj != nil && obj.Buffers != nil {
		own := map[*models.Param]bool{}
		for _, p := range obj.Buffers {
			own[p] = true
		}
		g.UpdatesStats = func(mean *models.Param) bool { return own[mean] }
	}
	c := &compiled{graph: g, batch: batch}
	xShape := append([]int{batch}, s.Model.InputShape()...)
	yShape := append([]int{batch}, s.targetShape...)
	c.x = tensor.New(tensor.WithShape(xShape...), tensor.Of(dt))
	c.y = tensor.New(tensor.WithShape(yShape...), tensor.Of(dt))
	x := G.NewTensor(g.G, dt, len(xShape), G.WithShape(xShape...), G.WithName("x"), G.WithValue(c.x))
	y := G.NewTensor(g.G, dt, len(yShape), G.WithShape(yShape...), G.WithName("y"), G.WithValue(c.y))
	c.xNode, c.yNode = x, y
	c.inW, c.tgtW = s.Model.InputShape().Size(), models.Shape(s.targetShape).Size()
	in := models.Tensors{models.InputX: x}
	if labels {
		in[models.InputLabels] = y // the targets' buffer: filled by the same gather, no copy
	}
	if c.outs, err = models.Run(g, s.Model, in); err != nil {
		return nil, err
	}
	c.out = c.outs[models.OutputOut]
	if !train {
		obj = nil // evaluation scores the session's loss
	}
	if c.loss, err = obj.Build(s.Loss, c.outs, y); err != nil {
		return nil, err
	}
	roots := G.Nodes{c.loss}
	if train {
		var nodes G.Nodes
		for _, p := range obj.group(store) {
			c.params = append(c.params, p)
			nodes = append(nodes, g.Node(p))
		}
		grads, err := G.Grad(c.loss, nodes...)
		if err != nil {
			return nil, fmt.Errorf("building gradients: %w", err)
		}
		c.grads = grads
		c.gradVals = make([]*tensor.Dense, len(grads))
		c.setAugment(s.augment)
		roots = append(roots, grads...)
		for _, w := range obj.watches() {
			n, ok := c.outs[w.Output]
			if !ok {
				return nil, fmt.Errorf("the metric %s watches the output %q, which the model does not give", w.Name, w.Output)
			}
			c.watch = append(c.watch, watchNode{n, w.Map})
			roots = append(roots, n)
		}
		c.watched = make([]Watched, len(c.watch))
	} else {
		for _, spec := range s.Model.Outputs() {
			roots = append(roots, c.outs[spec.Name])
		}
	}
	// dltrain's own executor: the same values as Gorgonia's tape machine
	// (tested), without its per-step goroutine, channels and allocations;
	// it runs only what the loss, the gradients (training) and the outputs
	// (evaluation) need.
	vm, err := ops.NewMachineFor(g.G, roots...)
	if err != nil {
		return nil, err
	}
	c.vm = vm
	return c, nil
}

// labelsInput checks the model's inputs against what the data gives: x,
// and, for a model that also takes InputLabels (a conditional GAN), the
// targets as its labels, which must then have the targets' per-sample
// shape (a class index each).
func (s *Session) labelsInput() (bool, error) {
	in := s.Model.Inputs()
	switch {
	case len(in) == 1 && in[0].Name == models.InputX:
		return false, nil
	case len(in) == 2 && in[0].Name == models.InputX && in[1].Name == models.InputLabels:
		if !slices.Equal(in[1].Shape, s.targetShape) {
			return false, fmt.Errorf("the model takes %q of shape %v per sample, fed from the data's targets, which have shape %v", models.InputLabels, in[1].Shape, s.targetShape)
		}
		return true, nil
	}
	names := make([]string, len(in))
	for i, t := range in {
		names[i] = t.Name
	}
	return false, fmt.Errorf("the model takes the inputs %v; the data gives only %q (and its targets as %q)", names, models.InputX, models.InputLabels)
}

// fill copies the samples idx of a split into the graph's inputs, as
// they are (evaluation, Forward).
func (c *compiled) fill(split *data.Split, idx []int) { gather(c.x, c.y, split, idx, c.inW, c.tgtW) }

// fillAt is fill for the training loop's mini-batch at: its inputs are
// then augmented.
func (c *compiled) fillAt(split *data.Split, idx []int, at batchPos) {
	c.fill(split, idx)
	c.augmentInput(c.x, len(idx), at, c.augSrc)
}

// augmentInput applies the graph's augmentation, if any, to the n
// samples of x, the mini-batch at, drawing from src.
func (c *compiled) augmentInput(x *tensor.Dense, n int, at batchPos, src *augment.Source) {
	if c.aug == nil {
		return
	}
	ops.Must(ops.Dispatch(x.Dtype(), augmentation{c.aug, x, n, at, src}, augment32, augment64))
}

// augmentation is augmentInput's arguments.
type augmentation struct {
	aug *augment.Pipeline
	x   *tensor.Dense
	n   int
	at  batchPos
	src *augment.Source
}

// augment32 and augment64 apply the pipeline in each element type (the
// pipeline has a method for each, not one generic one).
func augment32(a augmentation) error {
	a.aug.Apply32(ops.Floats[float32](a.x), a.n, a.at.epoch, a.at.batch, a.src)
	return nil
}

func augment64(a augmentation) error {
	a.aug.Apply64(ops.Floats[float64](a.x), a.n, a.at.epoch, a.at.batch, a.src)
	return nil
}

// gather copies the samples idx of a split into the tensors x and y.
func gather(x, y *tensor.Dense, split *data.Split, idx []int, inW, tgtW int) {
	ops.Must(ops.Dispatch(x.Dtype(), gathering{x, y, split, idx, inW, tgtW}, gatherInto[float32], gatherInto[float64]))
}

// gathering is gather's arguments.
type gathering struct {
	x, y      *tensor.Dense
	split     *data.Split
	idx       []int
	inW, tgtW int
}

func gatherInto[T compute.Float](g gathering) error {
	data.Gather(ops.Floats[T](g.x), g.split.X, g.inW, g.idx)
	data.Gather(ops.Floats[T](g.y), g.split.Y, g.tgtW, g.idx)
	return nil
}

// fillSpare copies the samples idx of a split, the mini-batch
// c.spareAt, into the spare input buffers and augments them as fillAt
// does. It touches nothing else of the graph, so it may run on another
// goroutine while the graph runs.
func (c *compiled) fillSpare(split *data.Split, idx []int) {
	gather(c.spareX, c.spareY, split, idx, c.inW, c.tgtW)
	c.augmentInput(c.spareX, len(idx), c.spareAt, c.spareSrc)
}

// makeSpare allocates the spare input buffers if they do not exist yet.
func (c *compiled) makeSpare() {
	if c.spareX == nil {
		c.spareX = tensor.New(tensor.WithShape(c.x.Shape().Clone()...), tensor.Of(c.x.Dtype()))
		c.spareY = tensor.New(tensor.WithShape(c.y.Shape().Clone()...), tensor.Of(c.y.Dtype()))
		c.bindX, c.bindY = G.WithValue(c.x), G.WithValue(c.y)
		c.bindSpareX, c.bindSpareY = G.WithValue(c.spareX), G.WithValue(c.spareY)
	}
}

// useSpare binds the spare buffers, filled by fillSpare, as the graph's
// inputs; the buffers bound until now become the spare ones.
func (c *compiled) useSpare() {
	c.x, c.spareX = c.spareX, c.x
	c.y, c.spareY = c.spareY, c.y
	c.bindX, c.bindSpareX = c.bindSpareX, c.bindX
	c.bindY, c.bindSpareY = c.bindSpareY, c.bindY
	c.bindX(c.xNode)
	c.bindY(c.yNode)
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

// Gradients is the result of one training forward and backward pass. Its
// slices belong to the session and hold their values until the next
// Forward with the same batch size.
type Gradients struct {
	Loss   float64
	Params []*models.Param
	Grads  []*tensor.Dense
	// Watched are the sums of the objective's watched outputs, in its
	// order (see Watch).
	Watched []Watched
}

// sumOf sums fn(v) (v itself when fn is nil) over the values of t, in
// float64, without copying them (it runs at every step).
func sumOf(t *tensor.Dense, fn func(float64) float64) Watched {
	return ops.MustValue(ops.DispatchValue(t.Dtype(), watchArgs{t, fn}, watchSum[float32], watchSum[float64]))
}

type watchArgs struct {
	t  *tensor.Dense
	fn func(float64) float64
}

func watchSum[T compute.Float](a watchArgs) Watched {
	vals := ops.Floats[T](a.t)
	w := Watched{N: len(vals)}
	for _, x := range vals {
		v := float64(x)
		if a.fn != nil {
			v = a.fn(v)
		}
		w.Sum += v
	}
	return w
}

// Forward runs the training graph on the samples idx of split: forward
// pass with dropout, loss, and the gradient of every trainable parameter.
// The samples are not augmented: only the Loop's mini-batches have a
// place (epoch, index) to draw augmentations from.
func (s *Session) Forward(split *data.Split, idx []int) (Gradients, error) {
	c, err := s.graph(len(idx), true)
	if err != nil {
		return Gradients{}, err
	}
	c.fill(split, idx)
	return c.forward()
}

// forward runs the training graph on the inputs as they are bound.
func (c *compiled) forward() (Gradients, error) {
	loss, err := c.run()
	if err != nil {
		return Gradients{}, err
	}
	for i, n := range c.grads {
		c.gradVals[i] = n.Value().(*tensor.Dense)
	}
	for i, w := range c.watch {
		c.watched[i] = sumOf(w.node.Value().(*tensor.Dense), w.fn)
	}
	return Gradients{Loss: loss, Params: c.params, Grads: c.gradVals, Watched: c.watched}, nil
}

// Predict runs the evaluation graph on the samples idx of split and
// returns the batch's mean loss; out (batch × output size) receives the
// model's outputs when not nil.
func (s *Session) Predict(split *data.Split, idx []int, out []float64) (float64, error) {
	return s.PredictOutput(split, idx, models.OutputOut, out)
}

// PredictOutput is Predict for the model's output called name (one of
// Outputs: an autoencoder's "code"); out receives batch × its size values.
func (s *Session) PredictOutput(split *data.Split, idx []int, name string, out []float64) (float64, error) {
	c, err := s.graph(len(idx), false)
	if err != nil {
		return 0, err
	}
	node, ok := c.outs[name]
	if !ok {
		return 0, fmt.Errorf("the model has no output %q", name)
	}
	c.fill(split, idx)
	defer c.vm.Reset()
	if err := c.vm.RunAll(); err != nil {
		return 0, err
	}
	if out != nil {
		o := node.Value().(*tensor.Dense)
		if err := ops.Dispatch(o.Dtype(), copying{out, o}, copyToFloat64s[float32], copyToFloat64s[float64]); err != nil {
			return 0, err
		}
	}
	return scalar(c.loss.Value()), nil
}

// copying is a tensor t and where its values go.
type copying struct {
	dst []float64
	t   *tensor.Dense
}

// copyToFloat64s copies the tensor's values into dst as float64.
func copyToFloat64s[T compute.Float](c copying) error {
	for i, x := range ops.Floats[T](c.t) {
		c.dst[i] = float64(x)
	}
	return nil
}
