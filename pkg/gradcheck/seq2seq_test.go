package gradcheck

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
	"gorgonia.org/tensor"
)

// TestSeq2SeqPassesGradCheck: the whole seq2seq model's objective (the
// cross-entropy of every target token but padding) has the gradient
// finite differences give, for every parameter: both embeddings, the
// encoder and decoder stacks (the memory's gradient flowing back through
// cross-attention into the encoder), their final norms and the generator;
// post and pre norm, learned and sinusoidal positions, dropout on (its
// masks frozen), a padded source and a padded target.
func TestSeq2SeqPassesGradCheck(t *testing.T) {
	for _, c := range []struct{ name, model string }{
		{"post_relu_learned_dropout", "norm: post, activation: relu, positional: learned, dropout: 0.2"},
		{"pre_gelu_sinusoidal", "norm: pre, activation: gelu, positional: sinusoidal, dropout: 0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			text := fmt.Sprintf("name: t\ndata: {source: tsv:pairs.tsv, task: seq2seq, source_column: a, target_column: b}\n"+
				"model: {kind: seq2seq, dtype: float64, dim: 4, heads: 2, ff: 6, encoder_layers: 2, decoder_layers: 2, %s}\n", c.model)
			exp, err := config.Parse("case.yaml", []byte(text), nil, nil, models.Validate)
			if err != nil {
				t.Fatal(err)
			}
			sq := &models.Sequences{SourceLength: 4, TargetLength: 3, SourceVocab: 7, TargetVocab: 6}
			m, err := models.Build(models.Spec{Exp: exp, Input: models.Shape{7}, Sequences: sq, InitRNG: rand.New(rand.NewPCG(1, 2))})
			if err != nil {
				t.Fatal(err)
			}
			Jitter(m.Params(), rand.New(rand.NewPCG(3, 4)), 0.1)
			loss, ps := train.NewLoss(exp.Train.Loss, "seq2seq")
			if len(ps) > 0 {
				t.Fatal(ps)
			}
			// Source ids (0 pads), then BOS (2) and the target's ids; the
			// targets end with EOS (3), then padding.
			x := tensor.New(tensor.WithShape(3, 7), tensor.WithBacking([]float64{
				4, 5, 6, 1, 2, 4, 5,
				6, 4, 0, 0, 2, 5, 0,
				5, 5, 4, 6, 2, 1, 4,
			}))
			y := tensor.New(tensor.WithShape(3, 3), tensor.WithBacking([]float64{
				4, 5, 3,
				5, 3, 0,
				1, 4, 3,
			}))
			rep, err := Model(context.Background(), m, loss, x, y, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := rep.Err(); err != nil {
				var b strings.Builder
				rep.WriteText(&b)
				t.Fatalf("%v\n%s", err, b.String())
			}
			t.Logf("worst relative error %.3g (%s), %d parameters", rep.Worst().RelErr, rep.Worst().Param, len(rep.Results))
			if len(rep.Results) != len(m.Params().Trainable()) {
				t.Errorf("%d results for %d trainable parameters", len(rep.Results), len(m.Params().Trainable()))
			}
			for _, r := range rep.Results {
				if r.Zero && !strings.HasSuffix(r.Param, "embedding/weight") {
					t.Errorf("%s: zero gradient; every parameter but the padding rows should learn", r.Param)
				}
			}
		})
	}
}
