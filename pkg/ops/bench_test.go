package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

func randF32(rng *rand.Rand, shape ...int) *tensor.Dense {
	v := make([]float32, tensor.Shape(shape).TotalSize())
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return tensor.New(tensor.WithShape(shape...), tensor.WithBacking(v))
}

// BenchmarkLeNetConv times LeNet's two convolutions on a batch of 64 in
// float32 (WORKLOADS.md): forward alone, and forward plus the gradients of
// input, kernels and bias.
func BenchmarkLeNetConv(b *testing.B) {
	layers := []struct {
		name string
		x, w []int
	}{
		{"conv1_1x28x28_6x5x5", []int{64, 1, 28, 28}, []int{6, 1, 5, 5}},
		{"conv2_6x12x12_16x5x5", []int{64, 6, 12, 12}, []int{16, 6, 5, 5}},
	}
	for _, l := range layers {
		for _, backward := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/backward=%v", l.name, backward), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				g := G.NewGraph()
				x := G.NewTensor(g, tensor.Float32, 4, G.WithShape(l.x...), G.WithName("x"), G.WithValue(randF32(rng, l.x...)))
				w := G.NewTensor(g, tensor.Float32, 4, G.WithShape(l.w...), G.WithName("w"), G.WithValue(randF32(rng, l.w...)))
				bias := G.NewTensor(g, tensor.Float32, 1, G.WithShape(l.w[0]), G.WithName("b"), G.WithValue(randF32(rng, l.w[0])))
				y, err := Conv(x, w, bias, win2D(5, 1, 1, 0), true)
				if err != nil {
					b.Fatal(err)
				}
				if backward {
					r := G.NewTensor(g, tensor.Float32, 4, G.WithShape(y.Shape()...), G.WithName("r"), G.WithValue(randF32(rng, y.Shape()...)))
					cost, err := WeightedSum(y, r)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := G.Grad(cost, x, w, bias); err != nil {
						b.Fatal(err)
					}
				}
				m := G.NewTapeMachine(g)
				defer m.Close()
				b.ResetTimer()
				for range b.N {
					if err := m.RunAll(); err != nil {
						b.Fatal(err)
					}
					m.Reset()
				}
			})
		}
	}
}
