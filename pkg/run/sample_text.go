package run

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
)

// textSampleStream is the PCG stream of text generation's draws, apart
// from the training streams of data.RNG.
const textSampleStream uint64 = 0x5eed0100

// sampleText generates text from a language model run and prints the
// prompt followed by it. Each step feeds the model the last
// sequence_length tokens (the sliding window) and draws the next token
// from its prediction for the last of them: argmax at temperature 0,
// otherwise softmax(logits / temperature), restricted to the top_k most
// likely tokens when top_k > 0, drawn from a stream seeded by --seed (the
// run's seed by default). A model trained with text.targets: all must be
// causal (its output at a position reads nothing after it), or it is
// refused: its predictions would have seen the token they predict.
func sampleText(ctx context.Context, s sampleRun, opt SampleOptions) error {
	meta := s.meta
	if meta.Text == nil {
		return fmt.Errorf("%w: sample: run %s is a language model without a text description; it cannot be prompted", config.ErrInvalid, opt.Run)
	}
	switch {
	case opt.Length < 0:
		return fmt.Errorf("%w: sample: --length must be >= 0, got %d", config.ErrInvalid, opt.Length)
	case !(opt.Temperature >= 0) || math.IsInf(opt.Temperature, 0):
		return fmt.Errorf("%w: sample: --temperature must be a number >= 0 (0: the most likely token), got %v", config.ErrInvalid, opt.Temperature)
	case opt.TopK < 0:
		return fmt.Errorf("%w: sample: --top-k must be >= 0 (0: all tokens), got %d", config.ErrInvalid, opt.TopK)
	}
	st, err := build(s.exp, meta, false, 1)
	if err != nil {
		return err
	}
	if err := train.RestoreParams(st.model.Params(), s.ck.Params); err != nil {
		return fmt.Errorf("%s: %w", s.path, err)
	}
	all := meta.Text.AllPositions()
	if all {
		if err := models.Causal(st.model); err != nil {
			return fmt.Errorf("%w: sample: run %s was trained with data.text.targets: all, so every position learned to predict the token after it, but its model is not causal: %v; "+
				"its outputs saw the tokens they predict, so text generated from them would not be honest. Train a causal model (rnn, lstm or gru without bidirectional; transformer_encoder or multihead_attention with causal: true) or use text.targets: last",
				config.ErrInvalid, opt.Run, err)
		}
	}
	g := newTextGenerator(st, meta)
	ids, unknown := g.encode(opt.Prompt)
	if len(unknown) > 0 && opt.Logf != nil {
		opt.Logf("prompt: %d token(s) not in the run's vocabulary of %d read as %s: %s", len(unknown), len(g.tokens), data.Unknown, quoteAll(unknown))
	}
	seed := s.exp.Seed
	if opt.SeedSet {
		seed = uint64(opt.Seed)
	}
	rng := rand.New(rand.NewPCG(seed, textSampleStream))
	var out strings.Builder
	out.WriteString(opt.Prompt)
	for i := 0; i < opt.Length; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		logits, err := g.next(ids, all)
		if err != nil {
			return err
		}
		id := pickToken(logits, opt.Temperature, opt.TopK, rng)
		if meta.Text.Tokens == "word" && out.Len() > 0 {
			out.WriteByte(' ')
		}
		out.WriteString(g.tokens[id])
		ids = append(ids, id)
	}
	out.WriteByte('\n')
	_, err = fmt.Fprint(opt.Stdout, out.String())
	return err
}

// textGenerator runs a language model on one window of tokens at a time.
type textGenerator struct {
	s      *setup
	meta   data.Meta
	tokens []string       // by id: the token each vocabulary entry stands for
	index  map[string]int // token → id
	pad    int            // the id that fills a window shorter than the context
	split  *data.Split    // one sample, refilled each step
	out    []float64
}

func newTextGenerator(s *setup, meta data.Meta) *textGenerator {
	g := &textGenerator{s: s, meta: meta, index: map[string]int{}}
	for i, name := range meta.Classes {
		t := data.TokenText(name)
		g.tokens = append(g.tokens, t)
		if i > 0 { // never map a prompt's token to <unk> by name
			g.index[t] = i
		}
	}
	g.pad = 0
	for _, t := range []string{" ", "\n"} {
		if id, ok := g.index[t]; ok {
			g.pad = id
			break
		}
	}
	g.split = &data.Split{Name: "sample", N: 1, X: make([]float32, meta.InputSize()), Y: make([]float32, max(meta.TargetSize(), 1))}
	g.out = make([]float64, s.model.OutputShape().Size())
	return g
}

// encode reads a prompt as the training corpus was read; tokens not in
// the vocabulary become <unk> (id 0) and are returned, once each.
func (g *textGenerator) encode(prompt string) (ids []int, unknown []string) {
	for _, t := range g.meta.Text.Tokenize(prompt) {
		id, ok := g.index[t]
		if !ok && !slices.Contains(unknown, t) {
			unknown = append(unknown, t)
		}
		ids = append(ids, id)
	}
	return ids, unknown
}

// next returns the logits of the token after ids. The context is the last
// sequence_length tokens of ids. A model with a target per position (all)
// reads them from position 0 and is read at the last of them (the
// positions after it, filled with the pad token, cannot change that
// output in a causal model); a model that predicts the token after its
// whole window reads them at the end of the window, the pad token before
// them when there are fewer.
func (g *textGenerator) next(ids []int, all bool) ([]float64, error) {
	t := g.meta.Text.SequenceLength
	ctx := ids[max(len(ids)-t, 0):]
	if len(ctx) == 0 {
		ctx = []int{g.pad}
	}
	window := make([]int, t)
	for i := range window {
		window[i] = g.pad
	}
	at := len(ctx) - 1 // the position whose prediction is read
	if all {
		copy(window, ctx)
	} else {
		copy(window[t-len(ctx):], ctx)
	}
	x := g.split.X
	clear(x)
	v := len(g.tokens)
	for i, id := range window {
		if g.meta.Text.Encoding == "onehot" {
			x[i*v+id] = 1
		} else {
			x[i] = float32(id)
		}
	}
	if _, err := g.s.session.Predict(g.split, []int{0}, g.out); err != nil {
		return nil, err
	}
	logits := g.out
	if all {
		logits = g.out[at*v : (at+1)*v]
	}
	for _, z := range logits {
		if math.IsNaN(z) || math.IsInf(z, 0) {
			return nil, fmt.Errorf("%w: sample: the model's output is not finite (%v): the checkpoint's weights are not usable", train.ErrDiverged, z)
		}
	}
	return logits, nil
}

// pickToken chooses the next token from logits: the most likely (the
// lowest id among equals) at temperature 0; otherwise a draw from
// softmax(logits / temperature) over the topK most likely tokens (all when
// topK is 0 or more than there are).
func pickToken(logits []float64, temperature float64, topK int, rng *rand.Rand) int {
	if temperature == 0 {
		best := 0
		for i, z := range logits {
			if z > logits[best] {
				best = i
			}
		}
		return best
	}
	order := make([]int, len(logits))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { // most likely first; ties by id
		switch {
		case logits[a] > logits[b]:
			return -1
		case logits[a] < logits[b]:
			return 1
		}
		return 0
	})
	if topK > 0 && topK < len(order) {
		order = order[:topK]
	}
	top := logits[order[0]]
	p := make([]float64, len(order))
	var sum float64
	for i, id := range order {
		p[i] = math.Exp((logits[id] - top) / temperature)
		sum += p[i]
	}
	u := rng.Float64() * sum
	for i, id := range order {
		if u < p[i] {
			return id
		}
		u -= p[i]
	}
	return order[len(order)-1]
}

// quoteAll writes tokens Go-quoted, separated by spaces.
func quoteAll(tokens []string) string {
	q := make([]string, len(tokens))
	for i, t := range tokens {
		q[i] = fmt.Sprintf("%q", t)
	}
	return strings.Join(q, " ")
}
