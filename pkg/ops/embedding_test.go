package ops

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestEmbeddingMatchesTorch compares Embedding with padding id 2 with
// PyTorch's F.embedding(padding_idx=2) (torch_ref_rnn.py's "embedding"):
// the output, and the table's gradient, whose row 2 stays zero although
// id 2 is looked up twice.
func TestEmbeddingMatchesTorch(t *testing.T) {
	b, err := os.ReadFile("testdata/torch_ref_rnn.json")
	must(t, err)
	var f struct{ Embedding torchCase }
	must(t, json.Unmarshal(b, &f))
	c := f.Embedding
	in := []*tensor.Dense{seqTensor([]int{7, 4}, 3.3, 0.3, 1), idTensor([]int{2, 5}, 3, 1, 7)}
	for _, dt := range []tensor.Dtype{tensor.Float64, tensor.Float32} {
		t.Run(dt.String(), func(t *testing.T) {
			out, grads := runWithGradsOf(t, dt, in, []bool{true, false}, func(n []*G.Node) (*G.Node, error) {
				return Embedding(n[0], n[1], 2)
			})
			if d := maxDiff(out, c.Out); d > 1e-6 {
				t.Errorf("output differs from PyTorch by %.3g", d)
			}
			if d := maxDiff(grads[0], c.Grads[0]); d > 1e-6 {
				t.Errorf("table gradient differs from PyTorch by %.3g", d)
			}
			for j := 8; j < 12; j++ {
				if grads[0][j] != 0 {
					t.Fatalf("padding row got gradient %v", grads[0][8:12])
				}
			}
		})
	}
}

// TestEmbeddingGradients: without a padding id Embedding's table
// gradient passes the finite-difference check; with one it is Gather's
// (itself checked by finite differences) with the padding row zeroed.
func TestEmbeddingGradients(t *testing.T) {
	in := []*tensor.Dense{seqTensor([]int{5, 3}, 0.4, 0.7, 1), idTensor([]int{3, 4}, 2, 0, 5)}
	res, err := GradCheck([]string{"table", "ids"}, in, []bool{true, false}, func(_ *G.ExprGraph, n []*G.Node) (*G.Node, error) {
		return Embedding(n[0], n[1], -1)
	}, GradCheckOptions{Seed: 9})
	must(t, err)
	if res[0].RelErr > 1e-7 {
		t.Errorf("relative error %.3g", res[0].RelErr)
	}
	wrt := []bool{true, false}
	_, want := runWithGradsOf(t, tensor.Float64, in, wrt, func(n []*G.Node) (*G.Node, error) { return Gather(n[0], n[1]) })
	for _, pad := range []int{0, 4} {
		_, got := runWithGradsOf(t, tensor.Float64, in, wrt, func(n []*G.Node) (*G.Node, error) { return Embedding(n[0], n[1], pad) })
		for j, g := range got[0] {
			w := want[0][j]
			if j/3 == pad {
				w = 0
			}
			if g != w {
				t.Fatalf("padding %d: table gradient %v, want Gather's %v with row %d zeroed", pad, got[0], want[0], pad)
			}
		}
	}
}

// TestEmbeddingBadPadding: a padding id outside the table is an error
// naming it and the table's shape.
func TestEmbeddingBadPadding(t *testing.T) {
	g := G.NewGraph()
	table := G.NewTensor(g, tensor.Float64, 2, G.WithShape(5, 3), G.WithName("table"))
	ids := G.NewTensor(g, tensor.Float64, 1, G.WithShape(4), G.WithName("ids"))
	_, err := Embedding(table, ids, 5)
	if err == nil || !strings.Contains(err.Error(), "padding id 5 is not a row of the table (5, 3)") {
		t.Fatalf("error %v", err)
	}
}
