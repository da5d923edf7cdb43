package run

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
)

// testLines reads the run's assignment.csv: the source line (or entry) of
// every test-split sample, or its file for an image folder.
func testLines(t *testing.T, dir string) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "assignment.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, r := range rows[1:] {
		if r[0] == "test" {
			out[r[2]] = true
			if r[3] != "" {
				out[r[3]] = true // an image's file, relative to the folder
			}
		}
	}
	return out
}

// TestPredictReproducesTheTestSplit: predicting on the raw source file
// with the saved preprocessing (median imputation, one-hot categories,
// standard scaling) gives, on the rows of the test split, exactly the
// accuracy eval reports on the prepared test split.
func TestPredictReproducesTheTestSplit(t *testing.T) {
	for _, c := range []struct {
		config, input string
		truth         func(t *testing.T, ref string) string
	}{
		{"penguins-mlp.yaml", "../../testdata/penguins/penguins.csv", penguinSpecies(t)},
		{"iris-npy-mlp.yaml", "../../testdata/npy/iris-x.npy", irisClasses(t)},
	} {
		t.Run(c.config, func(t *testing.T) {
			res, err := Train(context.Background(), TrainOptions{Config: "../../configs/" + c.config, Out: t.TempDir(), Sets: []string{"train.epochs=8"}})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Eval(context.Background(), EvalOptions{Run: res.Dir, Split: "test"})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			preds, err := Predict(context.Background(), PredictOptions{Run: res.Dir, Input: c.input, Stdout: &out})
			if err != nil {
				t.Fatal(err)
			}
			lines := testLines(t, res.Dir)
			n, correct := 0, 0
			for _, p := range preds {
				ref := p.Input[strings.LastIndex(p.Input, " ")+1:]
				if !lines[ref] {
					continue
				}
				n++
				if p.Predicted == c.truth(t, ref) {
					correct++
				}
				var sum float64
				for _, v := range p.Probabilities {
					sum += v
				}
				if sum < 0.999999 || sum > 1.000001 {
					t.Errorf("%s: probabilities sum to %v", p.Input, sum)
				}
			}
			acc := rep.Classification.Accuracy
			if n != rep.Classification.N || float64(correct)/float64(n) != acc {
				t.Errorf("predict on the test rows: %d/%d correct; eval: accuracy %v on %d", correct, n, acc, rep.Classification.N)
			}
			if got := strings.Count(out.String(), "\n"); got != len(preds)+1 {
				t.Errorf("CSV has %d lines for %d predictions", got, len(preds))
			}
		})
	}
}

// TestPredictImagesReproducesTheTestSplit: the same for an image folder,
// predicting one class folder at a time.
func TestPredictImagesReproducesTheTestSplit(t *testing.T) {
	res, err := Train(context.Background(), TrainOptions{Config: "../../configs/mnist-images-mlp.yaml", Out: t.TempDir(), Sets: []string{"train.epochs=3"}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Eval(context.Background(), EvalOptions{Run: res.Dir, Split: "test"})
	if err != nil {
		t.Fatal(err)
	}
	names := testLines(t, res.Dir)
	n, correct := 0, 0
	for d := range 10 {
		class := strconv.Itoa(d)
		preds, err := Predict(context.Background(), PredictOptions{Run: res.Dir, Input: "../../testdata/images/mnist-png/" + class})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range preds {
			if names[class+"/"+p.Input] {
				n++
				if p.Predicted == class {
					correct++
				}
			}
		}
	}
	if acc := rep.Classification.Accuracy; n != rep.Classification.N || float64(correct)/float64(n) != acc {
		t.Errorf("predict on the test images: %d/%d correct; eval: accuracy %v on %d", correct, n, acc, rep.Classification.N)
	}
}

// penguinSpecies maps a line of penguins.csv to its species.
func penguinSpecies(t *testing.T) func(*testing.T, string) string {
	b, err := os.ReadFile("../../testdata/penguins/penguins.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	return func(t *testing.T, ref string) string {
		i, _ := strconv.Atoi(ref)
		return strings.Split(lines[i-1], ",")[0]
	}
}

// irisClasses maps an entry of iris-y.npy to its class name.
func irisClasses(t *testing.T) func(*testing.T, string) string {
	_, y, err := data.ReadNpy("../../testdata/npy/iris-y.npy")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"setosa", "versicolor", "virginica"}
	return func(t *testing.T, ref string) string {
		i, _ := strconv.Atoi(ref)
		return names[int(y[i-1])]
	}
}

// TestPredictBadInput: a missing feature column names the file, the line
// and the columns; a corpus source says predict does not support it yet.
func TestPredictBadInput(t *testing.T) {
	res, err := Train(context.Background(), TrainOptions{Config: "../../configs/iris-mlp.yaml", Out: t.TempDir(), Sets: []string{"train.epochs=1"}})
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "new.csv")
	os.WriteFile(in, []byte("sepal_length,sepal_width,petal_width\n5.1,3.5,0.2\n"), 0o644)
	_, err = Predict(context.Background(), PredictOptions{Run: res.Dir, Input: in})
	if !errors.Is(err, data.ErrBadData) || !strings.Contains(err.Error(), in+":1") || !strings.Contains(err.Error(), `no column "petal_length"`) {
		t.Errorf("missing column: %v", err)
	}
	os.WriteFile(in, []byte("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,x,0.2\n"), 0o644)
	_, err = Predict(context.Background(), PredictOptions{Run: res.Dir, Input: in})
	if !errors.Is(err, data.ErrBadData) || !strings.Contains(err.Error(), in+":2:9") {
		t.Errorf("non-numeric cell: %v", err)
	}
	_, err = Predict(context.Background(), PredictOptions{Run: t.TempDir(), Input: in})
	if !errors.Is(err, config.ErrInvalid) {
		t.Errorf("not a run directory: %v", err)
	}

	lm, err := Train(context.Background(), TrainOptions{Config: "../../configs/opticks-char-lm.yaml", Out: t.TempDir(), Sets: []string{"train.epochs=1"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Predict(context.Background(), PredictOptions{Run: lm.Dir, Input: in})
	if !errors.Is(err, data.ErrBadData) || !strings.Contains(err.Error(), "dltrain sample --run RUN --prompt TEXT") {
		t.Errorf("language model: %v", err)
	}
}

// TestPredictArraysWithDroppedConstants: a run that dropped the pixels
// constant on its training split takes raw images as they come (28×28)
// and predicts the preset test set with eval's accuracy.
func TestPredictArraysWithDroppedConstants(t *testing.T) {
	res, err := Train(context.Background(), TrainOptions{Config: "../../configs/mnist-idx-mlp.yaml", Out: t.TempDir(),
		Sets: []string{"train.epochs=2", "data.clean.constant=drop", "data.preprocess.per_channel=false"}})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Eval(context.Background(), EvalOptions{Run: res.Dir, Split: "test"})
	if err != nil {
		t.Fatal(err)
	}
	preds, err := Predict(context.Background(), PredictOptions{Run: res.Dir, Input: "../../testdata/mnist/t10k-images-idx3-ubyte.gz"})
	if err != nil {
		t.Fatal(err)
	}
	labels := idxLabels(t, "../../testdata/mnist/t10k-labels-idx1-ubyte.gz")
	if len(preds) != len(labels) || len(preds) != rep.Classification.N {
		t.Fatalf("%d predictions, %d labels, eval on %d samples", len(preds), len(labels), rep.Classification.N)
	}
	correct := 0
	for i, p := range preds {
		if p.Predicted == strconv.Itoa(int(labels[i])) {
			correct++
		}
	}
	if acc := float64(correct) / float64(len(preds)); acc != rep.Classification.Accuracy {
		t.Errorf("predict: accuracy %v; eval: %v", acc, rep.Classification.Accuracy)
	}
}

// idxLabels reads a gzipped IDX labels file.
func idxLabels(t *testing.T, path string) []byte {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b[8:]
}

// TestPredictNonFiniteAndOutput: a value beyond float32 is missing, as in
// training: refused at its line and column without imputation, filled and
// noted with it; a binary file for a table run, and an --output that
// cannot be written, are exit-2 errors.
func TestPredictNonFiniteAndOutput(t *testing.T) {
	res, err := Train(context.Background(), TrainOptions{Config: "../../configs/iris-mlp.yaml", Out: t.TempDir(), Sets: []string{"train.epochs=1"}})
	if err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(t.TempDir(), "new.csv")
	os.WriteFile(in, []byte("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n5.1,1e39,1.4,0.2\n"), 0o644)
	_, err = Predict(context.Background(), PredictOptions{Run: res.Dir, Input: in})
	if !errors.Is(err, data.ErrBadData) || !strings.Contains(err.Error(), in+":3:5") || !strings.Contains(err.Error(), "not finite") {
		t.Errorf("1e39 without imputation: %v", err)
	}
	_, err = Predict(context.Background(), PredictOptions{Run: res.Dir, Input: "../../testdata/npy/iris-x.npy"})
	if !errors.Is(err, data.ErrBadData) || !strings.Contains(err.Error(), "is not text") {
		t.Errorf("a .npy file for a table run: %v", err)
	}
	os.WriteFile(in, []byte("sepal_length,sepal_width,petal_length,petal_width\n5.1,3.5,1.4,0.2\n"), 0o644)
	for _, out := range []string{t.TempDir(), "/nonexistent/dir/preds.csv"} {
		_, err = Predict(context.Background(), PredictOptions{Run: res.Dir, Input: in, Output: out})
		if !errors.Is(err, config.ErrInvalid) || !strings.Contains(err.Error(), "--output "+out) {
			t.Errorf("--output %s: %v", out, err)
		}
	}

	pen, err := Train(context.Background(), TrainOptions{Config: "../../configs/penguins-mlp.yaml", Out: t.TempDir(), Sets: []string{"train.epochs=1"}})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(in, []byte("island,bill_length_mm,bill_depth_mm,flipper_length_mm,body_mass_g,sex,year\nAtlantis,1e39,18.7,181,3750,male,2007\n"), 0o644)
	var notes []string
	preds, err := Predict(context.Background(), PredictOptions{Run: pen.Dir, Input: in, Logf: func(f string, a ...any) { notes = append(notes, fmt.Sprintf(f, a...)) }})
	if err != nil || len(preds) != 1 {
		t.Fatalf("%v %v", preds, err)
	}
	if got := strings.Join(notes, "\n"); !strings.Contains(got, "line 2 bill_length_mm") || !strings.Contains(got, "line 2 island=Atlantis") {
		t.Errorf("notes:\n%s", got)
	}
}

// TestPredictOutputThroughLinksAndDevices: --output through a symbolic
// link writes the file it points to (the link stays); a named pipe (as
// /dev/stdout can be) is written, never replaced by a regular file.
func TestPredictOutputThroughLinksAndDevices(t *testing.T) {
	dir := t.TempDir()
	link, target := filepath.Join(dir, "link.csv"), filepath.Join(dir, "target.csv")
	if err := os.Symlink("target.csv", link); err != nil {
		t.Skip("no symbolic links here")
	}
	if err := writeOutput(link, []byte("a\n")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi, err)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "a\n" {
		t.Errorf("target: %q %v", b, err)
	}
	fifo := filepath.Join(dir, "pipe")
	if err := mkfifo(fifo); err != nil {
		t.Skipf("no named pipes here: %v", err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	if err := writeOutput(fifo, []byte("b\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-got:
		if s != "b\n" {
			t.Errorf("read %q from the pipe", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("nothing was written to the pipe")
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the pipe was replaced: %v %v", fi, err)
	}
}
