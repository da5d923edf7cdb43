package ops

import (
	"fmt"

	"github.com/dltrain/dltrain/pkg/compute"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// BatchedMatMul returns op(a)·op(b) for every matrix of a batch, as
// torch.matmul on tensors of equal leading axes: a is [..., M, K] (or
// [..., K, M] with transA), b is [..., K, N] (or [..., N, K] with transB),
// the result [..., M, N]. The leading (batch) axes of a and b must be
// equal; they are not broadcast (for a matrix shared by every row of a
// batch, see DenseLastAxis). Each batch is one compute.Gemm on the
// operands in place, no copies; small products (attention's, per head)
// are spread over compute's threads a batch each, large ones left to
// compute.Gemm's own threads. Rank 2 is a plain matrix product.
func BatchedMatMul(a, b *G.Node, transA, transB bool) (*G.Node, error) {
	return Apply(&bmm{ta: transA, tb: transB}, nil, a, b)
}

// bmm is op(a)·op(b) per batch, with the jobs that cut the batches over
// threads.
type bmm struct {
	ta, tb bool
	j32    bmmJob[float32]
	j64    bmmJob[float64]
}

func (k *bmm) Name() string { return fmt.Sprintf("batched_matmul(%v,%v)", k.ta, k.tb) }

// dims is the batch count and the product's m, k, n for a and b.
func (k *bmm) dims(a, b tensor.Shape) (batch, m, inner, n, innerB int) {
	r := a.Dims()
	m, inner = a[r-2], a[r-1]
	if k.ta {
		m, inner = inner, m
	}
	innerB, n = b[r-2], b[r-1]
	if k.tb {
		innerB, n = n, innerB
	}
	return sizeOf(a[:r-2]), m, inner, n, innerB
}

func (k *bmm) OutShape(in []tensor.Shape) (tensor.Shape, error) {
	a, b := in[0], in[1]
	if a.Dims() < 2 || a.Dims() != b.Dims() {
		return nil, fmt.Errorf("want a [..., M, K] and b [..., K, N] of equal rank ≥ 2, got %v and %v", a, b)
	}
	r := a.Dims()
	if !sameShape(a[:r-2], b[:r-2]) {
		return nil, fmt.Errorf("batch axes differ: %v and %v (they are not broadcast)", a, b)
	}
	_, m, inner, n, innerB := k.dims(a, b)
	if inner != innerB {
		return nil, fmt.Errorf("inner sizes differ: %v and %v (transposed: %v, %v)", a, b, k.ta, k.tb)
	}
	out := a.Clone()
	out[r-2], out[r-1] = m, n
	return out, nil
}

func (k *bmm) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	return typed(k, out, in, bmmBody[float32], bmmBody[float64])
}

// bmmSmall is the most multiply-adds (m·n·k) of a product that is run on
// one thread while other threads run the other batches; a larger product
// is split by compute.Gemm itself.
const bmmSmall = 1 << 18

func bmmBody[T compute.Float](k *bmm, out []T, in []*tensor.Dense) error {
	sa, sb := in[0].Shape(), in[1].Shape()
	batch, m, inner, n, _ := k.dims(sa, sb)
	r := sa.Dims()
	j := jobOf[bmmJob[T]](&k.j32, &k.j64)
	*j = bmmJob[T]{ta: k.ta, tb: k.tb, m: m, n: n, k: inner, lda: sa[r-1], ldb: sb[r-1], a: data[T](in[0]), b: data[T](in[1]), c: out}
	if m*n*inner <= bmmSmall {
		compute.Parallel(batch, max(1, bmmSmall/max(m*n*inner, 1)/4), j)
	} else {
		j.Run(0, batch)
	}
	*j = bmmJob[T]{} // keep no tensor alive
	return nil
}

// bmmJob is the products of batches lo to hi−1.
type bmmJob[T compute.Float] struct {
	ta, tb            bool
	m, n, k, lda, ldb int
	a, b, c           []T
}

func (j *bmmJob[T]) Run(lo, hi int) {
	pa, pb, pc := j.m*j.k, j.k*j.n, j.m*j.n
	for i := lo; i < hi; i++ {
		compute.Gemm(j.ta, j.tb, j.m, j.n, j.k, 1, j.a[i*pa:(i+1)*pa], j.lda, j.b[i*pb:(i+1)*pb], j.ldb, 0, j.c[i*pc:(i+1)*pc], j.n)
	}
}

// Backward: with C = A·B, A = op(a) and B = op(b), dA = dC·Bᵀ and
// dB = Aᵀ·dC, per batch, as matMul's.
func (k *bmm) Backward(in G.Nodes, _, grad *G.Node, wrt []bool) (G.Nodes, error) {
	a, b := in[0], in[1]
	gs := make(G.Nodes, 2)
	var err error
	if wrt[0] {
		if k.ta { // da = (dA)ᵀ = op(b)·dCᵀ
			gs[0], err = BatchedMatMul(b, grad, k.tb, true)
		} else {
			gs[0], err = BatchedMatMul(grad, b, false, !k.tb)
		}
		if err != nil {
			return nil, err
		}
	}
	if wrt[1] {
		if k.tb { // db = (dB)ᵀ = dCᵀ·op(a)
			gs[1], err = BatchedMatMul(grad, a, true, k.ta)
		} else {
			gs[1], err = BatchedMatMul(a, grad, !k.ta, false)
		}
		if err != nil {
			return nil, err
		}
	}
	return gs, nil
}
