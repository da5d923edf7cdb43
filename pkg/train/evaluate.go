package train

import (
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/eval"
	"math"
)

// Evaluate runs the evaluation graph over a whole split, in order, in
// batches of at most batch samples, and scores the outputs. It changes no
// parameter and no running statistic.
func Evaluate(s *Session, split *data.Split, batch int, meta data.Meta) (*eval.Report, error) {
	r := &eval.Report{Split: split.Name, Task: meta.Task}
	if split.N == 0 {
		return r, nil
	}
	outW := s.Model.OutputShape().Size()
	outputs := make([]float64, split.N*outW)
	order := make([]int, split.N)
	for i := range order {
		order[i] = i
	}
	var lossSum float64
	for _, idx := range data.Batches(order, batch) {
		lo := idx[0]
		loss, err := s.Predict(split, idx, outputs[lo*outW:(lo+len(idx))*outW])
		if err != nil {
			return nil, err
		}
		lossSum += loss * float64(len(idx))
	}
	r.Loss = lossSum / float64(split.N)
	if data.ClassTask(meta.Task) {
		truth := make([]int, len(split.Y))
		for i, y := range split.Y {
			truth[i] = int(y)
		}
		// One class per sample, or one per position of a sequence
		// (language models with text.targets: all): every position is
		// scored as a sample.
		classes := outW / max(meta.TargetSize(), 1)
		pred := eval.Argmax(outputs, classes)
		if outW == 1 { // one logit (binary cross-entropy): class 1 when positive
			for i, z := range outputs {
				pred[i] = 0
				if z > 0 {
					pred[i] = 1
				}
			}
		}
		c := eval.Classify(meta.Classes, truth, pred)
		r.Classification = &c
		if meta.Task == "language_model" {
			r.Perplexity = math.Exp(r.Loss)
		}
	} else if meta.Task == data.Seq2SeqTask {
		correct, total := eval.TokenAccuracy(outputs, split.Y, len(meta.Classes), data.PadID)
		r.Seq2Seq = &eval.Seq2Seq{N: split.N, Tokens: total}
		if total > 0 {
			r.Seq2Seq.TokenAccuracy = float64(correct) / float64(total)
		}
	} else if data.SelfTask(meta.Task) {
		truth := make([]float64, len(split.Y))
		for i, y := range split.Y {
			truth[i] = float64(y)
		}
		g := eval.Reconstruct(truth, outputs, outW)
		r.Reconstruction = &g
	} else {
		truth := make([]float64, len(split.Y))
		for i, y := range split.Y {
			truth[i] = float64(y)
		}
		g := eval.Regress(truth, outputs, outW, meta.Targets)
		r.Regression = &g
	}
	return r, nil
}
