package models

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// encoderCase is one case of testdata/torch_ref_encoder.json, written by
// testdata/torch_ref_encoder.py with PyTorch 1.13.
type encoderCase struct {
	Name                                string
	Batch, Time, Dim, Heads, FF, Layers int
	Norm, Activation                    string
	Causal                              bool
	X, Keep, Out                        []float64
	GradX                               []float64 `json:"grad_x"`
	Params, Grads                       map[string][]float64
	Counts                              int
	Order                               []string // PyTorch's named_parameters(): name[shape]
}

func loadEncoderCases(t *testing.T) []encoderCase {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_ref_encoder.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []encoderCase }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

func (c encoderCase) layer() string {
	s := fmt.Sprintf("{type: transformer_encoder, layers: %d, heads: %d, ff: %d, dropout: 0, norm: %s, activation: %s, causal: %v",
		c.Layers, c.Heads, c.FF, c.Norm, c.Activation, c.Causal)
	if c.Keep != nil {
		s += ", key_mask: keep"
	}
	return s + "}"
}

// relErr is max |got − want| / max(1, max |want|).
func relErr(got, want []float64) float64 {
	var scale, e float64
	for _, w := range want {
		scale = max(scale, math.Abs(w))
	}
	for i := range got {
		e = max(e, math.Abs(got[i]-want[i]))
	}
	return e / max(1, scale)
}

// TestEncoderMatchesPyTorch: a transformer_encoder given the weights of
// PyTorch 1.13's nn.TransformerEncoder (post and pre norm, relu and gelu,
// causal and key-padding masks, dropout 0) gives its output and the
// gradients of the input and of every parameter, found by PyTorch's name,
// in float64 and float32.
func TestEncoderMatchesPyTorch(t *testing.T) {
	for _, c := range loadEncoderCases(t) {
		for _, dt := range []string{"float64", "float32"} {
			t.Run(c.Name+"/"+dt, func(t *testing.T) {
				tol := 1e-12
				if dt == "float32" {
					tol = 5e-6
				}
				out, gx, grads := runEncoder(t, c, dt)
				worst := relErr(out, c.Out)
				if worst > tol {
					t.Errorf("output: max error %.3g, want <= %g", worst, tol)
				}
				if e := relErr(gx, c.GradX); e > tol {
					t.Errorf("gradient of x: max error %.3g, want <= %g", e, tol)
				} else {
					worst = max(worst, e)
				}
				if len(grads) != len(c.Grads) {
					t.Errorf("%d parameters, PyTorch has %d", len(grads), len(c.Grads))
				}
				for name, want := range c.Grads {
					got, ok := grads[name]
					if !ok {
						t.Errorf("no parameter %s", name)
						continue
					}
					if e := relErr(got, want); e > tol {
						t.Errorf("gradient of %s: max error %.3g, want <= %g", name, e, tol)
					} else {
						worst = max(worst, e)
					}
				}
				t.Logf("max error vs PyTorch %.3g", worst)
			})
		}
	}
}

// runEncoder builds the case's layer in dtype dt with PyTorch's weights
// and returns the output and the gradients of sum(out ⊙ r) with respect
// to x and to each parameter, by PyTorch name.
func runEncoder(t *testing.T, c encoderCase, dt string) ([]float64, []float64, map[string][]float64) {
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
	if c.Keep != nil {
		if err := g.Define("keep", node("keep", c.Keep, c.Batch, c.Time)); err != nil {
			t.Fatal(err)
		}
	}
	outs, err := m.Forward(g, Tensors{InputX: x}) // not Run: x takes a gradient here
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
	gs, err := G.Grad(cost, append(G.Nodes{x}, ns...)...)
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
	grads := map[string][]float64{}
	for i, p := range ps {
		_, name, _ := strings.Cut(p.Name, "/")
		grads[name] = values(gs[i+1].Value().(*tensor.Dense))
	}
	return values(y.Value().(*tensor.Dense)), values(gs[0].Value().(*tensor.Dense)), grads
}

// setValues writes v into t, converting to t's dtype.
func setValues(t *tensor.Dense, v []float64) {
	switch x := t.Data().(type) {
	case []float32:
		for i := range x {
			x[i] = float32(v[i])
		}
	case []float64:
		copy(x, v)
	}
}

// values reads t's values as float64.
func values(t *tensor.Dense) []float64 {
	switch x := t.Data().(type) {
	case []float32:
		out := make([]float64, len(x))
		for i, v := range x {
			out[i] = float64(v)
		}
		return out
	case []float64:
		return append([]float64(nil), x...)
	}
	return nil
}

// TestTransformerParamsMatchPyTorch: the attention, positional and
// encoder layers declare PyTorch's parameters (names, order, shapes), so
// summary's counts are PyTorch's (the encoder's from the reference file,
// the others from nn.MultiheadAttention(d, h) and a [max_length, d] table).
func TestTransformerParamsMatchPyTorch(t *testing.T) {
	enc := loadEncoderCases(t)[0]
	cases := []struct {
		name, layer string
		in          Shape
		count       int
		params      string
		out         Shape // nil: the input's shape
	}{
		{"multihead_attention", "{type: multihead_attention, heads: 2}", Shape{5, 8}, 288,
			"in_proj_weight(24,8) in_proj_bias(24) out_proj.weight(8,8) out_proj.bias(8)", nil},
		{"positional_learned", "{type: positional, kind: learned, max_length: 16}", Shape{5, 8}, 128, "weight(16,8)", nil},
		{"positional_sinusoidal", "{type: positional}", Shape{5, 8}, 0, "", nil},
		{"linear", "{type: linear, units: 8}", Shape{5, 3}, 32, "weight(8,3) bias(8)", Shape{5, 8}},
		{"transformer_encoder", enc.layer(), Shape{enc.Time, enc.Dim}, enc.Counts, strings.Join(enc.Order, " "), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := experiment(t, fmt.Sprintf("{layers: [%s]}", c.layer))
			out := c.out
			if out == nil {
				out = c.in
			}
			m, err := Build(Spec{Exp: e, Input: c.in, Output: out, InitRNG: rand.New(rand.NewPCG(1, 1))})
			if err != nil {
				t.Fatal(err)
			}
			if n := m.Params().Count(); n != c.count {
				t.Errorf("%d parameters, PyTorch has %d", n, c.count)
			}
			var got []string
			for _, p := range m.Params().All() {
				_, name, _ := strings.Cut(p.Name, "/")
				got = append(got, fmt.Sprintf("%s%v", name, strings.ReplaceAll(fmt.Sprint(p.Value.Shape()), " ", "")))
			}
			want := strings.NewReplacer("[", "(", "]", ")", ", ", ",").Replace(c.params)
			if g := strings.Join(got, " "); g != want {
				t.Errorf("parameters\n%s\nPyTorch's\n%s", g, c.params)
			}
		})
	}
}

// TestTransformerConfigProblems: bad options and inputs are problems
// naming the key (or the layer) and what was found.
func TestTransformerConfigProblems(t *testing.T) {
	for _, c := range []struct{ layer, want string }{
		{"{type: multihead_attention}", "model.layers[0].heads: is required"},
		{"{type: multihead_attention, heads: 0}", "model.layers[0].heads: must be >= 1, got 0"},
		{"{type: multihead_attention, heads: 2, dropout: 1}", "model.layers[0].dropout: must be in [0, 1), got 1"},
		{"{type: positional, kind: learned}", "model.layers[0].max_length: is required for kind: learned"},
		{"{type: positional, kind: rotary}", `model.layers[0].kind: must be one of sinusoidal, learned, got "rotary"`},
		{"{type: positional, kind: learned, max_length: 0}", "model.layers[0].max_length: must be >= 1, got 0"},
		{"{type: transformer_encoder, heads: 2}", "model.layers[0].ff: is required"},
		{"{type: transformer_encoder, ff: 8}", "model.layers[0].heads: is required"},
		{"{type: transformer_encoder, heads: 2, ff: 8, layers: 0}", "model.layers[0].layers: must be >= 1"},
		{"{type: transformer_encoder, heads: 2, ff: 8, norm: middle}", `model.layers[0].norm: must be one of post, pre, got "middle"`},
		{"{type: transformer_encoder, heads: 2, ff: 8, activation: tanh}", `model.layers[0].activation: must be one of relu, gelu, got "tanh"`},
		{"{type: transformer_decoder, heads: 2, ff: 8}", "model.layers[0].memory: is required"},
		{"{type: transformer_decoder, heads: 2, ff: 8, memory: x, norm: middle}", `model.layers[0].norm: must be one of post, pre, got "middle"`},
		{"{type: linear}", "model.layers[0].units: is required"},
		{"{type: sequence_pool, mode: median}", `model.layers[0].mode: must be one of mean, max, first, got "median"`},
		{"{type: transformer_encoder, heads: 2, ff: 8, dropout: -0.1}", "model.layers[0].dropout: must be in [0, 1), got -0.1"},
	} {
		t.Run(c.layer, func(t *testing.T) {
			_, err := config.Parse("m.yaml", []byte("name: t\ndata: {source: builtin:iris}\nmodel: {layers: ["+c.layer+"]}\n"), nil, nil, Validate)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestTransformerShapeProblems: inputs that do not fit are errors naming
// the layer, the option and both shapes.
func TestTransformerShapeProblems(t *testing.T) {
	for _, c := range []struct {
		layer string
		in    Shape
		want  string
	}{
		{"{type: transformer_encoder, heads: 4, ff: 8}", Shape{5, 6}, "heads 4 do not divide the dimension 6 of its input (5, 6)"},
		{"{type: transformer_decoder, heads: 4, ff: 8, memory: x}", Shape{5, 6}, "transformer_decoder: heads 4 do not divide the dimension 6 of its input (5, 6)"},
		{"{type: multihead_attention, heads: 4}", Shape{5, 6}, "heads 4 do not divide the dimension 6 of its input (5, 6)"},
		{"{type: transformer_encoder, heads: 2, ff: 8}", Shape{6}, "transformer_encoder needs a sequence [time, dim], got (6)"},
		{"{type: positional, kind: learned, max_length: 4}", Shape{5, 6}, "the sequence has 5 positions, more than max_length 4"},
		{"{type: sequence_pool}", Shape{6}, "sequence_pool needs a sequence [time, dim], got (6)"},
		{"{type: positional}", Shape{2, 5, 6}, "positional needs a sequence [time, dim], got (2, 5, 6)"},
	} {
		t.Run(c.layer, func(t *testing.T) {
			e := experiment(t, fmt.Sprintf("{layers: [%s]}", c.layer))
			_, err := Build(Spec{Exp: e, Input: c.in, Output: c.in, InitRNG: rand.New(rand.NewPCG(1, 1))})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "model.layers[0]") {
				t.Fatalf("error %v, want one naming model.layers[0] and containing %q", err, c.want)
			}
		})
	}
}

// TestCausalStackIsCausal: in a causal stack (embedding, learned
// positions, two causal encoder layers, post and pre norm), changing the
// tokens at positions t+1..T never changes the outputs at positions ≤ t,
// and changing token t changes the output at t.
func TestCausalStackIsCausal(t *testing.T) {
	for _, norm := range []string{"post", "pre"} {
		t.Run(norm, func(t *testing.T) {
			const tl, d, vocab = 6, 8, 11
			e := experiment(t, fmt.Sprintf("{dtype: float64, layers: [{type: embedding, dim: %d, vocab: %d}, {type: positional, kind: learned, max_length: %d}, "+
				"{type: transformer_encoder, layers: 2, heads: 2, ff: 16, dropout: 0, causal: true, norm: %s}]}", d, vocab, tl, norm))
			m, err := Build(Spec{Exp: e, Input: Shape{tl}, Output: Shape{tl, d}, InitRNG: rand.New(rand.NewPCG(3, 4))})
			if err != nil {
				t.Fatal(err)
			}
			forward := func(ids []float64) []float64 {
				g := NewGraph(m.Params(), false)
				x := G.NewTensor(g.G, tensor.Float64, 2, G.WithShape(1, tl), G.WithName("x"),
					G.WithValue(tensor.New(tensor.WithShape(1, tl), tensor.WithBacking(ids))))
				y, err := Apply(g, m, x)
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
				return values(y.Value().(*tensor.Dense))
			}
			base := []float64{1, 5, 2, 9, 3, 7}
			ref := forward(base)
			for pos := range tl {
				changed := append([]float64(nil), base...)
				for j := pos; j < tl; j++ {
					changed[j] = float64((int(changed[j]) + 4) % vocab)
				}
				out := forward(changed)
				for i := range pos * d {
					if out[i] != ref[i] {
						t.Fatalf("changing tokens %d..%d changed output %d (position %d): %v -> %v", pos, tl-1, i, i/d, ref[i], out[i])
					}
				}
				if out[pos*d] == ref[pos*d] {
					t.Errorf("changing token %d left its own output unchanged", pos)
				}
			}
		})
	}
}
