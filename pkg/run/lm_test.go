package run

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/train"
)

// trainLM trains a shipped config for one epoch (or sets) into a temporary
// directory.
func trainLM(t *testing.T, config string, sets ...string) *TrainResult {
	t.Helper()
	res, err := Train(context.Background(), TrainOptions{Config: filepath.Join("..", "..", "configs", config), Out: t.TempDir(),
		Sets: append([]string{"train.epochs=1"}, sets...), Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// sample runs Sample on a run and returns what it printed.
func sample(t *testing.T, run string, opt SampleOptions) (string, error) {
	t.Helper()
	var out bytes.Buffer
	opt.Run, opt.Stdout = run, &out
	if opt.Length == 0 {
		opt.Length = 80
	}
	err := Sample(context.Background(), opt)
	return out.String(), err
}

// TestCharLMConfigs (acceptance): the LSTM, GRU and decoder-only
// Transformer character models of configs/ train with text.targets: all
// (one epoch here), are scored on every test position, and generate text
// that continues the prompt: the same for the same seed, different for
// another seed, and at temperature 0 the same whatever the seed.
func TestCharLMConfigs(t *testing.T) {
	for _, cfg := range []string{"opticks-char-lstm.yaml", "opticks-char-gru.yaml", "opticks-char-transformer.yaml"} {
		t.Run(cfg, func(t *testing.T) {
			res := trainLM(t, cfg)
			r := res.Report
			if r == nil || r.Classification == nil || r.Classification.N != 62*64 {
				t.Fatalf("report %+v: want every position of the 62 test windows of 64 scored", r)
			}
			if math.Abs(r.Perplexity-math.Exp(r.Loss)) > 1e-9 || !(r.Loss > 0 && r.Loss < math.Log(51)+0.5) {
				t.Errorf("test loss %v perplexity %v", r.Loss, r.Perplexity)
			}
			t.Logf("%s, 1 epoch: test cross-entropy %.4f, accuracy %.4f", cfg, r.Loss, r.Classification.Accuracy)
			a, err := sample(t, res.Dir, SampleOptions{Prompt: "The light ", Seed: 7, SeedSet: true, Temperature: 1})
			if err != nil {
				t.Fatal(err)
			}
			b, _ := sample(t, res.Dir, SampleOptions{Prompt: "The light ", Seed: 7, SeedSet: true, Temperature: 1})
			c, _ := sample(t, res.Dir, SampleOptions{Prompt: "The light ", Seed: 8, SeedSet: true, Temperature: 1})
			if a != b || a == c || !strings.HasPrefix(a, "The light ") || len([]rune(strings.ReplaceAll(a, data.Unknown, "?"))) != len("The light ")+80+1 {
				t.Errorf("seed 7 %q, again %q, seed 8 %q", a, b, c)
			}
			g1, _ := sample(t, res.Dir, SampleOptions{Prompt: "The light ", Seed: 1, SeedSet: true})
			g2, _ := sample(t, res.Dir, SampleOptions{Prompt: "The light ", Seed: 2, SeedSet: true})
			if g1 != g2 {
				t.Errorf("greedy decoding depends on the seed: %q vs %q", g1, g2)
			}
		})
	}
}

// TestSequenceLossIsTheMeanOverPositions: the test loss and accuracy of a
// targets: all run are the mean cross-entropy and the share of argmax
// hits over every position of every test window, computed here from the
// model's logits.
func TestSequenceLossIsTheMeanOverPositions(t *testing.T) {
	res := trainLM(t, "opticks-char-gru.yaml")
	exp, ck, meta, _, err := openRun(res.Dir, "best")
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := data.Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	s, err := build(exp, meta, false, ds.Test.N)
	if err != nil {
		t.Fatal(err)
	}
	if err := train.RestoreParams(s.model.Params(), ck.Params); err != nil {
		t.Fatal(err)
	}
	v, tl := len(meta.Classes), meta.Text.SequenceLength
	out := make([]float64, ds.Test.N*tl*v)
	idx := make([]int, ds.Test.N)
	for i := range idx {
		idx[i] = i
	}
	if _, err := s.session.Predict(ds.Test, idx, out); err != nil {
		t.Fatal(err)
	}
	var sum float64
	hits := 0
	for p, y := range ds.Test.Y {
		row := out[p*v : (p+1)*v]
		best, m := 0, math.Inf(-1)
		for k, z := range row {
			m = max(m, z)
			if z > row[best] {
				best = k
			}
		}
		var e float64
		for _, z := range row {
			e += math.Exp(z - m)
		}
		sum += m + math.Log(e) - row[int(y)]
		if best == int(y) {
			hits++
		}
	}
	n := float64(len(ds.Test.Y))
	if got, want := res.Report.Loss, sum/n; math.Abs(got-want) > 1e-5*want {
		t.Errorf("test loss %v, mean over positions %v", got, want)
	}
	if got, want := res.Report.Classification.Accuracy, float64(hits)/n; got != want {
		t.Errorf("accuracy %v, share of positions %v", got, want)
	}
}

// TestSampleTargetsLast: a targets: last model (the one-hot MLP of
// configs/opticks-char-lm.yaml) generates from a prompt shorter than its
// window; a prompt's characters outside the vocabulary are noted and read
// as <unk>; top-k 1 is greedy.
func TestSampleTargetsLast(t *testing.T) {
	res := trainLM(t, "opticks-char-lm.yaml")
	var notes []string
	greedy, err := sample(t, res.Dir, SampleOptions{Prompt: "Light {}", Length: 40, Logf: func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(greedy, "Light {}") || len(greedy) != len("Light {}")+40+1 {
		t.Errorf("generated %q", greedy)
	}
	if all := strings.Join(notes, "\n"); !strings.Contains(all, `"{" "}"`) {
		t.Errorf("notes %q: want the unknown characters named", notes)
	}
	top1, _ := sample(t, res.Dir, SampleOptions{Prompt: "Light {}", Length: 40, Temperature: 1.5, TopK: 1, Seed: 9, SeedSet: true})
	if top1 != greedy {
		t.Errorf("top-k 1 %q, greedy %q", top1, greedy)
	}
	empty, err := sample(t, res.Dir, SampleOptions{Length: 20, Temperature: 1})
	if err != nil || len(empty) != 21 {
		t.Errorf("no prompt: %q %v", empty, err)
	}
}

// TestSampleRefusals: a non-causal model trained with targets: all, a run
// that is not a language model and bad flags are refused with
// config.ErrInvalid (exit 2) saying why.
func TestSampleRefusals(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("..", "..", "configs", "opticks-char-lstm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	testdata, err := filepath.Abs(filepath.Join("..", "..", "testdata"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "bidir.yaml")
	os.WriteFile(cfg, []byte(strings.NewReplacer("return_sequences: true", "return_sequences: true, bidirectional: true",
		"../testdata", testdata).Replace(string(src))), 0o644)
	bidir, err := Train(context.Background(), TrainOptions{Config: cfg, Out: t.TempDir(), Sets: []string{"train.epochs=1"}, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	_, err = sample(t, bidir.Dir, SampleOptions{})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), `model is not causal: layer 1 (lstm "lstm1") reads later positions: it is bidirectional`) {
		t.Errorf("bidirectional: %v", err)
	}
	for _, tc := range []struct {
		opt  SampleOptions
		want string
	}{
		{SampleOptions{Length: -1}, "--length must be >= 0"},
		{SampleOptions{Temperature: -1}, "--temperature must be a number >= 0"},
		{SampleOptions{Temperature: math.NaN()}, "--temperature must be a number >= 0"},
		{SampleOptions{TopK: -2}, "--top-k must be >= 0"},
	} {
		if _, err := sample(t, bidir.Dir, tc.opt); !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v", tc.opt, err)
		}
	}
	iris, err := Train(context.Background(), TrainOptions{Config: filepath.Join("..", "..", "configs", "iris-mlp.yaml"), Out: t.TempDir(),
		Sets: []string{"train.epochs=1"}, Stdout: io.Discard, Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sample(t, iris.Dir, SampleOptions{}); !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "is a classification run") {
		t.Errorf("iris: %v", err)
	}
}

// TestTokenInputsChecked: data an embedding cannot read stops training
// before it starts, with a config error naming the key, the file and
// line, the value and the shapes: ids beyond the layer's vocab, values
// that are not integers, one-hot vectors instead of ids.
func TestTokenInputsChecked(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "corpus.txt"), []byte(strings.Repeat("the light of the sun\n", 40)), 0o644)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	lm := `name: t
data: {source: text:corpus.txt, task: language_model, text: {sequence_length: 8, stride: 8, encoding: %s, targets: all}}
model: {kind: sequential, layers: [{type: embedding, dim: 4%s}, {type: gru, units: 4, return_sequences: true}, {type: dense, units: auto}]}
train: {epochs: 1}
`
	for _, tc := range []struct {
		name, cfg string
		want      []string
	}{
		{"ids beyond vocab", write("a.yaml", fmt.Sprintf(lm, "index", ", vocab: 5")),
			[]string{"a.yaml:3:", "model.layers[0].vocab: the embedding reads token ids in [0, 5) (vocab 5)", "corpus.txt:1", "shape (8)", "holds 12", "is not an id in [0, 5)", "set vocab: 14"}},
		{"onehot", write("b.yaml", fmt.Sprintf(lm, "onehot", "")),
			[]string{"data.text.encoding: is onehot", "(8, 14) one-hot vectors", "set data.text.encoding: index"}},
		{"real values", write("c.yaml", "name: t\ndata: {source: builtin:iris}\nmodel: {layers: [{type: embedding, dim: 2, vocab: 10}, {type: flatten}, {type: dense, units: 3}]}\n"),
			[]string{"model.layers[0].vocab: the embedding reads token ids in [0, 10)", "builtin:iris:", "shape (4)", "is not an integer"}},
		{"no vocabulary", write("d.yaml", "name: t\ndata: {source: builtin:iris}\nmodel: {layers: [{type: embedding, dim: 2}, {type: flatten}, {type: dense, units: 3}]}\n"),
			[]string{"model.layers[0]", "vocab is not set and the data's inputs (4) are not token ids"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Train(context.Background(), TrainOptions{Config: tc.cfg, Out: filepath.Join(dir, "runs"), Stdout: io.Discard, Stderr: io.Discard})
			if !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("err = %v, want a config error", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not hold %q", err, w)
				}
			}
		})
	}
}
