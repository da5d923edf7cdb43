package models

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// decoderCase is one case of testdata/torch_ref_decoder.json, written by
// testdata/torch_ref_decoder.py with PyTorch 1.13.
type decoderCase struct {
	Name                                string
	Batch, Time, Dim, Heads, FF, Layers int
	MemoryTime                          int `json:"memory_time"`
	Norm, Activation                    string
	Causal                              bool
	X, Memory, Keep, Out                []float64
	GradX                               []float64 `json:"grad_x"`
	GradMemory                          []float64 `json:"grad_memory"`
	Params, Grads                       map[string][]float64
	Counts                              int
	Order                               []string
}

func loadDecoderCases(t *testing.T) []decoderCase {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_ref_decoder.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []decoderCase }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

func (c decoderCase) layer() string {
	s := fmt.Sprintf("{type: transformer_decoder, layers: %d, heads: %d, ff: %d, dropout: 0, norm: %s, activation: %s, causal: %v, memory: mem",
		c.Layers, c.Heads, c.FF, c.Norm, c.Activation, c.Causal)
	if c.Keep != nil {
		s += ", memory_key_mask: keep"
	}
	return s + "}"
}

// TestDecoderMatchesPyTorch: a transformer_decoder given the weights of
// PyTorch 1.13's nn.TransformerDecoder (post and pre norm, relu and gelu,
// causal or not, with and without a memory key-padding mask, dropout 0)
// gives its output and the gradients of the target input, of the memory
// and of every parameter, found by PyTorch's name, in float64 and
// float32.
func TestDecoderMatchesPyTorch(t *testing.T) {
	for _, c := range loadDecoderCases(t) {
		for _, dt := range []string{"float64", "float32"} {
			t.Run(c.Name+"/"+dt, func(t *testing.T) {
				tol := 1e-12
				if dt == "float32" {
					tol = 5e-6
				}
				got := runDecoder(t, c, dt)
				want := map[string][]float64{"output": c.Out, "gradient of x": c.GradX, "gradient of the memory": c.GradMemory}
				for name, g := range c.Grads {
					want["gradient of "+name] = g
				}
				if len(got) != len(want) {
					t.Errorf("%d values compared, PyTorch has %d", len(got), len(want))
				}
				worst := 0.0
				for name, w := range want {
					g, ok := got[name]
					if !ok {
						t.Errorf("no %s", name)
						continue
					}
					e := relErr(g, w)
					if e > tol {
						t.Errorf("%s: max error %.3g, want <= %g", name, e, tol)
					}
					worst = max(worst, e)
				}
				t.Logf("max error vs PyTorch %.3g", worst)
			})
		}
	}
}

// runDecoder builds the case's layer in dtype dt with PyTorch's weights
// and returns, by name, the output and the gradients of sum(out ⊙ r)
// with respect to x, the memory and each parameter (by PyTorch name).
func runDecoder(t *testing.T, c decoderCase, dt string) map[string][]float64 {
	t.Helper()
	e := experiment(t, fmt.Sprintf("{dtype: %s, layers: [%s]}", dt, c.layer()))
	m, err := Build(Spec{Exp: e, Input: Shape{c.Time, c.Dim}, Output: Shape{c.Time, c.Dim}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params().All() {
		_, name, _ := strings.Cut(p.Name, "/")
		v, ok := c.Params[name]
		if !ok {
			t.Fatalf("parameter %s is not one of PyTorch's", name)
		}
		setValues(p.Value, v)
	}
	g := NewGraph(m.Params(), true)
	dtype := DType(dt)
	node := func(name string, v []float64, shape ...int) *G.Node {
		tv := tensor.New(tensor.WithShape(shape...), tensor.Of(dtype))
		setValues(tv, v)
		return G.NewTensor(g.G, dtype, len(shape), G.WithShape(shape...), G.WithName(name), G.WithValue(tv))
	}
	x := node("x", c.X, c.Batch, c.Time, c.Dim)
	mem := node("mem", c.Memory, c.Batch, c.MemoryTime, c.Dim)
	if err := g.Define("mem", mem); err != nil {
		t.Fatal(err)
	}
	if c.Keep != nil {
		if err := g.Define("keep", node("keep", c.Keep, c.Batch, c.MemoryTime)); err != nil {
			t.Fatal(err)
		}
	}
	outs, err := m.Forward(g, Tensors{InputX: x})
	if err != nil {
		t.Fatal(err)
	}
	y := outs[OutputOut]
	r := make([]float64, y.Shape().TotalSize())
	for i := range r {
		r[i] = math.Sin(0.5 + 0.7*float64(i))
	}
	cost, err := ops.WeightedSum(y, node("r", r, y.Shape()...))
	if err != nil {
		t.Fatal(err)
	}
	ps, ns := g.Bound()
	gs, err := G.Grad(cost, append(G.Nodes{x, mem}, ns...)...)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := ops.NewMachine(g.G)
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.RunAll(); err != nil {
		t.Fatal(err)
	}
	got := map[string][]float64{
		"output":                 values(y.Value().(*tensor.Dense)),
		"gradient of x":          values(gs[0].Value().(*tensor.Dense)),
		"gradient of the memory": values(gs[1].Value().(*tensor.Dense)),
	}
	for i, p := range ps {
		_, name, _ := strings.Cut(p.Name, "/")
		got["gradient of "+name] = values(gs[i+2].Value().(*tensor.Dense))
	}
	return got
}

// TestDecoderParamsMatchPyTorch: the decoder declares PyTorch's
// parameters, in named_parameters() order, with their shapes and count.
func TestDecoderParamsMatchPyTorch(t *testing.T) {
	for _, c := range loadDecoderCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			e := experiment(t, fmt.Sprintf("{layers: [%s]}", c.layer()))
			m, err := Build(Spec{Exp: e, Input: Shape{c.Time, c.Dim}, Output: Shape{c.Time, c.Dim}, InitRNG: rand.New(rand.NewPCG(1, 1))})
			if err != nil {
				t.Fatal(err)
			}
			if n := m.Params().Count(); n != c.Counts {
				t.Errorf("%d parameters, PyTorch has %d", n, c.Counts)
			}
			var got []string
			for _, p := range m.Params().All() {
				_, name, _ := strings.Cut(p.Name, "/")
				got = append(got, fmt.Sprintf("%s%v", name, strings.ReplaceAll(fmt.Sprint(p.Value.Shape()), " ", "")))
			}
			want := strings.NewReplacer("[", "(", "]", ")", ", ", ",").Replace(strings.Join(c.Order, " "))
			if g := strings.Join(got, " "); g != want {
				t.Errorf("parameters\n%s\nPyTorch's\n%s", g, want)
			}
		})
	}
}
