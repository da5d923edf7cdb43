package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestRecurrentBadInputExits2: a recurrent layer fed 1-D samples (the
// iris features), a bad recurrent option, an embedding fed real values
// (the standardized iris features) and an embedding fed ids beyond its
// vocab (a text column's) exit 2 before training, naming the config
// file, key path, layer and shapes or the offending value.
func TestRecurrentBadInputExits2(t *testing.T) {
	dir := t.TempDir()
	texts := writeFile(t, dir, "texts.csv", "text,label\nhello there,x\nbye now,y\nhi,x\nso long friend,y\nhey you,x\n"+
		"see ya,y\nhowdy,x\nfarewell all,y\nyo,x\nciao,y\n")
	const iris = "{source: builtin:iris}"
	textData := "{source: 'csv:" + texts + "', text_column: text, label: label, text: {tokens: char}, split: {train: 0.6, val: 0.2, test: 0.2}}"
	for _, c := range []struct{ data, layers, want string }{
		{iris, "[{type: lstm, units: 4}, {type: dense, units: 3}]",
			`rnn.yaml:3:18: model.layers[0]: layer 0 (lstm "lstm1"): lstm needs a sequence input [time, features], got (4)`},
		{iris, "[{type: gru, units: 4, layers: 0}, {type: dense, units: 3}]",
			"model.layers[0].layers: must be >= 1 (stacked layers), got 0"},
		{iris, "[{type: embedding, dim: 4, vocab: 10}, {type: lstm, units: 4}, {type: dense, units: 3}]",
			"rnn.yaml:3:44: model.layers[0].vocab: the embedding reads token ids in [0, 10) (vocab 10), but builtin:iris:"},
		{iris, "[{type: embedding, dim: 4, vocab: 10}, {type: lstm, units: 4}, {type: dense, units: 3}]",
			"of shape (4), position 0) holds -1.0828856, which is not an integer"},
		{textData, "[{type: embedding, dim: 4, vocab: 3}, {type: lstm, units: 4}, {type: dense, units: auto}]",
			"rnn.yaml:3:44: model.layers[0].vocab: the embedding reads token ids in [0, 3) (vocab 3), but " + texts + ":3 " +
				"(the train split's sample 1 of shape (14), position 0) holds 4, which is not an id in [0, 3); the data's vocabulary has 20 ids"},
	} {
		cfg := writeFile(t, dir, "rnn.yaml", "name: rnn\ndata: "+c.data+"\nmodel: {layers: "+c.layers+"}\n")
		code, _, stderr := dltrain(t, "train", "--config", cfg, "--out", filepath.Join(dir, "runs"))
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, c.want)
		}
	}
}
