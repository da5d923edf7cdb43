package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestRecurrentParamsMatchPyTorch: each recurrent and embedding layer
// declares PyTorch's parameters, in PyTorch's order, names and shapes
// (named_parameters() of the same nn module, printed by PyTorch 1.13), so
// the counts summary prints are PyTorch's, and gives the documented
// output shape.
func TestRecurrentParamsMatchPyTorch(t *testing.T) {
	cases := []struct {
		name, layer string
		in, out     Shape
		count       int
		params      string // PyTorch's named_parameters()
	}{
		{"lstm_stacked_bidirectional", "{type: lstm, units: 5, layers: 2, bidirectional: true}", Shape{7, 3}, Shape{10}, 1080,
			"weight_ih_l0[20, 3] weight_hh_l0[20, 5] bias_ih_l0[20] bias_hh_l0[20] weight_ih_l0_reverse[20, 3] weight_hh_l0_reverse[20, 5] bias_ih_l0_reverse[20] bias_hh_l0_reverse[20] " +
				"weight_ih_l1[20, 10] weight_hh_l1[20, 5] bias_ih_l1[20] bias_hh_l1[20] weight_ih_l1_reverse[20, 10] weight_hh_l1_reverse[20, 5] bias_ih_l1_reverse[20] bias_hh_l1_reverse[20]"},
		{"gru_sequences", "{type: gru, units: 4, return_sequences: true}", Shape{6, 2}, Shape{6, 4}, 96,
			"weight_ih_l0[12, 2] weight_hh_l0[12, 4] bias_ih_l0[12] bias_hh_l0[12]"},
		{"rnn_relu_3_layers", "{type: rnn, units: 6, layers: 3, activation: relu}", Shape{5, 3}, Shape{6}, 234,
			"weight_ih_l0[6, 3] weight_hh_l0[6, 6] bias_ih_l0[6] bias_hh_l0[6] weight_ih_l1[6, 6] weight_hh_l1[6, 6] bias_ih_l1[6] bias_hh_l1[6] weight_ih_l2[6, 6] weight_hh_l2[6, 6] bias_ih_l2[6] bias_hh_l2[6]"},
		{"gru_bidirectional_sequences", "{type: gru, units: 3, bidirectional: true, return_sequences: true}", Shape{4, 7}, Shape{4, 6}, 216,
			"weight_ih_l0[9, 7] weight_hh_l0[9, 3] bias_ih_l0[9] bias_hh_l0[9] weight_ih_l0_reverse[9, 7] weight_hh_l0_reverse[9, 3] bias_ih_l0_reverse[9] bias_hh_l0_reverse[9]"},
		{"embedding", "{type: embedding, dim: 4, vocab: 10}", Shape{8}, Shape{8, 4}, 40, "weight[10, 4]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := experiment(t, fmt.Sprintf("{layers: [%s]}", c.layer))
			m, err := Build(Spec{Exp: e, Input: c.in, Output: c.out, InitRNG: rand.New(rand.NewPCG(1, 1))})
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
			want := strings.ReplaceAll(strings.ReplaceAll(c.params, "[", "("), "]", ")")
			want = strings.ReplaceAll(want, ", ", ",")
			if g := strings.Join(got, " "); g != want {
				t.Errorf("parameters\n%s\nPyTorch's\n%s", g, want)
			}
		})
	}
}

// TestRecurrentConfigProblems: bad options and inputs are problems naming
// the key (or the layer) and what was found.
func TestRecurrentConfigProblems(t *testing.T) {
	for _, c := range []struct{ layer, want string }{
		{"{type: lstm}", "model.layers[0].units: is required"},
		{"{type: gru, units: 0}", "model.layers[0].units: must be >= 1, got 0"},
		{"{type: lstm, units: 4, layers: 0}", "model.layers[0].layers: must be >= 1 (stacked layers), got 0"},
		{"{type: gru, units: 4, dropout: 0.2}", "model.layers[0].dropout: applies between stacked layers"},
		{"{type: lstm, units: 4, layers: 2, dropout: 1}", "model.layers[0].dropout: must be in [0, 1), got 1"},
		{"{type: lstm, units: 4, activation: relu}", `model.layers[0].activation: unknown option for lstm`},
		{"{type: rnn, units: 4, activation: gelu}", `model.layers[0].activation: must be one of tanh, relu, got "gelu"`},
		{"{type: gru, units: 4, forget_bias: 1}", `model.layers[0].forget_bias: unknown option for gru`},
		{"{type: lstm, units: 4, truncate: 0}", "model.layers[0].truncate: must be >= 1 (steps that gradients flow back through the recurrent state), got 0"},
		{"{type: gru, units: 4, truncate: 1.5}", "model.layers[0].truncate:"},
		{"{type: lstm, units: 4, recurrent_init: identity}", `model.layers[0].recurrent_init: must be one of`},
		{"{type: embedding, vocab: 5}", "model.layers[0].dim: is required"},
		{"{type: embedding, dim: 3, vocab: 0}", "model.layers[0].vocab: must be >= 1, got 0"},
		{"{type: embedding, dim: 3, vocab: 5, padding_id: 5}", "model.layers[0].padding_id: must be an id in [0, 5) (vocab), got 5"},
	} {
		t.Run(c.layer, func(t *testing.T) {
			_, err := config.Parse("m.yaml", []byte("name: t\ndata: {source: builtin:iris}\nmodel: {layers: ["+c.layer+"]}\n"), nil, nil, Validate)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestRecurrentNeedsASequence: a 1-D sample into a recurrent layer is a
// shape problem naming the layer, the shape and the way out.
func TestRecurrentNeedsASequence(t *testing.T) {
	e := experiment(t, "{layers: [{type: lstm, units: 4}, {type: dense, units: 3}]}")
	_, err := Build(Spec{Exp: e, Input: Shape{12}, Output: Shape{3}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	want := `model.layers[0]: layer 0 (lstm "lstm1"): lstm needs a sequence input [time, features], got (12)`
	if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "{type: embedding}") {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
}

// TestOrthogonalInitializer: the orthogonal entry gives a matrix of fan-in
// rows whose rows (wide) or columns (tall) are orthonormal, and recurrent
// layers give weight_hh [G·H, H] orthonormal columns, as
// torch.nn.init.orthogonal_.
func TestOrthogonalInitializer(t *testing.T) {
	check := func(t *testing.T, w []float64, rows int, tol float64) {
		t.Helper()
		cols := len(w) / rows
		tall := rows >= cols
		n, m := cols, rows // Gram matrix of the columns
		at := func(v, i int) float64 { return w[i*cols+v] }
		if !tall {
			n, m = rows, cols
			at = func(v, i int) float64 { return w[v*cols+i] }
		}
		for a := range n {
			for b := range n {
				var d float64
				for i := range m {
					d += at(a, i) * at(b, i)
				}
				want := 0.0
				if a == b {
					want = 1
				}
				if math.Abs(d-want) > tol {
					t.Fatalf("%dx%d: Gram[%d][%d] = %v, want %v", rows, cols, a, b, d, want)
				}
			}
		}
	}
	for _, s := range [][2]int{{5, 5}, {12, 3}, {3, 12}, {1, 4}} {
		w := make([]float64, s[0]*s[1])
		initializers["orthogonal"](rand.New(rand.NewPCG(3, 3)), w, s[0], s[1])
		check(t, w, s[0], 1e-12)
	}
	e := experiment(t, "{layers: [{type: lstm, units: 6}]}")
	m, err := Build(Spec{Exp: e, Input: Shape{4, 3}, Output: Shape{6}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	check(t, Float64s(m.Params().Get("lstm1/weight_hh_l0").Value), 24, 1e-6) // float32
	// The others: PyTorch's uniform(±1/√units).
	for _, name := range []string{"weight_ih_l0", "bias_ih_l0", "bias_hh_l0"} {
		lim, seen := 1/math.Sqrt(6), 0.0
		for _, v := range Float64s(m.Params().Get("lstm1/" + name).Value) {
			seen = max(seen, math.Abs(v))
			if math.Abs(v) > lim {
				t.Fatalf("%s: %v outside ±%v", name, v, lim)
			}
		}
		if seen < lim/2 {
			t.Errorf("%s: largest |value| %v, want near %v", name, seen, lim)
		}
	}
}

// TestLSTMForgetBias: forget_bias sets the forget gate's block of the
// biases (rows H to 2H) so that bias_ih + bias_hh is its value there;
// other rows keep their initialization.
func TestLSTMForgetBias(t *testing.T) {
	e := experiment(t, "{layers: [{type: lstm, units: 3, bidirectional: true, forget_bias: 1.0}]}")
	m, err := Build(Spec{Exp: e, Input: Shape{4, 2}, Output: Shape{6}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	for _, sfx := range []string{"", "_reverse"} {
		bih := Float64s(m.Params().Get("lstm1/bias_ih_l0" + sfx).Value)
		bhh := Float64s(m.Params().Get("lstm1/bias_hh_l0" + sfx).Value)
		for i := range bih {
			forget := i >= 3 && i < 6
			if forget && (bih[i] != 1 || bhh[i] != 0) {
				t.Fatalf("forget row %d: bias_ih %v, bias_hh %v, want 1 and 0", i, bih[i], bhh[i])
			}
			if !forget && (bih[i] == 1 || bih[i] == 0) {
				t.Fatalf("row %d of bias_ih is %v, want PyTorch's initialization", i, bih[i])
			}
		}
	}
}

// TestEmbeddingPaddingRowStartsAtZero: as PyTorch's padding_idx.
func TestEmbeddingPaddingRowStartsAtZero(t *testing.T) {
	e := experiment(t, "{layers: [{type: embedding, dim: 3, vocab: 5, padding_id: 2}]}")
	m, err := Build(Spec{Exp: e, Input: Shape{6}, Output: Shape{6, 3}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	w := Float64s(m.Params().Get("embedding1/weight").Value)
	for i, v := range w {
		if (i/3 == 2) != (v == 0) {
			t.Fatalf("weight %v: want zeros exactly in row 2", w)
		}
	}
}

// TestRecurrentDropoutTrainingOnly: dropout between stacked layers draws
// from the graph's dropout stream in training graphs (two draws differ,
// the same seed repeats them) and is left out of evaluation graphs.
func TestRecurrentDropoutTrainingOnly(t *testing.T) {
	e := experiment(t, "{dtype: float64, layers: [{type: gru, units: 8, layers: 2, dropout: 0.5}]}")
	m, err := Build(Spec{Exp: e, Input: Shape{5, 3}, Output: Shape{8}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	run := func(train bool, seed uint64) []float64 {
		g := NewGraph(m.Params(), train)
		g.DropoutRNG = rand.New(rand.NewPCG(seed, 1))
		xs := []int{2, 5, 3}
		x := G.NewTensor(g.G, tensor.Float64, 3, G.WithShape(xs...), G.WithName("x"),
			G.WithValue(tensor.New(tensor.WithShape(xs...), tensor.WithBacking(torchSeq(30, 0.2, 0.41, 1.5)))))
		out, err := Apply(g, m, x)
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
		if len(g.Dropouts) != map[bool]int{true: 1, false: 0}[train] {
			t.Fatalf("train %v: %d dropout ops", train, len(g.Dropouts))
		}
		return append([]float64(nil), out.Value().Data().([]float64)...)
	}
	same := func(a, b []float64) bool { return slices.Equal(a, b) }
	if a, b := run(false, 1), run(false, 2); !same(a, b) {
		t.Error("evaluation depends on the dropout stream")
	}
	if a, b := run(true, 1), run(true, 1); !same(a, b) {
		t.Error("the same dropout seed gave different training outputs")
	}
	if a, b := run(true, 1), run(true, 2); same(a, b) {
		t.Error("two dropout seeds gave the same training outputs")
	}
	if a, b := run(true, 1), run(false, 1); same(a, b) {
		t.Error("training and evaluation outputs are equal: no dropout applied")
	}
}
