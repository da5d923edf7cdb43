package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRecurrentBadInputExits2: a recurrent layer fed 1-D samples (the
// iris features), a bad recurrent option and an embedding fed real
// values (the standardized iris features) exit 2 before training, naming
// the config file, key path, layer and shapes or the offending value.
func TestRecurrentBadInputExits2(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ layers, want string }{
		{"[{type: lstm, units: 4}, {type: dense, units: 3}]",
			`rnn.yaml:3:18: model.layers[0]: layer 0 (lstm "lstm1"): lstm needs a sequence input [time, features], got (4)`},
		{"[{type: gru, units: 4, layers: 0}, {type: dense, units: 3}]",
			"model.layers[0].layers: must be >= 1 (stacked layers), got 0"},
		{"[{type: embedding, dim: 4, vocab: 10}, {type: lstm, units: 4}, {type: dense, units: 3}]",
			"rnn.yaml:3:44: model.layers[0].vocab: the embedding reads token ids in [0, 10) (vocab 10), but builtin:iris:"},
		{"[{type: embedding, dim: 4, vocab: 10}, {type: lstm, units: 4}, {type: dense, units: 3}]",
			"of shape (4), position 0) holds -1.0828856, which is not an integer"},
	} {
		cfg := writeFile(t, dir, "rnn.yaml", "name: rnn\ndata: {source: builtin:iris}\nmodel: {layers: "+c.layers+"}\n")
		code, _, stderr := dltrain(t, "train", "--config", cfg, "--out", filepath.Join(dir, "runs"))
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, c.want)
		}
	}
}
