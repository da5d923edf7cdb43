package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// benchOp times one N-D op in float32 on a Machine, forward alone and
// forward plus the gradients of every input with wrt set, at sizes of a
// small Transformer or LSTM language model (batch 32, 64 steps, width 128,
// 4 heads).
func benchOp(b *testing.B, inputs []*tensor.Dense, wrt []bool, build func(n []*G.Node) (*G.Node, error)) {
	for _, backward := range []bool{false, true} {
		b.Run(fmt.Sprintf("backward=%v", backward), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(61, 62))
			g := G.NewGraph()
			nodes := make([]*G.Node, len(inputs))
			var targets G.Nodes
			for i, x := range inputs {
				nodes[i] = G.NewTensor(g, tensor.Float32, x.Dims(), G.WithShape(x.Shape()...), G.WithName(fmt.Sprint("in", i)), G.WithValue(x))
				if wrt[i] {
					targets = append(targets, nodes[i])
				}
			}
			y, err := build(nodes)
			if err != nil {
				b.Fatal(err)
			}
			if backward {
				r := G.NewTensor(g, tensor.Float32, y.Dims(), G.WithShape(y.Shape()...), G.WithName("r"), G.WithValue(randF32(rng, y.Shape()...)))
				cost, err := WeightedSum(y, r)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := G.Grad(cost, targets...); err != nil {
					b.Fatal(err)
				}
			}
			m, err := NewMachine(g)
			if err != nil {
				b.Fatal(err)
			}
			if err := m.RunAll(); err != nil { // allocate the buffers
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if err := m.RunAll(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkBatchedMatMul times attention's two products per head: scores
// q·kᵀ over [B·H, T, D/H], then weights·v.
func BenchmarkBatchedMatMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	b.Run("scores_128x64x32", func(b *testing.B) {
		benchOp(b, []*tensor.Dense{randF32(rng, 128, 64, 32), randF32(rng, 128, 64, 32)}, two, func(n []*G.Node) (*G.Node, error) {
			return BatchedMatMul(n[0], n[1], false, true)
		})
	})
	b.Run("context_128x64x64", func(b *testing.B) {
		benchOp(b, []*tensor.Dense{randF32(rng, 128, 64, 64), randF32(rng, 128, 64, 32)}, two, func(n []*G.Node) (*G.Node, error) {
			return BatchedMatMul(n[0], n[1], false, false)
		})
	})
}

// BenchmarkDenseLastAxis times a [32, 64, 128] sequence through a
// 128→128 dense layer (one product over 2048 rows).
func BenchmarkDenseLastAxis(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 4))
	benchOp(b, []*tensor.Dense{randF32(rng, 32, 64, 128), randF32(rng, 128, 128), randF32(rng, 128)}, three, func(n []*G.Node) (*G.Node, error) {
		return DenseLastAxis(n[0], n[1], n[2], "relu", 0, true)
	})
}

// BenchmarkSoftmax times attention weights [32, 4, 64, 64] over the keys.
func BenchmarkSoftmax(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	benchOp(b, []*tensor.Dense{randF32(rng, 32, 4, 64, 64)}, []bool{true}, func(n []*G.Node) (*G.Node, error) { return Softmax(n[0]) })
}

// BenchmarkGather times an embedding lookup of [32, 64] ids in a
// [10000, 128] table (and the scatter-add of its gradient).
func BenchmarkGather(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	ids := make([]float32, 32*64)
	for i := range ids {
		ids[i] = float32(rng.IntN(10000))
	}
	benchOp(b, []*tensor.Dense{randF32(rng, 10000, 128), tensor.New(tensor.WithShape(32, 64), tensor.WithBacking(ids))}, []bool{true, false},
		func(n []*G.Node) (*G.Node, error) { return Gather(n[0], n[1]) })
}
