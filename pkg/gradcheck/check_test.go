package gradcheck

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/ops"
	"github.com/dltrain/dltrain/pkg/train"
	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// gradCase is one model: its per-sample input shape and its layer list in
// YAML flow form. Classification cases end in 3 logits.
type gradCase struct {
	name   string
	kind   string // model kind; cnn when empty
	input  []int
	layers string
	loss   string // cross_entropy when empty
	// zero names the parameters whose gradient is truly zero: a bias
	// followed by batch norm, which cancels it.
	zero []string
	// vocab > 0: the inputs are token ids in [0, vocab) (an embedding).
	vocab int
	// padMask: the ids are padded at the end with id 0 and the model
	// defines its padding mask from them (models.Spec.PadMask).
	padMask bool
}

// cases covers every layer type and every option that changes the
// arithmetic; TestEveryLayerTypeIsChecked keeps it complete.
var cases = []gradCase{
	{name: "dense", input: []int{5}, layers: `[{type: dense, units: 4, activation: tanh}, {type: dense, units: 3}]`},
	{name: "dense_no_bias_leaky", input: []int{5}, layers: `[{type: dense, units: 4, activation: leaky_relu, alpha: 0.2, bias: false}, {type: dense, units: 3}]`},
	{name: "conv2d_valid_relu", input: []int{2, 6, 6}, layers: `[{type: conv2d, filters: 3, kernel: 3, activation: relu}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "conv2d_stride2_same", input: []int{2, 7, 6}, layers: `[{type: conv2d, filters: 3, kernel: 3, stride: 2, padding: same}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "conv2d_same_even_kernel", input: []int{1, 5, 6}, layers: `[{type: conv2d, filters: 2, kernel: 4, padding: same, activation: elu}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "conv2d_pad_hw_dilation2", input: []int{2, 7, 7}, layers: `[{type: conv2d, filters: 2, kernel: 3, padding: [1, 2], dilation: 2}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "conv2d_rect_pad4_nobias", input: []int{2, 6, 7}, layers: `[{type: conv2d, filters: 3, kernel: [2, 3], stride: [2, 1], padding: [1, 0, 0, 2], dilation: [1, 2], bias: false}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "conv2d_1x1", input: []int{4, 3, 3}, layers: `[{type: conv2d, filters: 2, kernel: 1, init: xavier_uniform}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "conv1d", input: []int{2, 11}, layers: `[{type: conv1d, filters: 3, kernel: 3, stride: 2, padding: 1, dilation: 2, activation: gelu}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "conv1d_same", input: []int{3, 8}, layers: `[{type: conv1d, filters: 2, kernel: 4, padding: same}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "maxpool2d", input: []int{2, 6, 6}, layers: `[{type: conv2d, filters: 2, kernel: 3, padding: same, activation: relu}, {type: maxpool2d, size: 2}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "maxpool2d_3_stride2_pad1", input: []int{2, 7, 6}, layers: `[{type: maxpool2d, size: 3, stride: 2, padding: 1}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "maxpool2d_same", input: []int{2, 5, 5}, layers: `[{type: maxpool2d, size: 2, padding: same}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "maxpool1d", input: []int{2, 9}, layers: `[{type: maxpool1d, size: 3, stride: 2}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "avgpool2d", input: []int{2, 6, 6}, layers: `[{type: avgpool2d, size: 2}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "avgpool2d_pad_include", input: []int{2, 7, 6}, layers: `[{type: avgpool2d, size: 3, stride: 2, padding: 1}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "avgpool2d_pad_exclude", input: []int{2, 7, 6}, layers: `[{type: avgpool2d, size: 3, stride: 2, padding: 1, include_pad: false}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "avgpool1d", input: []int{2, 9}, layers: `[{type: avgpool1d, size: 2, padding: same}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "global_avgpool", input: []int{2, 5, 5}, layers: `[{type: conv2d, filters: 4, kernel: 3}, {type: global_avgpool}, {type: dense, units: 3}]`},
	{name: "batchnorm_conv_train", input: []int{2, 5, 5}, layers: `[{type: conv2d, filters: 3, kernel: 3}, {type: batchnorm, momentum: 0.2, eps: 0.001}, {type: relu}, {type: flatten}, {type: dense, units: 3}]`,
		zero: []string{"conv2d1/b"}},
	{name: "batchnorm_dense_train", input: []int{6}, layers: `[{type: dense, units: 5}, {type: batchnorm}, {type: tanh}, {type: dense, units: 3}]`,
		zero: []string{"dense1/b"}},
	{name: "batchnorm_on_input", input: []int{2, 4, 4}, layers: `[{type: batchnorm}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "layernorm_last_axis", input: []int{6}, layers: `[{type: dense, units: 5}, {type: layernorm}, {type: dense, units: 3}]`},
	{name: "layernorm_3_axes", input: []int{2, 4, 4}, layers: `[{type: conv2d, filters: 2, kernel: 3, padding: same}, {type: layernorm, axes: 3, eps: 0.01}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "dropout_fixed_mask", input: []int{6}, layers: `[{type: dense, units: 8, activation: sigmoid}, {type: dropout, rate: 0.3}, {type: dense, units: 3}]`},
	{name: "spatial_dropout_fixed_mask", input: []int{2, 5, 5}, layers: `[{type: conv2d, filters: 4, kernel: 3}, {type: spatial_dropout, rate: 0.5}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "reshape_then_conv", input: []int{32}, layers: `[{type: reshape, shape: [2, -1, 4]}, {type: conv2d, filters: 2, kernel: 2}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "activations", input: []int{5}, layers: `[{type: dense, units: 6}, {type: relu}, {type: dense, units: 6}, {type: leaky_relu, alpha: 0.1}, {type: elu}, {type: gelu}, ` +
		`{type: dense, units: 6}, {type: tanh}, {type: sigmoid}, {type: softplus}, {type: activation, fn: tanh}, {type: dense, units: 3}, {type: softmax}]`},
	{name: "residual_identity", input: []int{2, 5, 5}, layers: `[{type: residual, activation: relu, layers: [{type: conv2d, filters: 2, kernel: 3, padding: same, activation: relu}, {type: conv2d, filters: 2, kernel: 3, padding: same}]}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "residual_conv_projection", input: []int{2, 7, 7}, layers: `[{type: residual, layers: [{type: conv2d, filters: 4, kernel: 3, stride: 2, padding: same, bias: false}, {type: batchnorm}]}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "residual_conv1d_projection", input: []int{2, 8}, layers: `[{type: residual, layers: [{type: conv1d, filters: 3, kernel: 3, stride: 2, padding: same}]}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "residual_dense_projection", input: []int{6}, layers: `[{type: residual, activation: tanh, layers: [{type: dense, units: 4, activation: tanh}]}, {type: dense, units: 3}]`},
	{name: "residual_nested", input: []int{3}, layers: `[{type: dense, units: 4}, {type: residual, layers: [{type: residual, layers: [{type: dense, units: 4, activation: tanh}]}, {type: layernorm}]}, {type: dense, units: 3}]`},
	{name: "sequential_kind_dense_per_position", kind: "sequential", input: []int{5}, vocab: 6, layers: `[{type: embedding, dim: 3, vocab: 6}, {type: gru, units: 4, return_sequences: true}, {type: dense, units: 2, activation: tanh}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "mlp_kind", kind: "mlp", input: []int{8}, layers: `[{type: dense, units: 6, activation: relu}, {type: dropout, rate: 0.2}, {type: dense, units: 5, activation: relu}, {type: dense, units: 3}]`},
	{name: "cnn_kind_lenet_like", kind: "cnn", input: []int{1, 12, 12}, layers: `[{type: conv2d, filters: 3, kernel: 5, activation: relu}, {type: maxpool2d, size: 2}, ` +
		`{type: conv2d, filters: 4, kernel: 3, activation: relu}, {type: maxpool2d, size: 2}, {type: flatten}, {type: dense, units: 6, activation: relu}, {type: dense, units: 3}]`},
	{name: "mse_regression", input: []int{2, 4, 4}, loss: "mse", layers: `[{type: conv2d, filters: 2, kernel: 3, activation: tanh}, {type: flatten}, {type: dense, units: 2}]`},
	{name: "upsample2d_conv", input: []int{2, 3, 3}, layers: `[{type: conv2d, filters: 2, kernel: 2, activation: tanh}, {type: upsample2d, scale: [2, 3]}, {type: conv2d, filters: 2, kernel: 3}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "upsample1d", input: []int{2, 4}, layers: `[{type: conv1d, filters: 2, kernel: 2}, {type: upsample1d, scale: 3}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "conv2d_transpose_all_options", input: []int{2, 3, 2}, layers: `[{type: conv2d_transpose, filters: 2, kernel: [3, 2], stride: [2, 3], padding: [1, 0], output_padding: [1, 2], dilation: [2, 1], activation: tanh}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "conv2d_transpose_decoder", input: []int{1, 6, 6}, layers: `[{type: conv2d, filters: 2, kernel: 3, stride: 2, padding: 1, activation: elu}, {type: conv2d_transpose, filters: 2, kernel: 3, stride: 2, padding: 1, output_padding: 1, bias: false, init: xavier_uniform}, {type: conv2d_transpose, filters: 1, kernel: 2, activation: sigmoid}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "rnn_tanh_sequences", input: []int{4, 3}, layers: `[{type: rnn, units: 5, return_sequences: true}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "rnn_relu_bidirectional", input: []int{4, 3}, layers: `[{type: rnn, units: 4, activation: relu, bidirectional: true, init: xavier_uniform}, {type: dense, units: 3}]`},
	{name: "lstm_last", input: []int{5, 2}, layers: `[{type: lstm, units: 4, forget_bias: 1.0}, {type: dense, units: 3}]`},
	{name: "lstm_stacked_bidirectional_dropout", input: []int{4, 3}, layers: `[{type: lstm, units: 3, layers: 2, bidirectional: true, dropout: 0.3, recurrent_init: xavier_normal, bias_init: uniform}, {type: dense, units: 3}]`},
	{name: "gru_stacked_sequences", input: []int{4, 2}, layers: `[{type: gru, units: 4, layers: 2, return_sequences: true}, {type: gru, units: 3, bidirectional: true}, {type: dense, units: 3}]`},
	// With padding_id the padding row's gradient is zero by design, which
	// finite differences do not see (pkg/ops checks that against PyTorch);
	// here the ids stay below the padding id, so every other row and the
	// padding row's zero are checked through a whole model.
	{name: "embedding_padding_id_gru", input: []int{5}, vocab: 6, layers: `[{type: embedding, dim: 3, vocab: 7, padding_id: 6}, {type: gru, units: 3}, {type: dense, units: 3}]`},
	{name: "multihead_attention_causal", input: []int{4, 6}, layers: `[{type: multihead_attention, heads: 2, causal: true}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "multihead_attention_cross_dropout", input: []int{4, 6}, layers: `[{type: positional}, {type: multihead_attention, heads: 3, input: x, dropout: 0.3, init: xavier_normal}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "transformer_encoder_post_relu_learned", input: []int{5, 4}, layers: `[{type: positional, kind: learned, max_length: 8}, {type: transformer_encoder, layers: 2, heads: 2, ff: 6, dropout: 0.1}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "transformer_encoder_pre_gelu_causal", input: []int{4, 6}, layers: `[{type: transformer_encoder, heads: 3, ff: 5, norm: pre, activation: gelu, causal: true, dropout: 0}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "transformer_decoder_post_relu_dropout", input: []int{4, 6}, layers: `[{type: positional}, {type: transformer_decoder, layers: 2, heads: 2, ff: 5, dropout: 0.2, memory: x}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "transformer_decoder_pre_gelu_not_causal", input: []int{5, 4}, layers: `[{type: linear, units: 4}, {type: transformer_decoder, heads: 2, ff: 6, norm: pre, activation: gelu, causal: false, dropout: 0, memory: x, init: xavier_normal}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "sequence_pool_mean", input: []int{4, 6}, layers: `[{type: transformer_encoder, heads: 2, ff: 4, dropout: 0}, {type: sequence_pool}, {type: dense, units: 3}]`},
	{name: "sequence_pool_first", input: []int{4, 6}, layers: `[{type: positional}, {type: multihead_attention, heads: 1}, {type: sequence_pool, mode: first}, {type: dense, units: 3}]`},
	{name: "linear_sequence_and_flat", input: []int{4, 5}, layers: `[{type: linear, units: 6, activation: tanh}, {type: flatten}, {type: linear, units: 3, bias: false}]`},
	{name: "embedding_positional_encoder", input: []int{5}, vocab: 7, layers: `[{type: embedding, dim: 4, vocab: 7}, {type: positional}, {type: transformer_encoder, heads: 2, ff: 8, causal: true}, {type: flatten}, {type: dense, units: 3}]`},
	{name: "embedding_lstm", input: []int{5}, vocab: 6, layers: `[{type: embedding, dim: 3, vocab: 6}, {type: lstm, units: 4, return_sequences: true}, {type: flatten}, {type: dense, units: 3}]`},
	// Padded ids: the layers read the padding mask the model defines.
	{name: "masked_bilstm_last", input: []int{5}, vocab: 6, padMask: true, layers: `[{type: embedding, dim: 3, vocab: 6}, {type: lstm, units: 3, layers: 2, bidirectional: true}, {type: dense, units: 3}]`},
	{name: "masked_gru_sequences_max", input: []int{5}, vocab: 6, padMask: true, layers: `[{type: embedding, dim: 3, vocab: 6}, {type: gru, units: 3, bidirectional: true, return_sequences: true}, {type: sequence_pool, mode: max}, {type: dense, units: 3}]`},
	{name: "masked_rnn_mean", input: []int{5}, vocab: 6, padMask: true, layers: `[{type: embedding, dim: 3, vocab: 6}, {type: rnn, units: 3, return_sequences: true}, {type: sequence_pool, mode: mean}, {type: dense, units: 3}]`},
	{name: "masked_encoder_mean", input: []int{5}, vocab: 6, padMask: true, layers: `[{type: embedding, dim: 4, vocab: 6}, {type: transformer_encoder, layers: 1, heads: 2, ff: 6, dropout: 0}, {type: sequence_pool, mode: mean}, {type: dense, units: 3}]`},
	{name: "masked_attention_first", input: []int{5}, vocab: 6, padMask: true, layers: `[{type: embedding, dim: 4, vocab: 6}, {type: multihead_attention, heads: 2}, {type: sequence_pool, mode: first}, {type: dense, units: 3}]`},
	{name: "conv1d_transpose", input: []int{2, 4}, layers: `[{type: conv1d_transpose, filters: 3, kernel: 4, stride: 2, padding: 1, dilation: 2, output_padding: 1}, {type: flatten}, {type: dense, units: 3}]`},
	// The autoencoder kind's layers are its two stacks; its loss is mse
	// against targets of the input's shape.
	{name: "autoencoder_dense", kind: "autoencoder", input: []int{6},
		layers: `encoder: [{type: dense, units: 4, activation: relu}, {type: dense, units: 2}], decoder: [{type: dense, units: 4, activation: tanh}, {type: dense, units: 6, activation: sigmoid}]`},
	{name: "autoencoder_bce", kind: "autoencoder", input: []int{5}, loss: "bce",
		layers: `encoder: [{type: dense, units: 3, activation: tanh}], decoder: [{type: dense, units: 5, activation: sigmoid}]`},
	{name: "autoencoder_conv_upsample", kind: "autoencoder", input: []int{1, 4, 4},
		layers: `encoder: [{type: conv2d, filters: 2, kernel: 3, padding: same, activation: tanh}, {type: maxpool2d, size: 2}], decoder: [{type: upsample2d, scale: 2}, {type: conv2d, filters: 1, kernel: 3, padding: same, activation: sigmoid}]`},
}

// buildCase builds a case's model in float64 through the config loader,
// with its biases and normalization parameters jittered.
func buildCase(t *testing.T, c gradCase) (models.Model, train.Loss, string) {
	t.Helper()
	return buildCaseAs(t, c, "float64")
}

func buildCaseAs(t *testing.T, c gradCase, dtype string) (models.Model, train.Loss, string) {
	t.Helper()
	kind, loss, task := c.kind, c.loss, "classification"
	if kind == "" {
		kind = "cnn"
	}
	if loss == "" {
		loss = "cross_entropy"
	}
	if loss == "mse" {
		task = "regression"
	}
	stacks := "layers: " + c.layers
	if kind == "autoencoder" {
		stacks, task = c.layers, "reconstruction"
		if c.loss == "" {
			loss = "mse"
		}
	}
	text := fmt.Sprintf("name: t\ndata: {source: builtin:iris, task: %s}\nmodel: {kind: %s, dtype: %s, %s}\ntrain: {loss: %s, checkpoint: {metric: val_loss}}\n",
		task, kind, dtype, stacks, loss)
	exp, err := config.Parse("case.yaml", []byte(text), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.Build(models.Spec{Exp: exp, Input: c.input, PadMask: c.padMask, InitRNG: rand.New(rand.NewPCG(1, 2))})
	if err != nil {
		t.Fatal(err)
	}
	Jitter(m.Params(), rand.New(rand.NewPCG(3, 4)), 0.1)
	l, ps := train.NewLoss(exp.Train.Loss, task)
	if len(ps) > 0 {
		t.Fatal(ps)
	}
	return m, l, task
}

// caseInputs is inputs, with token ids in [0, c.vocab) as x when c.vocab
// is set (each id occurs, the padding id 0 among them).
func caseInputs(m models.Model, c gradCase, task string, n int, rng *rand.Rand) (*tensor.Dense, *tensor.Dense) {
	x, y := inputs(m, task, n, rng)
	if c.vocab > 0 {
		for i, v := range x.Data().([]float64) {
			x.Data().([]float64)[i] = float64((i + int(10*math.Abs(v))) % c.vocab)
		}
	}
	if c.padMask { // sample r: T − r mod T real ids in [1, vocab), then padding
		t := c.input[0]
		for i := range x.Data().([]float64) {
			r, p := i/t, i%t
			v := float64(1 + i%(c.vocab-1))
			if p >= t-r%t {
				v = 0
			}
			x.Data().([]float64)[i] = v
		}
	}
	return x, y
}

// inputs draws a batch of n samples for m: inputs in ±[0.05, 1] (away
// from kinks), class labels or regression targets.
func inputs(m models.Model, task string, n int, rng *rand.Rand) (*tensor.Dense, *tensor.Dense) {
	xs := append([]int{n}, m.InputShape()...)
	x := make([]float64, tensor.Shape(xs).TotalSize())
	for i := range x {
		x[i] = 0.05 + 0.95*rng.Float64()
		if rng.IntN(2) == 0 {
			x[i] = -x[i]
		}
	}
	out := m.OutputShape().Size()
	if task == "classification" {
		y := make([]float64, n)
		for i := range y {
			y[i] = float64(rng.IntN(out))
		}
		return tensor.New(tensor.WithShape(xs...), tensor.WithBacking(x)), tensor.New(tensor.WithShape(n), tensor.WithBacking(y))
	}
	y := make([]float64, n*out)
	for i := range y {
		y[i] = rng.NormFloat64()
	}
	return tensor.New(tensor.WithShape(xs...), tensor.WithBacking(x)), tensor.New(tensor.WithShape(n, out), tensor.WithBacking(y))
}

func TestEveryLayerPassesGradCheck(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, loss, task := buildCase(t, c)
			x, y := caseInputs(m, c, task, 3, rand.New(rand.NewPCG(5, 6)))
			rep, err := Model(context.Background(), m, loss, x, y, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if err := rep.Err(); err != nil {
				var b strings.Builder
				rep.WriteText(&b)
				t.Fatalf("%v\n%s", err, b.String())
			}
			t.Logf("worst relative error %.3g (%s)", rep.Worst().RelErr, rep.Worst().Param)
			for _, r := range rep.Results {
				if r.Zero != slices.Contains(c.zero, r.Param) {
					t.Errorf("%s: zero gradient %v (max %.3g), want %v", r.Param, r.Zero, r.MaxGrad, !r.Zero)
				}
				if r.Checked != r.Size {
					t.Errorf("%s: checked %d of %d elements", r.Param, r.Checked, r.Size)
				}
			}
			if len(rep.Results) != len(m.Params().Trainable()) {
				t.Errorf("%d results for %d trainable parameters", len(rep.Results), len(m.Params().Trainable()))
			}
		})
	}
}

func TestEveryLayerTypeIsChecked(t *testing.T) {
	seen := map[string]bool{}
	re := regexp.MustCompile(`type: ([a-z0-9_]+)`)
	for _, c := range cases {
		for _, m := range re.FindAllStringSubmatch(c.layers, -1) {
			seen[m[1]] = true
		}
	}
	for _, typ := range models.LayerTypes() {
		if !seen[typ] {
			t.Errorf("layer type %s has no gradient check case", typ)
		}
	}
	for _, kind := range models.Kinds() {
		found := kind == "seq2seq" || kind == "gan" // their own tests: TestSeq2SeqPassesGradCheck (token sequences), pkg/run TestGANPhasesPassGradCheck (one objective per phase)

		for _, c := range cases {
			found = found || c.kind == kind
		}
		if !found {
			t.Errorf("model kind %s has no gradient check case", kind)
		}
	}
}

// A wrong gradient must be caught: scale one parameter's analytic
// gradient through a broken loss and expect ErrMismatch.
func TestCheckCatchesAWrongGradient(t *testing.T) {
	m, _, task := buildCase(t, cases[0])
	x, y := inputs(m, task, 3, rand.New(rand.NewPCG(7, 8)))
	rep, err := Model(context.Background(), m, halfGradLoss{}, x, y, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.Err(); !errors.Is(err, ErrMismatch) {
		t.Fatalf("a loss whose gradient is half the truth passed: %v", err)
	}
}

func TestCheckRestoresParametersAndBuffers(t *testing.T) {
	m, loss, task := buildCase(t, cases[19]) // batchnorm after conv
	before := map[string][]float64{}
	for _, p := range m.Params().All() {
		before[p.Name] = models.Float64s(p.Value)
	}
	x, y := inputs(m, task, 3, rand.New(rand.NewPCG(9, 10)))
	if _, err := Model(context.Background(), m, loss, x, y, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Params().All() {
		for i, v := range models.Float64s(p.Value) {
			if v != before[p.Name][i] {
				t.Fatalf("%s[%d] changed from %v to %v", p.Name, i, before[p.Name][i], v)
			}
		}
	}
}

func TestCheckRefusesFloat32(t *testing.T) {
	exp, err := config.Parse("c.yaml", []byte("name: t\ndata: {source: builtin:iris}\nmodel: {layers: [{type: dense, units: 3}]}\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	m, err := models.Build(models.Spec{Exp: exp, Input: []int{4}, InitRNG: rand.New(rand.NewPCG(1, 1))})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(tensor.WithShape(2, 4), tensor.Of(tensor.Float32))
	y := tensor.New(tensor.WithShape(2), tensor.Of(tensor.Float32))
	loss, _ := train.NewLoss(exp.Train.Loss, "classification")
	if _, err := Model(context.Background(), m, loss, x, y, Options{}); err == nil || !strings.Contains(err.Error(), "float64") {
		t.Fatalf("float32 model: %v", err)
	}
}

// halfGradLoss is cross-entropy behind an identity whose gradient is
// halved: a deliberately wrong op.
type halfGradLoss struct{}

func (halfGradLoss) Build(out, target *G.Node) (*G.Node, error) {
	h, err := ops.Apply(scale{k: 1, gradK: 0.5}, nil, out)
	if err != nil {
		return nil, err
	}
	return ops.SoftmaxCrossEntropy(h, target)
}

func (halfGradLoss) Tasks() []string { return []string{"classification"} }

func (halfGradLoss) Output(meta data.Meta) ([]int, error) { return []int{len(meta.Classes)}, nil }

// scale multiplies by k and claims its gradient multiplies by gradK.
type scale struct{ k, gradK float64 }

func (scale) Name() string { return "scale" }

func (scale) OutShape(in []tensor.Shape) (tensor.Shape, error) { return in[0].Clone(), nil }

func (s scale) Forward(out *tensor.Dense, in []*tensor.Dense) error {
	o, x := out.Data().([]float64), in[0].Data().([]float64)
	for i := range o {
		o[i] = s.k * x[i]
	}
	return nil
}

func (s scale) Backward(_ G.Nodes, _, grad *G.Node, _ []bool) (G.Nodes, error) {
	g, err := ops.Apply(scale{k: s.gradK}, nil, grad)
	return G.Nodes{g}, err
}

// The float32 kernels compute what the float64 ones (checked above) do:
// the same model in both dtypes, from the same initial values, gives the
// same gradients to float32 precision through a training session.
func TestFloat32GradientsMatchFloat64(t *testing.T) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m64, loss, task := buildCaseAs(t, c, "float64")
			m32, _, _ := buildCaseAs(t, c, "float32")
			x, y := caseInputs(m64, c, task, 5, rand.New(rand.NewPCG(11, 12)))
			split := &data.Split{N: 5}
			for _, v := range x.Data().([]float64) {
				split.X = append(split.X, float32(v))
			}
			for _, v := range y.Data().([]float64) {
				split.Y = append(split.Y, float32(v))
			}
			target := []int{}
			if task == "regression" || task == "reconstruction" {
				target = m64.OutputShape()
			}
			idx := []int{0, 1, 2, 3, 4}
			var grads [2]train.Gradients
			for i, m := range []models.Model{m64, m32} {
				s := train.NewSession(m, loss, target, rand.New(rand.NewPCG(13, 14)))
				g, err := s.Forward(split, idx)
				if err != nil {
					t.Fatal(err)
				}
				grads[i] = g
			}
			if d := math.Abs(grads[0].Loss-grads[1].Loss) / max(math.Abs(grads[0].Loss), 1); d > 1e-5 {
				t.Errorf("loss %v in float64, %v in float32", grads[0].Loss, grads[1].Loss)
			}
			for i, p := range grads[0].Params {
				g64, g32 := models.Float64s(grads[0].Grads[i]), models.Float64s(grads[1].Grads[i])
				var scale, diff float64
				for j := range g64 {
					scale = max(scale, math.Abs(g64[j]))
					diff = max(diff, math.Abs(g64[j]-g32[j]))
				}
				if diff > 1e-4*max(scale, 1e-3) {
					t.Errorf("%s: float32 gradient differs by %.3g (largest %.3g)", p.Name, diff, scale)
				}
			}
		})
	}
}
