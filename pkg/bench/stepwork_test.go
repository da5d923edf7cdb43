package bench

import (
	"math/rand/v2"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
)

// A transposed convolution is a matrix product like a convolution: its
// forward pass, weight gradient and (but for the first layer) input
// gradient are counted; upsampling, which only copies, is not.
func TestStepWorkCountsTransposedConvolutions(t *testing.T) {
	text := "name: t\ndata: {source: builtin:digits}\nmodel: {kind: cnn, layers: [" +
		"{type: conv2d_transpose, filters: 2, kernel: 2, stride: 2}, {type: upsample2d}, " +
		"{type: conv2d_transpose, filters: 1, kernel: 3, padding: 1}]}\n"
	exp, err := config.Parse("t.yaml", []byte(text), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.Build(models.Spec{Exp: exp, Input: []int{1, 2, 2}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	const (
		first  = 2 * (1 * 2 * 2) * 2 * 4 // inputs × filters × taps, 2 per multiply-add
		second = 2 * (2 * 8 * 8) * 1 * 9
	)
	if got, want := StepWork(m).Products, int64(2*first+3*second); got != want {
		t.Errorf("product FLOPs per sample %d, want %d", got, want)
	}
}
