package run

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/train"
)

// seq2seqYAML is a small seq2seq experiment on pairs.tsv beside it.
const seq2seqYAML = `name: s2s
seed: 3
data:
  source: tsv:pairs.tsv
  task: seq2seq
  source_column: date
  target_column: iso
  text: {tokens: char}
  split: {train: 0.8, val: 0.1, test: 0.1}
model: {kind: seq2seq, dim: 16, heads: 2, ff: 32, encoder_layers: 1, decoder_layers: 1, dropout: 0.1}
train:
  epochs: 3
  batch_size: 32
  optimizer: {kind: adam, lr: 0.003}
  checkpoint: {metric: val_accuracy}
eval: {beam: 3}
`

// seq2seqDir writes config (as exp.yaml) and pairs.tsv, the first rows
// lines of the shipped dates corpus (its header included), into a new
// directory and returns the config's path.
func seq2seqDir(t *testing.T, config string, rows int) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "seq2seq", "dates.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "pairs.tsv"), []byte(strings.Join(lines[:rows], "")), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSeq2SeqResumesExactlyAndDecodesDeterministically: two straight
// runs, and a run interrupted in the middle of epoch 2 then resumed, end
// with bit-identical checkpoints and metrics and the same test report
// (teacher-forced token accuracy, greedy and beam decodings); predict
// gives the same text twice, and beam width 1 is greedy decoding.
func TestSeq2SeqResumesExactlyAndDecodesDeterministically(t *testing.T) {
	cfg := seq2seqDir(t, seq2seqYAML, 401)
	var straight [2]*TrainResult
	for i := range straight {
		var err error
		if straight[i], err = Train(context.Background(), TrainOptions{Config: cfg, Out: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard}); err != nil {
			t.Fatal(err)
		}
	}
	// 320 training pairs in batches of 32: 10 steps per epoch.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	out := t.TempDir()
	first, err := Train(ctx, TrainOptions{Config: cfg, Out: out, Stdout: io.Discard, Stderr: io.Discard, Hooks: []train.Hook{&stopAt{step: 15, cancel: cancel}}})
	if !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	resumed, err := Train(context.Background(), TrainOptions{Config: cfg, Out: out, Resume: "auto", Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if resumed.Dir != first.Dir {
		t.Fatalf("resumed in %s, not in the interrupted run %s", resumed.Dir, first.Dir)
	}
	want, err := straight[0].Report.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, other := range []*TrainResult{straight[1], resumed} {
		for _, name := range []string{"last.ckpt", "best.ckpt"} {
			a, err := train.LoadCheckpoint(filepath.Join(straight[0].Dir, "checkpoints", name))
			if err != nil {
				t.Fatal(err)
			}
			b, err := train.LoadCheckpoint(filepath.Join(other.Dir, "checkpoints", name))
			if err != nil {
				t.Fatal(err)
			}
			if !sameParams(a.Params, b.Params) || !samePhases(a.Phases, b.Phases) || !bytes.Equal(a.RNG["dropout"], b.RNG["dropout"]) {
				t.Errorf("%s %s: weights, optimizer state or dropout stream differ from the first straight run's", other.Dir, name)
			}
		}
		if ma, mb := metricsWithoutTime(t, straight[0].Dir), metricsWithoutTime(t, other.Dir); ma != mb {
			t.Errorf("metrics differ:\n%s\n%s", ma, mb)
		}
		got, err := other.Report.JSON()
		if err != nil {
			t.Fatal(err)
		}
		if g, w := withoutRun(got), withoutRun(want); g != w {
			t.Errorf("test reports differ:\n%s\n%s", g, w)
		}
	}
	q := straight[0].Report.Seq2Seq
	if q == nil || q.Greedy == nil || q.Beam == nil || q.Beam.Beam != 3 {
		t.Fatalf("the report has no greedy and beam-3 decodings: %+v", q)
	}
	t.Logf("token accuracy %.4f; greedy exact %.4f BLEU %.4f; beam 3 exact %.4f BLEU %.4f",
		q.TokenAccuracy, q.Greedy.ExactMatch, q.Greedy.BLEU.Score, q.Beam.ExactMatch, q.Beam.BLEU.Score)

	input := filepath.Join(t.TempDir(), "dates.txt")
	if err := os.WriteFile(input, []byte("the first of may 2001\n\n31/12/1999\nSun, 5 Jan 2020\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	decode := func(beam int) []Prediction {
		preds, err := Predict(context.Background(), PredictOptions{Run: straight[0].Dir, Input: input, Beam: beam, Stdout: io.Discard})
		if err != nil {
			t.Fatal(err)
		}
		return preds
	}
	greedy := decode(0)
	if len(greedy) != 3 || greedy[1].Input != input+":3" || greedy[1].Source != "31/12/1999" {
		t.Fatalf("predictions %+v, want 3 (the empty line skipped), the second from line 3", greedy)
	}
	for name, again := range map[string][]Prediction{"greedy again": decode(0), "beam 1": decode(1)} {
		for i := range greedy {
			if again[i].Predicted != greedy[i].Predicted || again[i].Input != greedy[i].Input {
				t.Errorf("%s: %+v, first greedy decoding %+v", name, again[i], greedy[i])
			}
		}
	}
	beam := decode(3)
	if b2 := decode(3); len(b2) != len(beam) || b2[0].Predicted != beam[0].Predicted || b2[2].Predicted != beam[2].Predicted {
		t.Errorf("beam search gave %+v, then %+v", beam, b2)
	}
}

// withoutRun drops the run directory from a report's JSON.
func withoutRun(b []byte) string {
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.Contains(l, `"run":`) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// TestSeq2SeqIssueConfig: the config of the issue, as written (English
// and French columns of pairs.tsv, character tokens, a 128-wide model of
// 2 + 2 layers), trains and is evaluated.
func TestSeq2SeqIssueConfig(t *testing.T) {
	dir := t.TempDir()
	pairs := "en\tfr\nhello\tbonjour\nthank you\tmerci\ngood evening\tbonsoir\nthe cat\tle chat\nthe dog\tle chien\n" +
		"a house\tune maison\nthe sea\tla mer\ngood night\tbonne nuit\nwater\teau\nthe sun\tle soleil\n"
	cfg := "name: issue\ndata: {source: tsv:pairs.tsv, task: seq2seq, source_column: en, target_column: fr, text: {tokens: char}}\n" +
		"model: {kind: seq2seq, dim: 128, heads: 4, ff: 256, encoder_layers: 2, decoder_layers: 2, dropout: 0.1}\ntrain: {epochs: 1}\n"
	for name, text := range map[string]string{"pairs.tsv": pairs, "exp.yaml": cfg} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Train(context.Background(), TrainOptions{Config: filepath.Join(dir, "exp.yaml"), Out: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if q := res.Report.Seq2Seq; q == nil || q.Greedy == nil || q.Beam != nil || q.N == 0 {
		t.Fatalf("want a test report with greedy decoding only (eval.beam unset), got %+v", q)
	}
}

// TestSeq2SeqBadInputs: a missing column, an empty target, heads that do
// not divide dim and a learned position table shorter than the data's
// sequences are bad data or config (exit 2), each naming the key and the
// file and line.
func TestSeq2SeqBadInputs(t *testing.T) {
	for _, c := range []struct {
		name, pairs, set string
		want             []string
		sentinel         error
	}{
		{"missing column", "date\tiso\n1 may 2001\t2001-05-01\n", "data.source_column=when",
			[]string{"pairs.tsv:1", `data.source_column: no column "when"; the header has "date", "iso"`}, data.ErrBadData},
		{"empty target", "date\tiso\n1 may 2001\t2001-05-01\n2 may 2001\t\n", "",
			[]string{"pairs.tsv:3:2", `data.target_column: empty target text in column "iso"`}, data.ErrBadData},
		{"short row", "date\tiso\n1 may 2001\t2001-05-01\n2 may 2001\n", "",
			[]string{"pairs.tsv:3", `data.target_column: the row has 1 fields; the column "iso" is field 2`}, data.ErrBadData},
		{"heads", "date\tiso\n1 may 2001\t2001-05-01\n", "heads: 3",
			[]string{"exp.yaml:10:", "model.heads: 3 heads do not divide model.dim 16"}, config.ErrInvalid},
		{"learned table", "date\tiso\n1 may 2001\t2001-05-01\nthe first of may 2001\t2001-05-01\n3 may 2001\t2001-05-03\n", "model.positional=learned,model.max_length=12",
			[]string{"model.max_length: the learned position table holds 12 positions, but the longest source (", "pairs.tsv:3) has 21 tokens"}, config.ErrInvalid},
	} {
		t.Run(c.name, func(t *testing.T) {
			yaml := seq2seqYAML
			if strings.HasPrefix(c.set, "heads:") { // in the file, so that the problem names its line
				yaml, c.set = strings.Replace(yaml, "heads: 2", c.set, 1), ""
			}
			cfg := seq2seqDir(t, yaml, 1)
			if err := os.WriteFile(filepath.Join(filepath.Dir(cfg), "pairs.tsv"), []byte(c.pairs), 0o644); err != nil {
				t.Fatal(err)
			}
			var sets []string
			if c.set != "" {
				sets = strings.Split(c.set, ",")
			}
			_, err := Train(context.Background(), TrainOptions{Config: cfg, Sets: sets, Out: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard})
			if err == nil || !errors.Is(err, c.sentinel) {
				t.Fatalf("error %v, want %v", err, c.sentinel)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestSeq2SeqDatesTrains trains the shipped example
// (configs/seq2seq-dates.yaml) for 3 of its epochs and checks what the
// test evaluation reports: teacher-forced token accuracy of at least
// 0.95, greedy and beam (eval.beam: 4) decodings with BLEU-4 of at
// least 0.8, and (checkBeamAtLeastGreedy) beam outputs of widths 2 and 4
// at least as likely under the model as greedy's.
func TestSeq2SeqDatesTrains(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a Transformer on 3,200 pairs")
	}
	cfg := filepath.Join("..", "..", "configs", "seq2seq-dates.yaml")
	res, err := Train(context.Background(), TrainOptions{Config: cfg, Sets: []string{"train.epochs=3"}, Out: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	q := res.Report.Seq2Seq
	if q == nil || q.Greedy == nil || q.Beam == nil {
		t.Fatalf("no greedy and beam decodings in the report: %+v", q)
	}
	t.Logf("test: token accuracy %.4f; greedy exact %.4f BLEU %.4f; beam %d exact %.4f BLEU %.4f",
		q.TokenAccuracy, q.Greedy.ExactMatch, q.Greedy.BLEU.Score, q.Beam.Beam, q.Beam.ExactMatch, q.Beam.BLEU.Score)
	if q.TokenAccuracy < 0.95 {
		t.Errorf("token accuracy %.4f, want >= 0.95", q.TokenAccuracy)
	}
	// Beam BLEU >= greedy's is asserted at the shipped budget only
	// (TestSeq2SeqBeamAtLeastGreedyAsShipped): at 3 epochs it was
	// measured below (docs/seq2seq.md); both decodings must score.
	if q.Greedy.BLEU.Score < 0.8 || q.Beam.BLEU.Score < 0.8 {
		t.Errorf("BLEU greedy %.4f, beam %.4f, want >= 0.8", q.Greedy.BLEU.Score, q.Beam.BLEU.Score)
	}
	checkBeamAtLeastGreedy(t, res.Dir, false)
}
