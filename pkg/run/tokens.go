package run

import (
	"fmt"
	"math"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
)

// checkTokenInputs refuses, before training, data that the model's
// embedding cannot read: one-hot vectors instead of token ids, or a value
// that is not an integer id of its table [0, vocab) (numeric features, or
// ids of a larger vocabulary than the layer's vocab). The problem names
// the embedding's key, the first such sample's file and line, the value
// and the shapes. A model without an embedding on its input passes.
func checkTokenInputs(exp *config.Experiment, m models.Model, ds *data.Dataset) error {
	tok, ok := models.InputTokens(m)
	if !ok {
		return nil
	}
	key := ""
	if tok.Block.Has("vocab") {
		key = "vocab"
	}
	w := ds.InputSize()
	for _, s := range ds.Splits() {
		for j, v := range s.X {
			if id := float64(v); id == math.Trunc(id) && id >= 0 && id < float64(tok.Vocab) {
				continue
			}
			what := "is not an integer"
			if v == float32(math.Trunc(float64(v))) {
				what = fmt.Sprintf("is not an id in [0, %d)", tok.Vocab)
			}
			return config.Problems{tok.Block.Problem(key, "the embedding reads token ids in [0, %d) (vocab %d), but %s (the %s split's sample %d of shape %s, position %d) holds %v, which %s; %s",
				tok.Vocab, tok.Vocab, ds.Where(s, j/w), s.Name, j/w+1, models.Describe(ds.Input), j%w, v, what, tokenFix(ds, tok))}
		}
	}
	return nil
}

// checkOneHotTokens refuses, before the model is built, one-hot text
// (data.text.encoding: onehot) fed to a model whose first layer is an
// embedding, which reads token ids.
func checkOneHotTokens(exp *config.Experiment, meta data.Meta) error {
	if meta.Text == nil || meta.Text.Encoding != "onehot" {
		return nil
	}
	for _, stack := range [][]config.Block{exp.Model.Layers, exp.Model.Encoder} {
		if len(stack) > 0 && stack[0].Kind == "embedding" {
			return config.Problems{exp.Problem("data.text.encoding", "is onehot: each sample is %s one-hot vectors, but the model's first layer (%s, an embedding) reads token ids; set data.text.encoding: index (samples (%d) of ids)",
				models.Describe(meta.Input), stack[0].Path, meta.Text.SequenceLength)}
		}
	}
	return nil
}

// tokenFix says what to change when the data does not hold the
// embedding's ids.
func tokenFix(ds *data.Dataset, tok models.TokenInput) string {
	if v := ds.Vocab(); v > 0 {
		return fmt.Sprintf("the data's vocabulary has %d ids: set vocab: %d, or leave vocab out to take it from the data", v, v)
	}
	if tok.Block.Has("vocab") {
		return "an embedding needs token ids (text with data.text.encoding: index, or integer features below vocab); remove the embedding for real-valued features"
	}
	return "an embedding needs token ids"
}
