package models_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/models"
)

// outputs builds a cnn of layers over input and returns each layer's
// output shape and parameter count, as the summary shows them.
func outputs(t *testing.T, layers string, input []int) []string {
	t.Helper()
	m, err := build(t, "{kind: cnn, layers: "+layers+"}", input, nil)
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, l := range models.Summarize("cnn", m).Layers {
		rows = append(rows, fmt.Sprintf("%s %v %d", l.Type, l.Output, l.Params))
	}
	return rows
}

func TestUpsampleShapes(t *testing.T) {
	tests := []struct {
		name, layers string
		input        []int
		want         string
	}{
		{"default scale 2", `[{type: upsample2d}]`, []int{3, 4, 5}, "upsample2d (3, 8, 10) 0"},
		{"one factor", `[{type: upsample2d, scale: 3}]`, []int{1, 2, 2}, "upsample2d (1, 6, 6) 0"},
		{"per axis", `[{type: upsample2d, scale: [1, 4], mode: nearest}]`, []int{2, 3, 2}, "upsample2d (2, 3, 8) 0"},
		{"1-D", `[{type: upsample1d, scale: 3}]`, []int{2, 5}, "upsample1d (2, 15) 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := outputs(t, tc.layers, tc.input); len(got) != 1 || got[0] != tc.want {
				t.Errorf("rows %q, want %q", got, tc.want)
			}
		})
	}
}

// The convolutional autoencoder's decoder shape: pooling down to 2×2 and
// upsampling back to the 8×8 digits.
func TestUpsampleReturnsToThePooledSize(t *testing.T) {
	got := outputs(t, `[{type: conv2d, filters: 4, kernel: 3, padding: same, activation: relu}, {type: maxpool2d, size: 2},
	  {type: conv2d, filters: 2, kernel: 3, padding: same, activation: relu}, {type: maxpool2d, size: 2},
	  {type: upsample2d, scale: 2}, {type: conv2d, filters: 4, kernel: 3, padding: same, activation: relu},
	  {type: upsample2d, scale: 2}, {type: conv2d, filters: 1, kernel: 3, padding: same, activation: sigmoid}]`, []int{1, 8, 8})
	want := []string{"conv2d (4, 8, 8) 40", "maxpool2d (4, 4, 4) 0", "conv2d (2, 4, 4) 74", "maxpool2d (2, 2, 2) 0",
		"upsample2d (2, 4, 4) 0", "conv2d (4, 4, 4) 76", "upsample2d (4, 8, 8) 0", "conv2d (1, 8, 8) 37"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Option problems are found when the config is loaded.
func TestUpsampleOptionProblems(t *testing.T) {
	tests := []struct {
		name, layers string
		key, want    string
	}{
		{"zero scale", `[{type: upsample2d, scale: 0}]`, "model.layers[0].scale", "must be >= 1"},
		{"three factors", `[{type: upsample2d, scale: [2, 2, 2]}]`, "model.layers[0].scale", "give one value or 2"},
		{"two factors in 1-D", `[{type: upsample1d, scale: [2, 2]}]`, "model.layers[0].scale", "give one value or 1"},
		{"bilinear", `[{type: upsample2d, mode: bilinear}]`, "model.layers[0].mode", `must be one of nearest, got "bilinear"`},
		{"unknown option", `[{type: upsample2d, size: 2}]`, "model.layers[0].size", "its options are: mode, name, scale"},
		{"init", `[{type: upsample2d, init: zeros}]`, "model.layers[0].init", "has no weights"},
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

// An input the layer cannot take is a config problem naming the layer and
// the shape.
func TestUpsampleInputProblems(t *testing.T) {
	tests := []struct {
		name, layers string
		input        []int
		want         string
	}{
		{"flat input", `[{type: upsample2d}]`, []int{16},
			`layer 0 (upsample2d "upsample2d1"): upsample2d needs a (channels, height, width) input, got (16)`},
		{"image into 1-D", `[{type: upsample1d}]`, []int{1, 4, 4}, "upsample1d needs a (channels, length) input, got (1, 4, 4)"},
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
