package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLanguageModelCLI: the char LSTM config trains (one epoch) and
// `dltrain sample` prints the prompt and its continuation, the same for
// the same seed; predict on it exits 2 pointing to sample; units: auto on
// a layer other than the last, and sample on a run that is not a language
// model, exit 2 naming what is wrong.
func TestLanguageModelCLI(t *testing.T) {
	tmp := t.TempDir()
	code, _, stderr := runCLI(t, "train", "--config", filepath.Join("..", "..", "configs", "opticks-char-lstm.yaml"), "--out", tmp,
		"--set", "train.epochs=1", "--set", "data.prepared="+filepath.Join(tmp, "none"))
	if code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	run := onlyRunUnder(t, tmp)
	args := []string{"sample", "--run", run, "--prompt", "Of colours ", "--length", "50", "--seed", "3"}
	code, out, stderr := runCLI(t, args...)
	_, again, _ := runCLI(t, args...)
	if code != 0 || !strings.HasPrefix(out, "Of colours ") || out != again {
		t.Errorf("sample: exit %d %q then %q\n%s", code, out, again, stderr)
	}

	text := filepath.Join(tmp, "prompt.txt")
	os.WriteFile(text, []byte("Of colours "), 0o644)
	code, _, stderr = runCLI(t, "predict", "--run", run, "--input", text)
	if code != 2 || !strings.Contains(stderr, "dltrain sample --run RUN --prompt TEXT") {
		t.Errorf("predict on a language model: exit %d\n%s", code, stderr)
	}

	cfg := filepath.Join(tmp, "auto.yaml")
	os.WriteFile(cfg, []byte("name: t\ndata: {source: builtin:iris}\nmodel: {layers: [{type: dense, units: auto}, {type: dense, units: 3}]}\n"), 0o644)
	code, _, stderr = runCLI(t, "train", "--config", cfg, "--out", filepath.Join(tmp, "runs"))
	if code != 2 || !strings.Contains(stderr, "auto.yaml:3:") || !strings.Contains(stderr, "model.layers[0].units: auto") {
		t.Errorf("units: auto not last: exit %d\n%s", code, stderr)
	}
	iris := filepath.Join(tmp, "iris")
	if code, _, stderr = runCLI(t, "train", "--config", filepath.Join("..", "..", "configs", "iris-mlp.yaml"), "--out", iris, "--set", "train.epochs=1"); code != 0 {
		t.Fatalf("iris: exit %d\n%s", code, stderr)
	}
	code, _, stderr = runCLI(t, "sample", "--run", onlyRunUnder(t, iris))
	if code != 2 || !strings.Contains(stderr, "sample needs a language model") {
		t.Errorf("sample on iris: exit %d\n%s", code, stderr)
	}
}
