package models

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// positional adds a position encoding to a sequence [time, dim]:
// sinusoidal (Vaswani et al. 2017: PE[t, 2i] = sin(t/10000^(2i/dim)),
// PE[t, 2i+1] = cos(t/10000^(2i/dim)), no parameters) or learned (a
// weight [max_length, dim] whose first time rows are added, as GPT's
// position embedding; drawn from N(0, 0.02²) unless init is set). A
// sequence longer than max_length is refused when the model is built.
type positional struct {
	kind      string
	maxLength int
	init      string
	w         *Param
	table     *tensor.Dense // sinusoidal: [time, dim], in the store's dtype
	name      string        // the table's node name
}

// defaultSinusoidalLength is max_length of a sinusoidal encoding when
// not set: any sequence dltrain can train on fits.
const defaultSinusoidalLength = 1 << 20

func newPositional(o *config.Options) Layer {
	p := &positional{kind: o.String("kind", "sinusoidal", "sinusoidal", "learned")}
	def := defaultSinusoidalLength
	if p.kind == "learned" {
		def = 0
		if !o.Block().Has("max_length") {
			o.Fail("max_length", "is required for kind: learned: the number of positions the table holds")
		}
	}
	p.maxLength = o.Int("max_length", def)
	if o.Block().Has("max_length") && p.maxLength < 1 {
		o.Fail("max_length", "must be >= 1, got %d", p.maxLength)
	}
	return p
}

func (p *positional) setInit(s string) { p.init = s }

func (p *positional) Setup(s *Scope, in Shape) (Shape, error) {
	if len(in) != 2 {
		return nil, shapeErr("positional needs a sequence [time, dim], got %v; token ids need {type: embedding} first", in)
	}
	t, d := in[0], in[1]
	if t > p.maxLength {
		return nil, shapeErr("positional: the sequence has %d positions, more than max_length %d (input %v)", t, p.maxLength, in)
	}
	if p.kind == "sinusoidal" {
		var err error
		if p.table, err = sinusoidTable(s.Store.Dtype(), t, d); err != nil {
			return nil, fmt.Errorf("%s: %w", s.Name, err)
		}
		p.name = s.Name + "/positions"
		return in, nil
	}
	init := func(r *rand.Rand, w []float64, _, _ int) { normal(r, w, 0.02) }
	if p.init != "" {
		init = initializers[p.init]
	}
	var err error
	if p.w, err = s.add("weight", Weight, []int{p.maxLength, d}, init, p.maxLength, d); err != nil {
		return nil, err
	}
	return in, nil
}

// sinusoidTable is the sinusoidal encoding [t, d] in dtype dt.
func sinusoidTable(dt tensor.Dtype, t, d int) (*tensor.Dense, error) {
	v := make([]float64, t*d)
	for pos := range t {
		for j := range d {
			i := j - j%2
			angle := float64(pos) / math.Pow(10000, float64(i)/float64(d))
			if j%2 == 0 {
				v[pos*d+j] = math.Sin(angle)
			} else {
				v[pos*d+j] = math.Cos(angle)
			}
		}
	}
	return ops.DispatchValue(dt, initial{[]int{t, d}, v}, initialTensor[float32], initialTensor[float64])
}

func (p *positional) Forward(g *Graph, x *G.Node) (*G.Node, error) {
	t := x.Shape()[1]
	var pe *G.Node
	if p.kind == "sinusoidal" {
		pe = G.NewTensor(g.G, p.table.Dtype(), 2, G.WithShape(p.table.Shape()...), G.WithName(p.name), G.WithValue(p.table))
	} else {
		var err error
		if pe, err = ops.Slice(g.Node(p.w), 0, 0, t); err != nil {
			return nil, err
		}
	}
	return ops.BroadcastAdd(x, pe)
}

// FLOPs counts one addition per element.
func (p *positional) FLOPs(in, _ Shape) int64 { return int64(in.Size()) }
