package models_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
)

// parse loads an experiment whose model section is given in YAML flow
// form.
func parse(t *testing.T, model string) *config.Experiment {
	t.Helper()
	text := "name: t\ndata: {source: builtin:digits}\nmodel: " + model + "\n"
	exp, err := config.Parse("exp.yaml", []byte(text), nil, nil, models.Validate)
	if err != nil {
		t.Fatal(err)
	}
	return exp
}

func build(t *testing.T, model string, input, output []int) (models.Model, error) {
	t.Helper()
	return models.Build(models.Spec{Exp: parse(t, model), Input: input, Output: output, InitRNG: rand.New(rand.NewPCG(1, 2))})
}

const lenet = `{kind: cnn, layers: [
  {type: conv2d, filters: 6, kernel: 5, activation: relu}, {type: maxpool2d, size: 2},
  {type: conv2d, filters: 16, kernel: 5, activation: relu}, {type: maxpool2d, size: 2},
  {type: flatten}, {type: dense, units: 120, activation: relu}, {type: dense, units: 84, activation: relu},
  {type: dense, units: 10}]}`

const mlp = `{kind: mlp, layers: [{type: dense, units: 256, activation: relu}, {type: dense, units: 128, activation: relu}, {type: dense, units: 10}]}`

// The lenet and mlp benchmark workloads (WORKLOADS.md); PyTorch counts the same
// models' parameters as 44,426 (LeNet) and 235,146 (MLP).
func TestParameterCountsMatchPyTorch(t *testing.T) {
	tests := []struct {
		name, model string
		input       []int
		params      int
		shapes      []string
	}{
		{"lenet", lenet, []int{1, 28, 28}, 44426,
			[]string{"(6, 24, 24)", "(6, 12, 12)", "(16, 8, 8)", "(16, 4, 4)", "(256)", "(120)", "(84)", "(10)"}},
		{"mlp", mlp, []int{784}, 235146, []string{"(256)", "(128)", "(10)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := build(t, tc.model, tc.input, []int{10})
			if err != nil {
				t.Fatal(err)
			}
			s := models.Summarize("x", m)
			if s.Params != tc.params || s.Total != tc.params || models.ParamCount(m) != tc.params {
				t.Errorf("%d parameters (summary %d, total %d), PyTorch counts %d", models.ParamCount(m), s.Params, s.Total, tc.params)
			}
			sum := 0
			for i, l := range s.Layers {
				sum += l.Params
				if got := l.Output.String(); got != tc.shapes[i] {
					t.Errorf("layer %d (%s): output %s, want %s", i, l.Name, got, tc.shapes[i])
				}
			}
			if sum != tc.params {
				t.Errorf("rows sum to %d parameters, want %d", sum, tc.params)
			}
			var b strings.Builder
			if err := s.WriteText(&b); err != nil {
				t.Fatal(err)
			}
			want := fmt.Sprintf("parameters: %s trainable", map[int]string{44426: "44,426", 235146: "235,146"}[tc.params])
			if !strings.Contains(b.String(), want) {
				t.Errorf("summary text lacks %q:\n%s", want, b.String())
			}
		})
	}
}

func TestSummaryOfResidualBlock(t *testing.T) {
	m, err := build(t, `{kind: cnn, layers: [
	  {type: conv2d, filters: 4, kernel: 3, padding: same},
	  {type: residual, activation: relu, layers: [{type: conv2d, filters: 8, kernel: 3, stride: 2, padding: same, bias: false}, {type: batchnorm}]},
	  {type: global_avgpool}, {type: dense, units: 10}]}`, []int{1, 8, 8}, []int{10})
	if err != nil {
		t.Fatal(err)
	}
	s := models.Summarize("cnn", m)
	var rows []string
	for _, l := range s.Layers {
		rows = append(rows, fmt.Sprintf("%d %s %s %v %d+%d", l.Depth, l.Name, l.Type, l.Output, l.Params, l.Buffers))
	}
	want := []string{
		"0 conv2d1 conv2d (4, 8, 8) 40+0",
		"0 residual1 residual (8, 4, 4) 0+0",
		"1 residual1/conv2d1 conv2d (8, 4, 4) 288+0",
		"1 residual1/batchnorm1 batchnorm (8, 4, 4) 16+16",
		"1 residual1/projection conv2d (8, 4, 4) 40+0", // 1×1, stride 2, 4 -> 8 channels
		"0 global_avgpool1 global_avgpool (8) 0+0",
		"0 dense1 dense (10) 90+0",
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
	if s.Params != 40+288+16+40+90 || s.Buffers != 16 {
		t.Errorf("params %d, buffers %d", s.Params, s.Buffers)
	}
	for _, name := range []string{"residual1/conv2d1/W", "residual1/projection/W", "residual1/batchnorm1/running_var"} {
		if m.Params().Get(name) == nil {
			t.Errorf("no parameter %s", name)
		}
	}
}

// A wrong stack is a config problem (exit 2) at the layer's key path,
// naming the layer's index, type and name and both shapes.
func TestWrongStacksNameTheLayerAndShapes(t *testing.T) {
	tests := []struct {
		name, layers string
		input        []int
		key          string
		want         []string
	}{
		{"dense on a 3-D input", `[{type: conv2d, filters: 4, kernel: 3}, {type: dense, units: 10}]`, []int{1, 8, 8},
			"model.layers[1]", []string{`layer 1 (dense "dense1")`, "(4, 6, 6)", "add {type: flatten}", "(144)"}},
		{"kernel larger than input", `[{type: conv2d, filters: 4, kernel: 5}, {type: conv2d, filters: 4, kernel: 5}]`, []int{1, 7, 7},
			"model.layers[1]", []string{`layer 1 (conv2d "conv2d2")`, "kernel 5×5 is larger than the padded input 3×3", "(4, 3, 3)"}},
		{"dilated kernel", `[{type: conv2d, filters: 2, kernel: 3, dilation: 4, name: wide}]`, []int{1, 8, 8},
			"model.layers[0]", []string{`layer 0 (conv2d "wide")`, "kernel 3×3 (dilated to 9×9) is larger than the padded input 8×8"}},
		{"conv on a flat input", `[{type: conv2d, filters: 4, kernel: 3}]`, []int{64},
			"model.layers[0]", []string{"conv2d needs a (channels, height, width) input, got (64)", "data.shape"}},
		{"conv1d on an image", `[{type: conv1d, filters: 4, kernel: 3}]`, []int{1, 8, 8},
			"model.layers[0]", []string{"conv1d needs a (channels, length) input, got (1, 8, 8)"}},
		{"pool window too large", `[{type: maxpool2d, size: 4}, {type: maxpool2d, size: 4}]`, []int{1, 8, 8},
			"model.layers[1]", []string{`layer 1 (maxpool2d "maxpool2d2")`, "window 4×4 is larger than the padded input 2×2", "(1, 2, 2)"}},
		{"pool padding over half", `[{type: avgpool2d, size: 2, padding: 2}]`, []int{1, 8, 8},
			"model.layers[0]", []string{"padding [2] is more than half the window 2×2"}},
		{"reshape size", `[{type: reshape, shape: [3, 5]}]`, []int{1, 4, 4},
			"model.layers[0]", []string{"cannot reshape (1, 4, 4) (16 values) to (3, 5) (15 values)"}},
		{"residual without a projection", `[{type: residual, layers: [{type: conv2d, filters: 2, kernel: 3}]}]`, []int{1, 8, 8},
			"model.layers[0]", []string{`layer 0 (residual "residual1")`, "turn (1, 8, 8) into (2, 6, 6)", "no 1×1 projection can match axis 1 (8 -> 6)"}},
		{"residual changing rank", `[{type: residual, layers: [{type: flatten}]}]`, []int{1, 4, 4},
			"model.layers[0]", []string{"turn (1, 4, 4) into (16), and no projection matches them"}},
		{"nested layer", `[{type: dense, units: 8}, {type: residual, layers: [{type: dense, units: 8}, {type: conv2d, filters: 2, kernel: 3}]}]`, []int{4},
			"model.layers[1].layers[1]", []string{`layer 1 (conv2d "residual1/conv2d1")`, "needs a (channels, height, width) input, got (8)"}},
		{"output against the loss", `[{type: flatten}, {type: dense, units: 7}]`, []int{1, 8, 8},
			"model.layers[1]", []string{"output (7) does not match what the loss needs, (10)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(t, "{kind: cnn, layers: "+tc.layers+"}", tc.input, []int{10})
			var ps config.Problems
			if !errors.As(err, &ps) || !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("error %v (%T), want config problems", err, err)
			}
			if len(ps) != 1 || ps[0].Key != tc.key {
				t.Fatalf("problems %v, want one at %s", ps, tc.key)
			}
			for _, w := range tc.want {
				if !strings.Contains(ps[0].Error(), w) {
					t.Errorf("%q lacks %q", ps[0].Error(), w)
				}
			}
			if !strings.HasPrefix(ps[0].Error(), "exp.yaml:") {
				t.Errorf("%q does not point at the file", ps[0].Error())
			}
		})
	}
}

// Option problems are found when the config is loaded, nested ones at
// their own key path.
func TestLayerOptionProblems(t *testing.T) {
	tests := []struct {
		name, layers string
		key, want    string
	}{
		{"conv without filters", `[{type: conv2d, kernel: 3}]`, "model.layers[0].filters", "must be >= 1"},
		{"conv without kernel", `[{type: conv2d, filters: 3}]`, "model.layers[0].kernel", "is required"},
		{"bad padding word", `[{type: conv2d, filters: 3, kernel: 3, padding: full}]`, "model.layers[0].padding", `must be one of valid, same, got "full"`},
		{"padding of 3 values", `[{type: conv2d, filters: 3, kernel: 3, padding: [1, 2, 3]}]`, "model.layers[0].padding", "[top, bottom, left, right]"},
		{"kernel of 3 axes", `[{type: conv2d, filters: 3, kernel: [3, 3, 3]}]`, "model.layers[0].kernel", "one value or 2"},
		{"zero stride", `[{type: maxpool2d, stride: 0}]`, "model.layers[0].stride", "must be >= 1"},
		{"momentum", `[{type: batchnorm, momentum: 1.5}]`, "model.layers[0].momentum", "must be in [0, 1]"},
		{"reshape two -1", `[{type: reshape, shape: [-1, -1]}]`, "model.layers[0].shape", "only one axis can be -1"},
		{"init on a pool", `[{type: maxpool2d, init: zeros}]`, "model.layers[0].init", "has no weights"},
		{"include_pad on max", `[{type: maxpool2d, include_pad: false}]`, "model.layers[0].include_pad", "unknown option for maxpool2d"},
		{"the options of a layer without weights", `[{type: relu, slope: 1}]`, "model.layers[0].slope", "its options are: name"},
		{"the options of a layer with weights", `[{type: dense, unit: 1}]`, "model.layers[0].unit", "init, name"},
		{"residual without layers", `[{type: residual}]`, "model.layers[0].layers", "is required"},
		{"nested typo", `[{type: residual, layers: [{type: dense, units: 4}, {type: conv2d, fitlers: 3, kernel: 3}]}]`,
			"model.layers[0].layers[1].fitlers", `did you mean "filters"`},
		{"nested unknown type", `[{type: residual, layers: [{type: resnet}]}]`, "model.layers[0].layers[0].type", "unknown layer type"},
		{"slash in name", `[{type: dense, units: 3, name: a/b}]`, "model.layers[0].name", "must not contain '/'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := "name: t\ndata: {source: builtin:digits}\nmodel: {kind: cnn, layers: " + tc.layers + "}\n"
			_, err := config.Parse("exp.yaml", []byte(text), nil, nil, models.Validate)
			var ps config.Problems
			if !errors.As(err, &ps) {
				t.Fatalf("error %v, want config problems", err)
			}
			for _, p := range ps {
				if p.Key == tc.key && strings.Contains(p.Msg, tc.want) {
					return
				}
			}
			t.Fatalf("problems %v, want one at %s containing %q", ps, tc.key, tc.want)
		})
	}
}

func TestPaddingAndStrideShapes(t *testing.T) {
	tests := []struct {
		layer string
		input []int
		want  string
	}{
		{`{type: conv2d, filters: 2, kernel: 3, padding: same}`, []int{1, 7, 5}, "(2, 7, 5)"},
		{`{type: conv2d, filters: 2, kernel: 4, padding: same, stride: 2}`, []int{1, 7, 5}, "(2, 4, 3)"},
		{`{type: conv2d, filters: 2, kernel: 3, padding: [1, 0]}`, []int{1, 7, 5}, "(2, 7, 3)"},
		{`{type: conv2d, filters: 2, kernel: 3, padding: [0, 2, 1, 1]}`, []int{1, 7, 5}, "(2, 7, 5)"},
		{`{type: conv2d, filters: 2, kernel: [1, 3], stride: [1, 2], dilation: 2}`, []int{1, 7, 9}, "(2, 7, 3)"},
		{`{type: conv1d, filters: 3, kernel: 5, stride: 2, padding: same}`, []int{2, 9}, "(3, 5)"},
		{`{type: maxpool2d}`, []int{3, 7, 6}, "(3, 3, 3)"},
		{`{type: maxpool2d, size: 2, padding: same}`, []int{3, 7, 6}, "(3, 4, 3)"},
		{`{type: avgpool2d, size: 3, stride: 1, padding: 1}`, []int{3, 7, 6}, "(3, 7, 6)"},
		{`{type: avgpool1d, size: 2}`, []int{3, 9}, "(3, 4)"},
		{`{type: global_avgpool}`, []int{3, 7, 6}, "(3)"},
		{`{type: reshape, shape: [4, -1]}`, []int{1, 4, 6}, "(4, 6)"},
		{`{type: layernorm, axes: 2}`, []int{3, 4, 5}, "(3, 4, 5)"},
		{`{type: spatial_dropout}`, []int{3, 4, 5}, "(3, 4, 5)"},
	}
	for _, tc := range tests {
		t.Run(tc.layer, func(t *testing.T) {
			m, err := build(t, "{kind: cnn, layers: ["+tc.layer+"]}", tc.input, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := m.OutputShape().String(); got != tc.want {
				t.Errorf("output %s, want %s", got, tc.want)
			}
		})
	}
}

// batchNormModel is a float64 model whose first layer is batch norm on
// (2, 3, 3) inputs, followed by a classifier.
func batchNormModel(t *testing.T, ds *data.Dataset) (models.Model, *train.Session) {
	t.Helper()
	m, err := build(t, `{kind: cnn, dtype: float64, layers: [{type: batchnorm, momentum: 0.3}, {type: conv2d, filters: 2, kernel: 2},
	  {type: batchnorm}, {type: flatten}, {type: dense, units: 3}]}`, ds.Input, ds.ModelOutput())
	if err != nil {
		t.Fatal(err)
	}
	loss, _ := train.NewLoss(config.Block{Kind: "cross_entropy"}, "classification")
	return m, train.NewSession(m, loss, []int{}, rand.New(rand.NewPCG(3, 4)))
}

// toyData is a small classification data set of (2, 3, 3) samples whose
// channels have different means and spreads.
func toyData(n int) *data.Dataset {
	rng := rand.New(rand.NewPCG(7, 8))
	s := &data.Split{Name: "train", N: n}
	for i := 0; i < n; i++ {
		for j := 0; j < 18; j++ {
			s.X = append(s.X, float32(rng.NormFloat64()*float64(1+j/9)+float64(3*(j/9))))
		}
		s.Y = append(s.Y, float32(i%3))
	}
	return &data.Dataset{Meta: data.Meta{Task: "classification", Input: []int{2, 3, 3}, Target: []int{}, Classes: []string{"a", "b", "c"}},
		Train: s, Val: s, Test: s}
}

func snapshot(store *models.ParamStore) map[string][]float64 {
	out := map[string][]float64{}
	for _, p := range store.All() {
		out[p.Name] = models.Float64s(p.Value)
	}
	return out
}

func TestBatchNormTrainingUpdatesRunningStatsAsPyTorch(t *testing.T) {
	ds := toyData(12)
	m, s := batchNormModel(t, ds)
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7}
	if _, err := s.Forward(ds.Train, idx); err != nil {
		t.Fatal(err)
	}
	// Channel 0 of the first batch norm: values 0..8 of each sample.
	var vals []float64
	for _, i := range idx {
		for j := 0; j < 9; j++ {
			vals = append(vals, float64(ds.Train.X[i*18+j]))
		}
	}
	mean, sq := 0.0, 0.0
	for _, v := range vals {
		mean += v
	}
	mean /= float64(len(vals))
	for _, v := range vals {
		sq += (v - mean) * (v - mean)
	}
	unbiased := sq / float64(len(vals)-1)
	rm := m.Params().Get("batchnorm1/running_mean").Value.Data().([]float64)
	rv := m.Params().Get("batchnorm1/running_var").Value.Data().([]float64)
	// momentum 0.3 is the weight of the new batch; the start is mean 0, var 1.
	if math.Abs(rm[0]-0.3*mean) > 1e-12 || math.Abs(rv[0]-(0.7+0.3*unbiased)) > 1e-12 {
		t.Errorf("running mean %v, var %v; want %v, %v", rm[0], rv[0], 0.3*mean, 0.7+0.3*unbiased)
	}
}

func TestEvaluationUsesRunningStatsAndChangesNothing(t *testing.T) {
	ds := toyData(12)
	m, s := batchNormModel(t, ds)
	for step := 0; step < 3; step++ {
		if _, err := s.Forward(ds.Train, []int{0, 1, 2, 3, 4, 5}); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshot(m.Params())
	outAll := make([]float64, 12*3)
	if _, err := train.Evaluate(s, ds.Test, 5, ds.Meta); err != nil { // batches of 5, 5 and 2
		t.Fatal(err)
	}
	if _, err := s.Predict(ds.Test, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, outAll); err != nil {
		t.Fatal(err)
	}
	for name, v := range snapshot(m.Params()) {
		for i := range v {
			if v[i] != before[name][i] {
				t.Fatalf("evaluation changed %s[%d] from %v to %v", name, i, before[name][i], v[i])
			}
		}
	}
	// With running statistics a sample's output does not depend on the
	// rest of its batch.
	one := make([]float64, 3)
	if _, err := s.Predict(ds.Test, []int{7}, one); err != nil {
		t.Fatal(err)
	}
	for k := range one {
		if math.Abs(one[k]-outAll[7*3+k]) > 1e-12 {
			t.Fatalf("sample 7 alone gives %v, in a batch of 12 %v", one, outAll[21:24])
		}
	}
}

func TestRunningStatsSurviveACheckpoint(t *testing.T) {
	ds := toyData(12)
	m, s := batchNormModel(t, ds)
	for step := 0; step < 2; step++ {
		if _, err := s.Forward(ds.Train, []int{0, 1, 2, 3, 4, 5, 6, 7}); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(t.TempDir(), "bn.ckpt")
	if err := (&train.Checkpoint{Params: train.CaptureParams(m.Params())}).Save(path); err != nil {
		t.Fatal(err)
	}
	ck, err := train.LoadCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	fresh, s2 := batchNormModel(t, ds)
	if err := train.RestoreParams(fresh.Params(), ck.Params); err != nil {
		t.Fatal(err)
	}
	want, got := snapshot(m.Params()), snapshot(fresh.Params())
	for _, name := range []string{"batchnorm1/running_mean", "batchnorm1/running_var", "batchnorm2/running_mean", "batchnorm2/running_var"} {
		if fmt.Sprint(got[name]) != fmt.Sprint(want[name]) {
			t.Errorf("%s: %v after the round trip, %v before", name, got[name], want[name])
		}
		if fmt.Sprint(want[name]) == fmt.Sprint([]float64{0, 0}) || fmt.Sprint(want[name]) == fmt.Sprint([]float64{1, 1}) {
			t.Errorf("%s never moved from its start %v; the test proves nothing", name, want[name])
		}
	}
	a, b := make([]float64, 36), make([]float64, 36)
	all := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}
	if _, err := s.Predict(ds.Test, all, a); err != nil {
		t.Fatal(err)
	}
	if _, err := s2.Predict(ds.Test, all, b); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Error("the restored model evaluates differently")
	}
}

// The models reference (docs/models.md) must list every registered layer
// type in its Layers section, and every model kind.
func TestDocsListEveryLayerType(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "models.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	start := strings.Index(text, "\n## Layers")
	end := strings.Index(text[max(start+1, 0):], "\n## ")
	if start < 0 || end < 0 {
		t.Fatal("docs/models.md has no Layers section")
	}
	section := text[start : start+1+end]
	for _, typ := range models.LayerTypes() {
		if !strings.Contains(section, "`"+typ+"`") {
			t.Errorf("layer type %s is not in the Layers section of docs/models.md", typ)
		}
	}
	for _, kind := range models.Kinds() {
		if !strings.Contains(text, "`"+kind+"`") {
			t.Errorf("model kind %s is not in docs/models.md", kind)
		}
	}
}

// A training batch norm over one flat sample cannot work (PyTorch refuses
// it too); it is a config error that says what to change.
func TestBatchNormRefusesABatchOfOneFlatSample(t *testing.T) {
	m, err := build(t, `{kind: mlp, layers: [{type: dense, units: 4}, {type: batchnorm}, {type: dense, units: 3}]}`, []int{5}, []int{3})
	if err != nil {
		t.Fatal(err)
	}
	ds := &data.Split{N: 1, X: make([]float32, 5), Y: []float32{1}}
	loss, _ := train.NewLoss(config.Block{Kind: "cross_entropy"}, "classification")
	s := train.NewSession(m, loss, []int{}, rand.New(rand.NewPCG(1, 1)))
	_, err = s.Forward(ds, []int{0})
	if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "train.batch_size") {
		t.Fatalf("error %v, want a config error naming train.batch_size", err)
	}
	if _, err := s.Predict(ds, []int{0}, nil); err != nil {
		t.Fatalf("evaluating one sample: %v", err)
	}
}
