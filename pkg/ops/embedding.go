package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Embedding looks rows of table [V, D] up by id, as Gather, with
// PyTorch's padding_idx: the row of id padding gets no gradient (it keeps
// its initial value, zeros in an embedding layer), however often the id
// occurs. A negative padding means none, which is Gather.
func Embedding(table, ids *G.Node, padding int) (*G.Node, error) {
	if padding < 0 {
		return Gather(table, ids)
	}
	if table.Dims() != 2 || padding >= table.Shape()[0] {
		return nil, fmt.Errorf("embedding: padding id %d is not a row of the table %v", padding, table.Shape())
	}
	return Apply(embedding{padding: padding}, []bool{true, false}, table, ids)
}

// embedding is Gather with a padding row.
type embedding struct{ padding int }

func (embedding) Name() string { return "embedding" }

func (embedding) OutShape(in []tensor.Shape) (tensor.Shape, error) { return gather{}.OutShape(in) }

func (k embedding) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return gather{}.Forward(out, in)
}

func (k embedding) Backward(in G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := Apply(embeddingGrad{rows: in[0].Shape()[0], padding: k.padding}, []bool{false, true}, in[1], grad)
	return G.Nodes{g, nil}, err
}

// embeddingGrad is scatterAdd without the padding row.
type embeddingGrad struct{ rows, padding int }

func (embeddingGrad) Name() string { return "embedding_grad" }

func (k embeddingGrad) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	return scatterAdd{rows: k.rows}.OutShape(in)
}

func (k embeddingGrad) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, embeddingGradBody[float32], embeddingGradBody[float64])
}

func embeddingGradBody[T compute.Float](k embeddingGrad, o []T, in []*tensor.Dense) error {
	d := lastAxis(in[1])
	if err := scatterRows(o, data[T](in[0]), data[T](in[1]), d); err != nil {
		return err
	}
	clear(o[k.padding*d : (k.padding+1)*d])
	return nil
}

func (embeddingGrad) Backward(G.Nodes, *G.Node, *G.Node, []bool) (G.Nodes, error) {
	return nil, errSecondOrder
}
