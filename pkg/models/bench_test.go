package models_test

import (
	"math/rand/v2"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
)

// BenchmarkLeNetStep times one training step of the lenet workload
// (WORKLOADS.md): batch 64 of random 1×28×28 inputs in float32, forward,
// loss, backward and an Adam update.
func BenchmarkLeNetStep(b *testing.B) {
	text := "name: b\ndata: {source: builtin:digits}\nmodel: " + lenet + "\n"
	exp, err := config.Parse("b.yaml", []byte(text), nil, nil, models.Validate)
	if err != nil {
		b.Fatal(err)
	}
	m, err := models.Build(models.Spec{Exp: exp, Input: []int{1, 28, 28}, Output: []int{10}, InitRNG: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	split := &data.Split{N: 64}
	for i := 0; i < 64; i++ {
		for j := 0; j < 784; j++ {
			split.X = append(split.X, float32(rng.Float64()))
		}
		split.Y = append(split.Y, float32(i%10))
	}
	loss, _ := train.NewLoss(config.Block{Kind: "cross_entropy"}, "classification")
	opt, _ := train.NewOptimizer(config.Block{Kind: "adam"})
	s := train.NewSession(m, loss, []int{}, rand.New(rand.NewPCG(5, 6)))
	idx := make([]int, 64)
	for i := range idx {
		idx[i] = i
	}
	step := func() {
		g, err := s.Forward(split, idx)
		if err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(opt.LR(), g.Params, g.Grads); err != nil {
			b.Fatal(err)
		}
	}
	step()
	b.ResetTimer()
	for range b.N {
		step()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "steps/s")
}
