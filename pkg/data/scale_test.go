package data

import (
	"bufio"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// The scale of item 6: a 60,000 × 784 dataset (MNIST's training set size),
// generated here rather than committed.
const scaleN, scaleW = 60000, 784

// writeScaleIDX writes a synthetic MNIST-sized pair of raw IDX files into
// dir, streaming, and returns a config using them.
func writeScaleIDX(tb testing.TB, dir string) string {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	write := func(name string, dims []int, fill func(w *bufio.Writer)) {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			tb.Fatal(err)
		}
		w := bufio.NewWriter(f)
		w.Write([]byte{0, 0, 0x08, byte(len(dims))})
		for _, d := range dims {
			binary.Write(w, binary.BigEndian, uint32(d))
		}
		fill(w)
		if err := w.Flush(); err != nil {
			tb.Fatal(err)
		}
		f.Close()
	}
	labels := make([]byte, scaleN)
	for i := range labels {
		labels[i] = byte(rng.IntN(10))
	}
	write("images.idx", []int{scaleN, 28, 28}, func(w *bufio.Writer) {
		for i := 0; i < scaleN; i++ {
			for j := 0; j < scaleW; j++ {
				// A blob whose place depends on the label, plus noise.
				v := rng.IntN(64)
				if (j/28)/3 == int(labels[i]) || (j%28)/3 == int(labels[i]) {
					v += 160
				}
				w.WriteByte(byte(v))
			}
		}
	})
	write("labels.idx", []int{scaleN}, func(w *bufio.Writer) { w.Write(labels) })
	return `name: scale
data:
  source: idx:images.idx,labels.idx
  preprocess: {scale: minmax, per_channel: true}
  split: {train: 0.8, val: 0.1, test: 0.1}
`
}

// peakRSS returns the process's peak resident memory (VmHWM) in MB, and
// reset starts a new peak (Linux only; elsewhere both do nothing).
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return float64(kb) / 1024
		}
	}
	return 0
}

func resetPeakRSS() {
	runtime.GC()
	debug.FreeOSMemory()
	os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// BenchmarkScale measures preparing, writing and loading a 60,000 × 784
// dataset (188 MB as float32): ns/op, and the peak resident memory of the
// process during the operation. The README quotes its figures.
//
//	go test ./pkg/data -run '^$' -bench Scale -benchtime 3x
func BenchmarkScale(b *testing.B) {
	dir := b.TempDir()
	cfg := writeScaleIDX(b, dir)
	exp, err := experiment(b, dir, cfg)
	if err != nil {
		b.Fatal(err)
	}
	prep := filepath.Join(dir, "prepared")
	dataMB := float64(scaleN*scaleW*4) / 1e6
	run := func(name string, f func() error) {
		b.Run(name, func(b *testing.B) {
			var peak float64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				resetPeakRSS()
				b.StartTimer()
				if err := f(); err != nil {
					b.Fatal(err)
				}
				peak = max(peak, peakRSS())
			}
			b.ReportMetric(peak, "peak-MB")
			b.ReportMetric(peak/dataMB, "peak/data")
		})
	}
	run("load-in-memory", func() error { _, _, err := Load(exp); return err })
	run("prepare-and-write", func() error { _, _, _, err := Prepare(b.Context(), exp, prep); return err })
	run("read-prepared", func() error { _, _, err := ReadPrepared(prep); return err })
	run("open-up-to-date", func() error { _, _, err := Open(withPrepared(exp, prep)); return err })
}

func withPrepared(exp *config.Experiment, dir string) *config.Experiment {
	e := *exp
	e.Data.Prepared = dir
	return &e
}

// TestWriteScaleData writes the synthetic 60,000 × 784 dataset and its
// config to $DLTRAIN_SCALE_DIR, to measure the command line on it:
//
//	DLTRAIN_SCALE_DIR=/tmp/scale go test ./pkg/data -run WriteScaleData
//	/usr/bin/time -v dltrain prepare --config /tmp/scale/scale.yaml
//	/usr/bin/time -v dltrain prepare --config /tmp/scale/scale-csv.yaml
func TestWriteScaleData(t *testing.T) {
	dir := os.Getenv("DLTRAIN_SCALE_DIR")
	if dir == "" {
		t.Skip("set DLTRAIN_SCALE_DIR to write the scale dataset there")
	}
	os.MkdirAll(dir, 0o755)
	cfg := writeScaleIDX(t, dir)
	cfg += "model:\n  layers:\n    - {type: flatten}\n    - {type: dense, units: 128, activation: relu}\n    - {type: dense, units: 10}\ntrain: {epochs: 1, batch_size: 64}\n"
	if err := os.WriteFile(filepath.Join(dir, "scale.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	csvCfg := strings.Replace(cfg, "source: idx:images.idx,labels.idx", "source: csv:scale.csv\n  label: label", 1)
	csvCfg = strings.Replace(csvCfg, "preprocess: {scale: minmax, per_channel: true}", "preprocess: {scale: minmax}", 1)
	csvCfg = strings.Replace(csvCfg, "    - {type: flatten}\n", "", 1)
	writeScaleCSV(t, dir)
	if err := os.WriteFile(filepath.Join(dir, "scale-csv.yaml"), []byte(csvCfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeScaleCSV writes the values of the IDX pair in dir as scale.csv: a
// header p0 … p783, label, then one row per image (the CSV rows of the
// README's scale table).
func writeScaleCSV(t *testing.T, dir string) {
	t.Helper()
	images, err := os.ReadFile(filepath.Join(dir, "images.idx"))
	if err != nil {
		t.Fatal(err)
	}
	labels, err := os.ReadFile(filepath.Join(dir, "labels.idx"))
	if err != nil {
		t.Fatal(err)
	}
	images, labels = images[16:], labels[8:] // past the magic and the dimensions
	f, err := os.Create(filepath.Join(dir, "scale.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	for j := 0; j < scaleW; j++ {
		w.WriteString("p" + strconv.Itoa(j) + ",")
	}
	w.WriteString("label\n")
	for i := 0; i < scaleN; i++ {
		for _, v := range images[i*scaleW : (i+1)*scaleW] {
			w.WriteString(strconv.Itoa(int(v)))
			w.WriteByte(',')
		}
		w.WriteString(strconv.Itoa(int(labels[i])))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}
