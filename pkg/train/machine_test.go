package train

import (
	"math/rand/v2"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// TestSessionMachineMatchesTapeMachine: the executor a Session trains with
// (ops.Machine) gives the same loss and gradients, bit for bit, as
// Gorgonia's tape machine on the same graph, for a model with convolution,
// batch norm, pooling and a residual block (where Gorgonia's own Add sums
// gradients).
func TestSessionMachineMatchesTapeMachine(t *testing.T) {
	text := `name: t
data: {source: builtin:digits, shape: [1, 8, 8]}
model:
  kind: cnn
  layers:
    - {type: conv2d, filters: 4, kernel: 3, padding: same, activation: relu}
    - {type: batchnorm}
    - type: residual
      layers:
        - {type: conv2d, filters: 4, kernel: 3, padding: same, activation: relu}
        - {type: conv2d, filters: 4, kernel: 3, padding: same}
    - {type: maxpool2d, size: 2}
    - {type: flatten}
    - {type: dense, units: 10}
`
	exp, err := config.Parse("t.yaml", []byte(text), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.Build(models.Spec{Exp: exp, Input: models.Shape{1, 8, 8}, Output: models.Shape{10}, InitRNG: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		t.Fatal(err)
	}
	loss, _ := NewLoss(exp.Train.Loss, "classification")
	s := NewSession(m, loss, []int{}, rand.New(rand.NewPCG(3, 4)))
	rng := rand.New(rand.NewPCG(5, 6))
	split := &data.Split{Name: "train", N: 8, X: make([]float32, 8*64), Y: make([]float32, 8)}
	for i := range split.X {
		split.X[i] = float32(rng.NormFloat64())
	}
	for i := range split.Y {
		split.Y[i] = float32(rng.IntN(10))
	}
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
	g, err := s.Forward(split, idx)
	if err != nil {
		t.Fatal(err)
	}
	ours := make([][]float32, len(g.Grads))
	for i, gt := range g.Grads {
		ours[i] = append([]float32(nil), gt.Float32s()...)
	}
	c, err := s.graph(len(idx), true) // the graph Forward ran
	if err != nil {
		t.Fatal(err)
	}
	tape := G.NewTapeMachine(c.graph.G)
	defer tape.Close()
	if err := tape.RunAll(); err != nil {
		t.Fatal(err)
	}
	if got := scalar(c.loss.Value()); got != g.Loss {
		t.Errorf("loss: tape machine %v, ops.Machine %v", got, g.Loss)
	}
	for i, n := range c.grads {
		ref := n.Value().(*tensor.Dense).Float32s()
		for j := range ref {
			if ref[j] != ours[i][j] {
				t.Fatalf("gradient of %s[%d]: tape machine %v, ops.Machine %v", c.params[i].Name, j, ref[j], ours[i][j])
			}
		}
	}
}
