package models_test

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
)

// Output shapes and parameter counts as PyTorch's nn.ConvTranspose2d and
// nn.ConvTranspose1d give them for the same options (printed by
// PyTorch 1.13: 75 parameters and (3, 12, 19); 18 and (1, 8, 8); 65 and
// (5, 14)).
func TestConvTransposeShapesAndParamsMatchPyTorch(t *testing.T) {
	tests := []struct {
		name, layers string
		input        []int
		want         string
		weight       []int
	}{
		{"all options", `[{type: conv2d_transpose, filters: 3, kernel: [3, 2], stride: [2, 3], padding: [1, 0], output_padding: [1, 2], dilation: [2, 1]}]`,
			[]int{4, 5, 6}, "conv2d_transpose (3, 12, 19) 75", []int{4, 3, 3, 2}},
		{"doubling, no bias", `[{type: conv2d_transpose, filters: 1, kernel: 3, stride: 2, padding: 1, output_padding: 1, bias: false}]`,
			[]int{2, 4, 4}, "conv2d_transpose (1, 8, 8) 18", []int{2, 1, 3, 3}},
		{"1-D", `[{type: conv1d_transpose, filters: 5, kernel: 4, stride: 2, padding: 1}]`,
			[]int{3, 7}, "conv1d_transpose (5, 14) 65", []int{3, 5, 4}},
		{"defaults: stride 1, no padding", `[{type: conv2d_transpose, filters: 2, kernel: 3}]`,
			[]int{1, 4, 4}, "conv2d_transpose (2, 6, 6) 20", []int{1, 2, 3, 3}},
		{"output padding allowed by the dilation", `[{type: conv2d_transpose, filters: 1, kernel: 2, dilation: 3, output_padding: 2}]`,
			[]int{1, 3, 3}, "conv2d_transpose (1, 8, 8) 5", []int{1, 1, 2, 2}},
		{"cropping padding [t, b, l, r]", `[{type: conv2d_transpose, filters: 1, kernel: 3, padding: [0, 2, 1, 0]}]`,
			[]int{1, 4, 4}, "conv2d_transpose (1, 4, 5) 10", []int{1, 1, 3, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := outputs(t, tc.layers, tc.input); len(got) != 1 || got[0] != tc.want {
				t.Errorf("rows %q, want %q", got, tc.want)
			}
			m, err := build(t, "{kind: cnn, layers: "+tc.layers+"}", tc.input, nil)
			if err != nil {
				t.Fatal(err)
			}
			typ := strings.Fields(tc.want)[0]
			w := m.Params().Get(typ + "1/W")
			if w == nil || fmt.Sprint([]int(w.Value.Shape())) != fmt.Sprint(tc.weight) {
				t.Fatalf("weight %v, want the shape %v (channels, filters, ...)", w, tc.weight)
			}
		})
	}
}

// The decoder of a convolutional autoencoder on the 8×8 digits: 2×2 back
// to 8×8 with two stride-2 transposed convolutions; the summary counts
// 2 FLOPs per multiply-add.
func TestConvTransposeSummary(t *testing.T) {
	m, err := build(t, `{kind: cnn, layers: [{type: conv2d, filters: 4, kernel: 3, padding: same, activation: relu}, {type: maxpool2d, size: 4},
	  {type: conv2d_transpose, filters: 4, kernel: 2, stride: 2, activation: relu},
	  {type: conv2d_transpose, filters: 1, kernel: 3, stride: 2, padding: 1, output_padding: 1, activation: sigmoid}]}`, []int{1, 8, 8}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := models.Summarize("cnn", m)
	var rows []string
	for _, l := range s.Layers {
		rows = append(rows, fmt.Sprintf("%s %v %d %d", l.Type, l.Output, l.Params, l.FLOPs))
	}
	want := []string{
		"conv2d (4, 8, 8) 40 4608",
		"maxpool2d (4, 2, 2) 0 256",
		"conv2d_transpose (4, 4, 4) 68 512",  // 16 inputs × 4 filters × 4 taps × 2
		"conv2d_transpose (1, 8, 8) 37 1152", // 64 inputs × 1 filter × 9 taps × 2
	}
	if strings.Join(rows, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(rows, "\n"), strings.Join(want, "\n"))
	}
}

// Initializers see PyTorch's fans for a (channels, filters, kh, kw)
// weight: fan-in = filters × kh × kw (18 here), not channels × kh × kw
// (72): he_uniform draws within ±√(6/18).
func TestConvTransposeInitUsesPyTorchFans(t *testing.T) {
	m, err := build(t, `{kind: cnn, layers: [{type: conv2d_transpose, filters: 2, kernel: 3, init: he_uniform}]}`, []int{8, 4, 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	limit := math.Sqrt(6.0 / 18)
	var top float64
	for _, v := range models.Float64s(m.Params().Get("conv2d_transpose1/W").Value) {
		top = max(top, math.Abs(v))
	}
	if top > limit || top < 0.9*limit {
		t.Errorf("max |w| = %.4f, want it just under √(6/18) = %.4f (√(6/72) = %.4f would mean the wrong fan)", top, limit, math.Sqrt(6.0/72))
	}
}

func TestConvTransposeOptionProblems(t *testing.T) {
	tests := []struct {
		name, layers string
		key, want    string
	}{
		{"output padding at the stride", `[{type: conv2d_transpose, filters: 2, kernel: 3, stride: 2, output_padding: 2}]`,
			"model.layers[0].output_padding", "must be smaller than the stride or the dilation of its axis (as in PyTorch); got [2 2] with stride [2 2] and dilation [1 1]"},
		{"output padding on one axis", `[{type: conv2d_transpose, filters: 2, kernel: 3, stride: [2, 1], output_padding: [1, 1]}]`,
			"model.layers[0].output_padding", "got [1 1] with stride [2 1]"},
		{"negative output padding", `[{type: conv2d_transpose, filters: 2, kernel: 3, output_padding: -1}]`, "model.layers[0].output_padding", "must be >= 0"},
		{"same padding", `[{type: conv2d_transpose, filters: 2, kernel: 3, padding: same}]`, "model.layers[0].padding", "same is not defined for a transposed convolution"},
		{"no filters", `[{type: conv2d_transpose, kernel: 3}]`, "model.layers[0].filters", "must be >= 1"},
		{"no kernel", `[{type: conv1d_transpose, filters: 3}]`, "model.layers[0].kernel", "is required"},
		{"groups", `[{type: conv2d_transpose, filters: 3, kernel: 3, groups: 2}]`, "model.layers[0].groups", "unknown option for conv2d_transpose"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			text := "name: t\ndata: {source: builtin:digits}\nmodel: {kind: cnn, layers: " + tc.layers + "}\n"
			_, err := config.Parse("exp.yaml", []byte(text), nil, nil, models.Validate)
			var ps config.Problems
			if !errors.As(err, &ps) || len(ps) != 1 || ps[0].Key != tc.key || !strings.Contains(ps[0].Msg, tc.want) {
				t.Fatalf("problems %v, want one at %s containing %q", err, tc.key, tc.want)
			}
		})
	}
}

func TestConvTransposeInputProblems(t *testing.T) {
	tests := []struct {
		name, layers string
		input        []int
		want         string
	}{
		{"empty output", `[{type: conv2d_transpose, filters: 2, kernel: 1, padding: 1}]`, []int{1, 2, 2},
			`layer 0 (conv2d_transpose "conv2d_transpose1"): the output would be 0×0: input (1, 2, 2), kernel 1×1, stride 1×1, padding [1], output_padding 0×0; lower the padding`},
		{"negative output in 1-D", `[{type: conv1d_transpose, filters: 2, kernel: 2, padding: 3}]`, []int{1, 2},
			"the output would be -3: input (1, 2), kernel 2, stride 1, padding [3]"},
		{"flat input", `[{type: conv2d_transpose, filters: 2, kernel: 2}]`, []int{16},
			"conv2d_transpose needs a (channels, height, width) input, got (16)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build(t, "{kind: cnn, layers: "+tc.layers+"}", tc.input, nil)
			var ps config.Problems
			if !errors.As(err, &ps) || !errors.Is(err, config.ErrInvalid) {
				t.Fatalf("error %v (%T), want config problems", err, err)
			}
			if len(ps) != 1 || ps[0].Key != "model.layers[0]" || !strings.Contains(ps[0].Error(), tc.want) {
				t.Fatalf("problems %v, want one at model.layers[0] containing %q", ps, tc.want)
			}
		})
	}
}
