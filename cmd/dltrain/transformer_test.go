package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestTransformerBadInputExits2: heads that do not divide the model
// dimension, a sequence longer than a learned position table, a flat
// input and a bad option exit 2 before training, naming the config file,
// line, key path, layer and shapes.
func TestTransformerBadInputExits2(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ data, layers, want string }{
		{"{source: builtin:digits, shape: [8, 8]}", "[{type: transformer_encoder, heads: 3, ff: 8}, {type: sequence_pool}, {type: dense, units: 10}]",
			`tf.yaml:3:18: model.layers[0]: layer 0 (transformer_encoder "transformer_encoder1"): transformer_encoder: heads 3 do not divide the dimension 8 of its input (8, 8)`},
		{"{source: builtin:digits, shape: [8, 8]}", "[{type: positional, kind: learned, max_length: 4}, {type: sequence_pool}, {type: dense, units: 10}]",
			"model.layers[0]: layer 0 (positional \"positional1\"): positional: the sequence has 8 positions, more than max_length 4 (input (8, 8))"},
		{"{source: builtin:iris}", "[{type: multihead_attention, heads: 2}, {type: dense, units: 3}]",
			"multihead_attention needs a sequence [time, dim], got (4)"},
		{"{source: builtin:digits, shape: [8, 8]}", "[{type: transformer_encoder, heads: 2, ff: 8, norm: sandwich}]",
			`tf.yaml:3:63: model.layers[0].norm: must be one of post, pre, got "sandwich"`},
	} {
		cfg := writeFile(t, dir, "tf.yaml", "name: tf\ndata: "+c.data+"\nmodel: {layers: "+c.layers+"}\n")
		code, _, stderr := dltrain(t, "train", "--config", cfg, "--out", filepath.Join(dir, "runs"))
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, c.want)
		}
	}
}
