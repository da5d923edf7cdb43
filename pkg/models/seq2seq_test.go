package models

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/ops"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// seq2seqCase is one case of testdata/torch_ref_seq2seq.json, written by
// testdata/torch_ref_seq2seq.py with PyTorch 1.13.
type seq2seqCase struct {
	Name             string
	SourceVocab      int `json:"source_vocab"`
	TargetVocab      int `json:"target_vocab"`
	Dim, Heads, FF   int
	EncoderLayers    int `json:"encoder_layers"`
	DecoderLayers    int `json:"decoder_layers"`
	Norm, Activation string
	SourceLength     int `json:"source_length"`
	TargetLength     int `json:"target_length"`
	X, Y, Logits     []float64
	Loss             float64
	Params, Grads    map[string][]float64
	Order            []string
	Counts           int
}

func loadSeq2SeqCases(t *testing.T) []seq2seqCase {
	t.Helper()
	b, err := os.ReadFile("testdata/torch_ref_seq2seq.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ Cases []seq2seqCase }
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

// seq2seqExperiment parses a seq2seq experiment with the model keys
// given, validated as dltrain validates a config's model section.
func seq2seqExperiment(t *testing.T, model string) *config.Experiment {
	t.Helper()
	e, err := config.Parse("m.yaml", []byte("name: t\ndata: {source: tsv:pairs.tsv, task: seq2seq, source_column: a, target_column: b}\nmodel: {kind: seq2seq, "+model+"}\n"), nil, nil, Validate)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (c seq2seqCase) build(t *testing.T, dt string) Model {
	t.Helper()
	e := seq2seqExperiment(t, fmt.Sprintf("dtype: %s, dim: %d, heads: %d, ff: %d, encoder_layers: %d, decoder_layers: %d, dropout: 0, norm: %s, activation: %s",
		dt, c.Dim, c.Heads, c.FF, c.EncoderLayers, c.DecoderLayers, c.Norm, c.Activation))
	sq := &Sequences{SourceLength: c.SourceLength, TargetLength: c.TargetLength, SourceVocab: c.SourceVocab, TargetVocab: c.TargetVocab}
	m, err := Build(Spec{Exp: e, Input: Shape{c.SourceLength + c.TargetLength}, Sequences: sq, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestSeq2SeqMatchesPyTorch: a seq2seq model given the weights of PyTorch
// 1.13's nn.Transformer between two nn.Embedding(padding_idx=0) with
// sinusoidal positions and an nn.Linear generator (post/relu and
// pre/gelu; padded sources masking the encoder's keys and the memory; a
// causal decoder) gives its logits, its loss (cross-entropy ignoring
// padding) and the gradient of every parameter, in float64 and float32.
func TestSeq2SeqMatchesPyTorch(t *testing.T) {
	for _, c := range loadSeq2SeqCases(t) {
		for _, dt := range []string{"float64", "float32"} {
			t.Run(c.Name+"/"+dt, func(t *testing.T) {
				tol := 1e-12
				if dt == "float32" {
					tol = 5e-6
				}
				m := c.build(t, dt)
				for _, p := range m.Params().All() {
					v, ok := c.Params[p.Name]
					if !ok {
						t.Fatalf("parameter %s is not one of PyTorch's", p.Name)
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
				b := len(c.Y) / c.TargetLength
				out, err := Run(g, m, Tensors{InputX: node("x", c.X, b, c.SourceLength+c.TargetLength)})
				if err != nil {
					t.Fatal(err)
				}
				loss, err := ops.SequenceCrossEntropy(out[OutputOut], node("y", c.Y, b, c.TargetLength), 0)
				if err != nil {
					t.Fatal(err)
				}
				ps, ns := g.Bound()
				gs, err := G.Grad(loss, ns...)
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
				worst := relErr(values(out[OutputOut].Value().(*tensor.Dense)), c.Logits)
				if worst > tol {
					t.Errorf("logits: max error %.3g, want <= %g", worst, tol)
				}
				if e := relErr([]float64{scalarOf(loss)}, []float64{c.Loss}); e > tol {
					t.Errorf("loss %v, PyTorch %v", scalarOf(loss), c.Loss)
				}
				if len(ps) != len(c.Grads) {
					t.Errorf("%d parameters have gradients, PyTorch has %d", len(ps), len(c.Grads))
				}
				for i, p := range ps {
					e := relErr(values(gs[i].Value().(*tensor.Dense)), c.Grads[p.Name])
					if e > tol {
						t.Errorf("gradient of %s: max error %.3g, want <= %g", p.Name, e, tol)
					}
					worst = max(worst, e)
				}
				t.Logf("max error vs PyTorch %.3g (loss %.6f)", worst, scalarOf(loss))
			})
		}
	}
}

func scalarOf(n *G.Node) float64 {
	switch v := n.Value().Data().(type) {
	case float32:
		return float64(v)
	case float64:
		return v
	}
	return 0
}

// TestSeq2SeqParamsMatchPyTorch: the seq2seq model declares
// nn.Transformer's parameters and the embeddings' and generator's, in
// named_parameters() order, with PyTorch's count.
func TestSeq2SeqParamsMatchPyTorch(t *testing.T) {
	for _, c := range loadSeq2SeqCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			m := c.build(t, "float32")
			if n := m.Params().Count(); n != c.Counts {
				t.Errorf("%d parameters, PyTorch has %d", n, c.Counts)
			}
			var got []string
			for _, p := range m.Params().All() {
				got = append(got, p.Name)
			}
			if g, w := strings.Join(got, " "), strings.Join(c.Order, " "); g != w {
				t.Errorf("parameters\n%s\nPyTorch's\n%s", g, w)
			}
		})
	}
}

// TestSeq2SeqDecoderIsCausal: changing the target input at positions
// after t never changes the logits at t or before (what teacher forcing
// and step-by-step decoding both rely on), and changing the source does
// change them.
func TestSeq2SeqDecoderIsCausal(t *testing.T) {
	const s, tl, vocab = 5, 4, 9
	e := seq2seqExperiment(t, "dtype: float64, dim: 8, heads: 2, ff: 16, encoder_layers: 1, decoder_layers: 2, dropout: 0")
	m, err := Build(Spec{Exp: e, Input: Shape{s + tl}, Sequences: &Sequences{SourceLength: s, TargetLength: tl, SourceVocab: vocab, TargetVocab: vocab},
		InitRNG: rand.New(rand.NewPCG(3, 4))})
	if err != nil {
		t.Fatal(err)
	}
	forward := func(ids []float64) []float64 {
		g := NewGraph(m.Params(), false)
		x := G.NewTensor(g.G, tensor.Float64, 2, G.WithShape(1, s+tl), G.WithName("x"),
			G.WithValue(tensor.New(tensor.WithShape(1, s+tl), tensor.WithBacking(ids))))
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
	base := []float64{4, 5, 6, 0, 0, 2, 7, 8, 4}
	ref := forward(base)
	for pos := 1; pos < tl; pos++ {
		changed := append([]float64(nil), base...)
		for j := pos; j < tl; j++ {
			changed[s+j] = float64(4 + (int(changed[s+j])-4+2)%5)
		}
		out := forward(changed)
		for i := range pos * vocab {
			if out[i] != ref[i] {
				t.Fatalf("changing target tokens %d..%d changed logit %d (position %d)", pos, tl-1, i, i/vocab)
			}
		}
		if out[pos*vocab] == ref[pos*vocab] {
			t.Errorf("changing target token %d left its own logits unchanged", pos)
		}
	}
	src := append([]float64(nil), base...)
	src[0] = 8
	if out := forward(src); out[0] == ref[0] {
		t.Error("changing the source left the first logits unchanged")
	}
	pad := append([]float64(nil), base...)
	pad[3], pad[4] = 0, 0 // already padding: the model must not read what padding would hold
	if out := forward(pad); out[0] != ref[0] {
		t.Error("the same padded source gave other logits")
	}
}

// TestSeq2SeqConfigProblems: bad seq2seq keys are problems naming the
// key and what was found.
func TestSeq2SeqConfigProblems(t *testing.T) {
	for _, c := range []struct{ data, model, want string }{
		{"", "{kind: seq2seq, dim: 30, heads: 4}", "model.heads: 4 heads do not divide model.dim 30"},
		{"", "{kind: seq2seq, heads: 4}", "model.dim: is required for a seq2seq model"},
		{"", "{kind: seq2seq, dim: 8}", "model.heads: is required for a seq2seq model"},
		{"", "{kind: seq2seq, dim: 8, heads: 2, norm: middle}", `model.norm: must be one of [post pre], got "middle"`},
		{"", "{kind: seq2seq, dim: 8, heads: 2, positional: rotary}", `model.positional: must be one of [sinusoidal learned], got "rotary"`},
		{"", "{kind: seq2seq, dim: 8, heads: 2, encoder_layers: 0}", "model.encoder_layers: must be >= 1, got 0"},
		{"", "{kind: seq2seq, dim: 8, heads: 2, dropout: 1}", "model.dropout: must be in [0, 1), got 1"},
		{"", "{kind: seq2seq, dim: 8, heads: 2, layers: [{type: relu}]}", "model.layers: a seq2seq model is described by model.dim"},
		{"", "{kind: seq2seq, dim: 8, heads: 2}\neval: {beam: -1}", "eval.beam: must be >= 0, got -1"},
		{"", "{kind: seq2seq, dim: 8, heads: 2}\neval: {length_penalty: -1}", "eval.length_penalty: must be >= 0, got -1"},
		{"{source: builtin:iris}", "{kind: seq2seq, dim: 8, heads: 2}", "model.kind: a seq2seq model maps a source sequence to a target sequence: set data.task: seq2seq"},
		{"{source: builtin:iris}", "{layers: [{type: relu}], dim: 8}", "model.dim: applies to model.kind seq2seq only; this model is mlp"},
		{"{source: builtin:iris}", "{layers: [{type: relu}]}\neval: {beam: 4}", "eval.beam: applies to model.kind seq2seq only"},
		{"", "{layers: [{type: relu}]}", "model.kind: a seq2seq task needs model.kind: seq2seq, got mlp"},
	} {
		t.Run(c.want, func(t *testing.T) {
			d := c.data
			if d == "" {
				d = "{source: tsv:pairs.tsv, task: seq2seq, source_column: a, target_column: b}"
			}
			_, err := config.Parse("m.yaml", []byte("name: t\ndata: "+d+"\nmodel: "+c.model+"\n"), nil, nil, Validate)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestSeq2SeqLearnedTableTooShort: a learned position table shorter than
// the data's longest source or target is a problem naming
// model.max_length and the line of that sequence.
func TestSeq2SeqLearnedTableTooShort(t *testing.T) {
	e := seq2seqExperiment(t, "dim: 8, heads: 2, positional: learned, max_length: 6")
	sq := &Sequences{SourceLength: 9, TargetLength: 5, SourceVocab: 10, TargetVocab: 10, LongestSource: "pairs.tsv:17", LongestTarget: "pairs.tsv:3"}
	_, err := Build(Spec{Exp: e, Input: Shape{14}, Sequences: sq, InitRNG: rand.New(rand.NewPCG(1, 1))})
	want := "model.max_length: the learned position table holds 6 positions, but the longest source (pairs.tsv:17) has 9 tokens"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("error %v, want one containing %q", err, want)
	}
	sq.SourceLength = 6
	if _, err := Build(Spec{Exp: e, Input: Shape{11}, Sequences: sq, InitRNG: rand.New(rand.NewPCG(1, 1))}); err != nil {
		t.Fatalf("a table of 6 positions for sources of 6 and targets of 5: %v", err)
	}
}
