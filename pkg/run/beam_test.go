package run

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/eval"
	"github.com/dltrain/dltrain/pkg/train"
)

// logProbs is the model's summed log-probability of each output (EOS
// appended) given its source, teacher-forced: one pass per chunk of
// rows, as the decoder scores its hypotheses.
func logProbs(d *Decoder, sources [][]float32, outs [][]int) ([]float64, error) {
	S, T, V := d.Source, d.Target, d.Vocab
	lp := make([]float64, len(sources))
	logp := make([]float64, V)
	for lo := 0; lo < len(sources); lo += d.Batch {
		hi := min(lo+d.Batch, len(sources))
		rows := hi - lo
		split := &data.Split{Name: "score", N: rows, X: make([]float32, rows*(S+T)), Y: make([]float32, rows*T)}
		idx := make([]int, rows)
		for r := range rows {
			idx[r] = r
			row := split.X[r*(S+T) : (r+1)*(S+T)]
			copy(row, sources[lo+r])
			row[S] = data.BOSID
			for j, tok := range outs[lo+r] {
				if j+1 < T {
					row[S+1+j] = float32(tok)
				}
			}
		}
		logits := make([]float64, rows*T*V)
		if _, err := d.Session.Predict(split, idx, logits); err != nil {
			return nil, err
		}
		for r := range rows {
			toks := append(slices.Clone(outs[lo+r]), data.EOSID)
			for t, tok := range toks[:min(len(toks), T)] {
				logSoftmax(logp, logits[(r*T+t)*V:(r*T+t+1)*V])
				lp[lo+r] += logp[tok]
			}
		}
	}
	return lp, nil
}

// decodingRow is one decoding's scores on a split.
type decodingRow struct {
	beam          int
	lengthPenalty float64
	exact         float64
	bleu          float64
	tokenAccuracy float64 // decoded tokens equal to the reference's at their position, over the references' tokens and EOS
	logp          []float64
	decoded       [][]int
}

// decodeTestSplit restores a run's best checkpoint and decodes its test
// split greedily and by beam search of widths 2 and 4, each with the
// run's length penalty and with none.
func decodeTestSplit(t *testing.T, runDir string) []decodingRow {
	t.Helper()
	exp, err := loadSaved(filepath.Join(runDir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ck, err := train.LoadCheckpoint(filepath.Join(runDir, "checkpoints", "best.ckpt"))
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := prepare(exp, data.OpenReadOnly, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := train.RestoreParams(s.model.Params(), ck.Params); err != nil {
		t.Fatal(err)
	}
	split := s.ds.Test
	S, T := s.ds.Seq2Seq.SourceLength, s.ds.Seq2Seq.TargetLength
	sources := make([][]float32, split.N)
	refs := make([][]int, split.N)
	for i := range sources {
		sources[i] = split.X[i*(S+T) : i*(S+T)+S]
		refs[i] = referenceIDs(split.Y[i*T : (i+1)*T])
	}
	var rows []decodingRow
	for _, k := range []int{1, 2, 4} {
		for _, alpha := range []float64{exp.Eval.LengthPenalty, 0} {
			if k == 1 && alpha != exp.Eval.LengthPenalty {
				continue // greedy ranks nothing
			}
			d, err := newDecoder(s, k)
			if err != nil {
				t.Fatal(err)
			}
			d.LengthPenalty = alpha
			got, err := d.Decode(sources)
			if err != nil {
				t.Fatal(err)
			}
			lp, err := logProbs(d, sources, got)
			if err != nil {
				t.Fatal(err)
			}
			row := decodingRow{beam: k, lengthPenalty: alpha, logp: lp, decoded: got}
			var bleu eval.BLEU
			row.exact, bleu = eval.ScoreDecoding(got, refs)
			row.bleu = bleu.Score
			row.tokenAccuracy = positionAccuracy(got, refs)
			rows = append(rows, row)
		}
	}
	return rows
}

// positionAccuracy is the share of reference tokens (EOS included) that
// the decoding has at the same position.
func positionAccuracy(decoded, refs [][]int) float64 {
	var hit, n int
	for i, r := range refs {
		d := append(slices.Clone(decoded[i]), data.EOSID)
		r = append(slices.Clone(r), data.EOSID)
		for j, tok := range r {
			if j < len(d) && d[j] == tok {
				hit++
			}
		}
		n += len(r)
	}
	return float64(hit) / float64(n)
}

// TestSeq2SeqBeamAtLeastGreedyAsShipped trains the shipped example
// (configs/seq2seq-dates.yaml) for its full 24 epochs, as docs/seq2seq.md
// measures it, and checks checkBeamAtLeastGreedy with BLEU: beam search
// of widths 2 and 4 scores at least greedy decoding's BLEU-4 and exact
// match on the test split. It takes about 100 s on 2 idle cores, so it
// runs only with TEST_SEQ2SEQ_FULL=1, or with TEST_SEQ2SEQ_RUN
// naming a finished run of that config to decode instead of training.
// (TestSeq2SeqDatesTrains checks the per-sentence likelihood at 3
// epochs in every full test run.)
func TestSeq2SeqBeamAtLeastGreedyAsShipped(t *testing.T) {
	runDir := os.Getenv("TEST_SEQ2SEQ_RUN")
	if runDir == "" && os.Getenv("TEST_SEQ2SEQ_FULL") != "1" {
		t.Skip("trains the shipped seq2seq example for 24 epochs; set TEST_SEQ2SEQ_FULL=1 or TEST_SEQ2SEQ_RUN=RUN_DIR")
	}
	if runDir == "" {
		cfg := filepath.Join("..", "..", "configs", "seq2seq-dates.yaml")
		res, err := Train(context.Background(), TrainOptions{Config: cfg, Out: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		runDir = res.Dir
	}
	checkBeamAtLeastGreedy(t, runDir, true)
}

// checkBeamAtLeastGreedy decodes a seq2seq run's test split greedily and
// by beam search of widths 2 and 4 (with the run's length penalty and
// with none) and asserts that without length normalisation every beam
// output is at least as likely under the model as the greedy output of
// the same source; with bleu, also that every beam decoding's BLEU-4 and
// exact match are at least greedy's.
//
// The per-sentence likelihood is not a theorem of beam search (the
// greedy prefix can be pushed out of the beam and its replacements end
// worse); it is measured to hold on the dates data, so that a beam that
// lost finished hypotheses or mis-ranked them fails here. BLEU is only
// asserted at the shipped budget: after 3 epochs the more likely
// outputs were measured to be slightly less often right
// (docs/seq2seq.md).
func checkBeamAtLeastGreedy(t *testing.T, runDir string, bleu bool) {
	t.Helper()
	rows := decodeTestSplit(t, runDir)
	greedy := rows[0]
	for _, r := range rows {
		differ, gain := 0, 0.0
		for i, d := range r.decoded {
			if !slices.Equal(d, greedy.decoded[i]) {
				differ++
			}
			gain += r.logp[i] - greedy.logp[i]
		}
		t.Logf("beam %d, length penalty %g: exact %.4f BLEU-4 %.4f position accuracy %.4f; %d outputs differ from greedy's, summed log-prob %+.4f over greedy's",
			r.beam, r.lengthPenalty, r.exact, r.bleu, r.tokenAccuracy, differ, gain)
	}
	for _, r := range rows[1:] {
		t.Run(fmt.Sprintf("beam%d_alpha%g", r.beam, r.lengthPenalty), func(t *testing.T) {
			if bleu && (r.bleu < greedy.bleu || r.exact < greedy.exact) {
				t.Errorf("beam BLEU %.4f exact %.4f below greedy's %.4f %.4f", r.bleu, r.exact, greedy.bleu, greedy.exact)
			}
			if r.lengthPenalty != 0 {
				return
			}
			worse := 0
			for i, lp := range r.logp {
				if lp < greedy.logp[i]-1e-9 {
					worse++
					if worse <= 3 {
						t.Errorf("source %d: beam output %v log-prob %.6f below greedy %v %.6f", i, r.decoded[i], lp, greedy.decoded[i], greedy.logp[i])
					}
				}
			}
			if worse > 0 {
				t.Errorf("%d of %d beam outputs less likely than greedy's", worse, len(r.logp))
			}
		})
	}
}
