package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Gather looks rows of table up by id, as an embedding layer (PyTorch's
// F.embedding): table is [V, D], ids a tensor of any shape (such as
// [B, T]) holding integer ids in [0, V) as numbers of table's dtype, and
// the result is ids' shape followed by D. An id that is not an integer in
// range is an error of the forward pass that names it and its position.
// The gradient of table scatter-adds the incoming rows into the rows they
// were read from (an id seen twice gets both); ids get none.
func Gather(table, ids *G.Node) (*G.Node, error) {
	return Apply(gather{padding: -1}, []bool{true, false}, table, ids)
}

// GatherPadded is Gather with a padding id, as F.embedding's padding_idx:
// the row of padding (in [0, V)) is read like any other, but gets no
// gradient, so it keeps its initial value (usually zeros) through
// training.
func GatherPadded(table, ids *G.Node, padding int) (*G.Node, error) {
	if v := table.Shape()[0]; padding < 0 || padding >= v {
		return nil, fmt.Errorf("gather: padding id %d is not a row of the table [0, %d)", padding, v)
	}
	return Apply(gather{padding: padding}, []bool{true, false}, table, ids)
}

// gather is the lookup; padding is the row that gets no gradient, or −1.
type gather struct{ padding int }

func (gather) Name() string { return "gather" }

func (gather) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	table, ids := in[0], in[1]
	if table.Dims() != 2 {
		return nil, fmt.Errorf("want a table [vocabulary, dim], got %v", table)
	}
	return append(ids.Clone(), table[1]), nil
}

func (gather) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(gather{}, out, in, gatherBody[float32], gatherBody[float64])
}

func gatherBody[T compute.Float](_ gather, o []T, in []*tensor.Dense) error {
	return gatherRows(o, data[T](in[0]), data[T](in[1]), in[0].Shape()[1])
}

// rowID returns id as a row index of a table of v rows, or an error
// naming it and its flat position.
func rowID[T compute.Float](id T, pos, v int) (int, error) {
	k := int(id)
	if T(k) != id || k < 0 || k >= v {
		return 0, fmt.Errorf("id %v at position %d is not an integer in [0, %d)", id, pos, v)
	}
	return k, nil
}

func gatherRows[T compute.Float](out, table, ids []T, d int) error {
	v := len(table) / max(d, 1)
	for i, id := range ids {
		k, err := rowID(id, i, v)
		if err != nil {
			return err
		}
		copy(out[i*d:(i+1)*d], table[k*d:(k+1)*d])
	}
	return nil
}

func (k gather) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(scatterAdd{rows: in[0].Shape()[0], padding: k.padding}, []bool{false, true}, in[1], grad)
	return G.Nodes{g, nil}, err
}

// scatterAdd is Gather's gradient: from (ids, dy) with dy of shape
// ids' shape + [D], the [rows, D] sum of the rows of dy by id, leaving
// out the rows of the padding id (−1: none).
type scatterAdd struct{ rows, padding int }

func (scatterAdd) Name() string { return "scatter_add" }

func (k scatterAdd) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	ids, dy := in[0], in[1]
	if dy.Dims() != ids.Dims()+1 || !sameShape(dy[:ids.Dims()], ids) {
		return nil, fmt.Errorf("gradient %v is not ids' shape %v followed by a row size", dy, ids)
	}
	return tensor.Shape{k.rows, dy[dy.Dims()-1]}, nil
}

func (k scatterAdd) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, scatterAddBody[float32], scatterAddBody[float64])
}

func scatterAddBody[T compute.Float](k scatterAdd, o []T, in []*tensor.Dense) error {
	return scatterRows(o, data[T](in[0]), data[T](in[1]), lastAxis(in[1]), k.padding)
}

func scatterRows[T compute.Float](out, ids, dy []T, d, padding int) error {
	clear(out)
	v := len(out) / max(d, 1)
	for i, id := range ids {
		k, err := rowID(id, i, v)
		if err != nil {
			return err
		}
		if k == padding {
			continue
		}
		compute.Add(out[k*d:(k+1)*d], dy[i*d:(i+1)*d])
	}
	return nil
}

func (scatterAdd) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
