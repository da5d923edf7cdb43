package main

import (
	"bytes"
	bin "encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// floatIDX writes an IDX file of float32 values (type 0x0D).
func floatIDX(t *testing.T, path string, dims []int, vals []float32) {
	t.Helper()
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x0D, byte(len(dims))})
	for _, d := range dims {
		bin.Write(&b, bin.BigEndian, uint32(d))
	}
	bin.Write(&b, bin.BigEndian, vals)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// noRunLeft fails when out holds a run directory of name.
func noRunLeft(t *testing.T, out, name string) {
	t.Helper()
	if runs, _ := filepath.Glob(filepath.Join(out, name, "*")); len(runs) > 0 {
		t.Errorf("a run that never started left %v", runs)
	}
}

// TestNaNInAFloatIDXFileFollowsTheMissingPolicy: a NaN in a float IDX
// file is a missing value: with data.clean.missing: error it exits 2
// naming the file and the entry, leaving no run directory; with mean it
// is filled and the run trains.
func TestNaNInAFloatIDXFileFollowsTheMissingPolicy(t *testing.T) {
	dir := t.TempDir()
	n := 40
	px := make([]float32, n*4)
	labels := make([]byte, n)
	for i := range px {
		px[i] = float32(i%9) / 9
	}
	px[6*4+2] = float32(math.NaN()) // entry 7
	for i := range labels {
		labels[i] = byte(i % 2)
	}
	floatIDX(t, filepath.Join(dir, "x.idx"), []int{n, 2, 2}, px)
	lb := append([]byte{0, 0, 0x08, 1, 0, 0, 0, byte(n)}, labels...)
	writeFile(t, dir, "y.idx", string(lb))
	cfg := writeFile(t, dir, "idx.yaml", `name: nan-idx
data: {source: "idx:x.idx,y.idx"}
model: {layers: [{type: flatten}, {type: dense, units: 2}]}
train: {epochs: 1, batch_size: 8}
`)
	out := filepath.Join(dir, "runs")
	code, _, stderr := dltrain(t, "train", "--config", cfg, "--out", out)
	if code != 2 || !strings.Contains(stderr, filepath.Join(dir, "x.idx")) || !strings.Contains(stderr, "entry 7") || !strings.Contains(stderr, "data.clean.missing") {
		t.Errorf("exit %d, want 2 naming x.idx, entry 7 and data.clean.missing:\n%s", code, stderr)
	}
	noRunLeft(t, out, "nan-idx")
	if code, _, stderr := dltrain(t, "train", "--config", cfg, "--out", out, "--set", "data.clean.missing=mean"); code != 0 {
		t.Errorf("missing: mean: exit %d\n%s", code, stderr)
	}
}

// TestARunThatNeverStartedLeavesNoDirectory: values so large that the
// first loss overflows stop the run before its first checkpoint (exit 3);
// the run directory, which holds nothing to resume, is removed.
func TestARunThatNeverStartedLeavesNoDirectory(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("a,b,y\n")
	for i := range 20 {
		csv.WriteString(strings.Repeat("3e37,", 2) + string(rune('0'+i%10)) + "\n")
	}
	writeFile(t, dir, "big.csv", csv.String())
	cfg := writeFile(t, dir, "big.yaml", `name: huge
data: {source: "csv:big.csv", label: y, task: regression, preprocess: {scale: none}}
model: {layers: [{type: dense, units: 1}]}
train: {epochs: 1, loss: mse}
`)
	out := filepath.Join(dir, "runs")
	code, _, stderr := dltrain(t, "train", "--config", cfg, "--out", out)
	if code != 3 || !strings.Contains(stderr, "removed the run directory") {
		t.Errorf("exit %d, want 3 and a note that the run directory was removed:\n%s", code, stderr)
	}
	noRunLeft(t, out, "huge")
}

// tinyPNG encodes a w×h gray PNG; with claim set, its header is patched
// to claim claim×claim pixels (checksum recomputed): 68 bytes that
// decoding would take for 40 GB of pixels.
func tinyPNG(t *testing.T, w, h int, base uint8, claim int) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = base + uint8(i*7)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	out := b.Bytes()
	if claim > 0 {
		bin.BigEndian.PutUint32(out[16:], uint32(claim))
		bin.BigEndian.PutUint32(out[20:], uint32(claim))
		bin.BigEndian.PutUint32(out[29:], crc32.ChecksumIEEE(out[12:29]))
	}
	return out
}

// TestImageClaimingAbsurdSizeExits2: a 68-byte PNG whose header claims
// 200000×200000 pixels, in a training folder or given to predict, exits 2
// naming the file, without trying to decode it.
func TestImageClaimingAbsurdSizeExits2(t *testing.T) {
	dir := t.TempDir()
	for c := range 2 {
		for i := range 6 {
			p := filepath.Join(dir, "img", fmt.Sprint(c), fmt.Sprintf("%d.png", i))
			os.MkdirAll(filepath.Dir(p), 0o755)
			os.WriteFile(p, tinyPNG(t, 4, 4, uint8(100*c+i), 0), 0o644)
		}
	}
	cfg := writeFile(t, dir, "img.yaml", `name: img
data: {source: "images:img", split: {train: 0.5, val: 0.25, test: 0.25}}
model: {layers: [{type: flatten}, {type: dense, units: 2}]}
train: {epochs: 1, batch_size: 4}
`)
	out := filepath.Join(dir, "runs")
	if code, _, stderr := dltrain(t, "train", "--config", cfg, "--out", out); code != 0 {
		t.Fatalf("train: exit %d\n%s", code, stderr)
	}
	huge := filepath.Join(dir, "huge.png")
	os.WriteFile(huge, tinyPNG(t, 1, 1, 0, 200000), 0o644)
	code, _, stderr := dltrain(t, "predict", "--run", onlyRun(t, out, "img"), "--input", huge)
	if code != 2 || !strings.Contains(stderr, huge) || !strings.Contains(stderr, "200000×200000") {
		t.Errorf("predict: exit %d, want 2 naming %s and its size:\n%s", code, huge, stderr)
	}
	inFolder := filepath.Join(dir, "img", "1", "huge.png")
	os.Rename(huge, inFolder)
	code, _, stderr = dltrain(t, "train", "--config", cfg, "--out", filepath.Join(dir, "runs2"))
	if code != 2 || !strings.Contains(stderr, inFolder) || !strings.Contains(stderr, "200000×200000") {
		t.Errorf("train: exit %d, want 2 naming %s and its size:\n%s", code, inFolder, stderr)
	}
}

// TestModelTooLargeForMemoryExits2: a layer of 10^12 units is refused by
// train and summary before any tensor is allocated, with exit 2 naming the
// layer, and no stack trace; before, both died out of memory.
func TestModelTooLargeForMemoryExits2(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "big.yaml", `name: big
data: {source: "builtin:iris"}
model:
  layers:
    - {type: dense, units: 16, activation: tanh}
    - {type: dense, units: 1000000000000, activation: tanh}
    - {type: dense, units: 3}
train: {epochs: 1, batch_size: 16}
`)
	// Integer class labels: a model error there is explained by looking at
	// the model's output (labels beyond it), which must not build it.
	var csv strings.Builder
	csv.WriteString("a,b,c,d,y\n")
	for i := range 30 {
		fmt.Fprintf(&csv, "%d,%d,%d,%d,%d\n", i, i%7, i%5, i%3, i%3)
	}
	writeFile(t, dir, "ints.csv", csv.String())
	cfgInts := writeFile(t, dir, "ints.yaml", strings.Replace(strings.Replace(string(mustRead(t, cfg)), `"builtin:iris"`, `"csv:ints.csv", label: y`, 1), "name: big", "name: ints", 1))
	out := filepath.Join(dir, "runs")
	for _, args := range [][]string{{"train", "--config", cfg, "--out", out}, {"summary", "--config", cfg}, {"train", "--config", cfgInts, "--out", out}} {
		code, _, stderr := dltrain(t, args...)
		if code != 2 || !strings.Contains(stderr, ".yaml:6:7: model.layers[1]") || !strings.Contains(stderr, "dense2") ||
			!strings.Contains(stderr, "memory") || strings.Contains(stderr, "goroutine") {
			t.Errorf("%v: exit %d, want 2 naming model.layers[1] (dense2) and the memory:\n%s", args, code, stderr)
		}
	}
	noRunLeft(t, out, "big")
}

// TestMaxMemoryLimitsTheModel: train.max_memory refuses a model whose
// estimate exceeds it, naming the largest layer and the key; a limit the
// model fits in trains.
func TestMaxMemoryLimitsTheModel(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, dir, "wide.yaml", `name: wide
data: {source: "builtin:iris"}
model:
  layers:
    - {type: dense, units: 8, activation: tanh}
    - {type: dense, units: 20000, activation: tanh}
    - {type: dense, units: 3}
train: {epochs: 1, batch_size: 16, max_memory: 1MB}
`)
	out := filepath.Join(dir, "runs")
	code, _, stderr := dltrain(t, "train", "--config", cfg, "--out", out)
	if code != 2 || !strings.Contains(stderr, "model.layers[1]") || !strings.Contains(stderr, "dense2") || !strings.Contains(stderr, "train.max_memory (1MB") {
		t.Errorf("exit %d, want 2 naming model.layers[1] (dense2) and train.max_memory:\n%s", code, stderr)
	}
	noRunLeft(t, out, "wide")
	if code, _, stderr := dltrain(t, "train", "--config", cfg, "--out", out, "--set", "train.max_memory=1GB"); code != 0 {
		t.Errorf("max_memory 1GB: exit %d\n%s", code, stderr)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
