package main

import (
	"bytes"
	bin "encoding/binary"
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
