package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAutoencoderBadInputExits2: the four mistakes of issue 11's
// acceptance each exit 2 before training, naming the key and the shapes,
// and leave no run behind.
func TestAutoencoderBadInputExits2(t *testing.T) {
	const dense = `
name: bad
data: {source: builtin:digits, task: reconstruction, preprocess: {scale: minmax}}
model:
  kind: autoencoder
  encoder: [{type: dense, units: 16}]
  decoder: [{type: dense, units: 64}]
train: {epochs: 1, loss: mse}
`
	for _, tc := range []struct {
		name, from, to string
		want           []string
	}{
		{"label column set", "task: reconstruction,", "task: reconstruction, label: label,", []string{"data.label", "no label column"}},
		{"decoder output", "units: 64}]", "units: 60}]", []string{"model.decoder", "(16)", "(60)", "(64)"}},
		{"corrupt kind", "train:", "  corrupt: {kind: blur}\ntrain:", []string{"model.corrupt.kind", `"blur"`, "gaussian, mask"}},
		{"upsampling size", "preprocess: {scale: minmax}}", "preprocess: {scale: minmax}, shape: [1, 8, 8]}",
			[]string{"model.decoder", "(1, 6, 6)", "(1, 8, 8)", "upsampling returns 6×6 images, not 8×8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := strings.Replace(dense, tc.from, tc.to, 1)
			if tc.name == "upsampling size" {
				text = strings.Replace(text, "encoder: [{type: dense, units: 16}]", "encoder: [{type: conv2d, filters: 2, kernel: 3}, {type: maxpool2d, size: 2}]", 1)
				text = strings.Replace(text, "decoder: [{type: dense, units: 64}]", "decoder: [{type: upsample2d}, {type: conv2d, filters: 1, kernel: 1}]", 1)
			}
			if text == dense {
				t.Fatal("the case changes nothing")
			}
			dir := t.TempDir()
			out := filepath.Join(dir, "runs")
			code, _, stderr := runCLI(t, "train", "--config", writeFile(t, dir, "ae.yaml", text), "--out", out)
			if code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not hold %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "epoch 1") {
				t.Errorf("stderr:\n%s", stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a run directory was created (%v)", err)
			}
		})
	}
}

// TestAutoencoderGradcheckCommand: dltrain gradcheck passes on the shipped
// denoising autoencoder.
func TestAutoencoderGradcheckCommand(t *testing.T) {
	code, stdout, stderr := runCLI(t, "gradcheck", "--config", "../../configs/digits-denoising-autoencoder.yaml", "--max-elements", "20")
	if code != 0 || !strings.Contains(stdout, "passed") || !strings.Contains(stderr, "corrupted the inputs") {
		t.Errorf("exit %d\n%s\n%s", code, stdout, stderr)
	}
}
