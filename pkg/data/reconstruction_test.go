package data

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestReconstruction loads every source kind that feeds a reconstruction
// task: the target of each sample is its own preprocessed input, the
// labels are not read as targets, and the target shape is the input's.
func TestReconstruction(t *testing.T) {
	mnist, err := filepath.Abs(repoFile("testdata", "mnist"))
	if err != nil {
		t.Fatal(err)
	}
	npy, err := filepath.Abs(repoFile("testdata", "npy"))
	if err != nil {
		t.Fatal(err)
	}
	images, labels := digitsIDX(20)
	for _, tc := range []struct {
		name, source, extra string
		input               []int
		n                   int
	}{
		{"builtin digits", "builtin:digits", "", []int{64}, 1797},
		{"builtin digits as images", "builtin:digits", "  shape: [1, 8, 8]\n", []int{1, 8, 8}, 1797},
		{"csv, every column", "csv:table.csv", "", []int{3}, 10},
		{"csv, some features", "csv:table.csv", "  features: [a, c]\n", []int{2}, 10},
		{"idx images alone", "idx:images.idx", "", []int{1, 2, 3}, 20},
		{"idx with labels", "idx:images.idx,labels.idx", "", []int{1, 2, 3}, 20},
		{"mnist sample", "idx:" + filepath.Join(mnist, "train-images-idx3-ubyte.gz"), "", []int{1, 28, 28}, 2000},
		{"npy inputs alone", "npy:" + filepath.Join(npy, "iris-x.npy"), "", []int{4}, 150},
		{"npy with labels", "npy:" + filepath.Join(npy, "iris-x.npy") + "," + filepath.Join(npy, "iris-y.npy"), "", []int{4}, 150},
		{"npz", "npz:" + filepath.Join(npy, "iris.npz"), "", []int{4}, 150},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeBytes(t, dir, map[string][]byte{"images.idx": images, "labels.idx": labels})
			var csv []byte
			for i := range 10 {
				csv = fmt.Appendf(csv, "%d,%d,%d\n", i, i*i, 3*i+1)
			}
			writeBytes(t, dir, map[string][]byte{"table.csv": append([]byte("a,b,c\n"), csv...)})
			exp, err := experiment(t, dir, fmt.Sprintf(`
name: t
data:
  source: %s
  task: reconstruction
%s  preprocess: {scale: minmax}
  split: {train: 0.6, val: 0.2, test: 0.2}
`, tc.source, tc.extra))
			if err != nil {
				t.Fatal(err)
			}
			ds, rep, err := Load(exp)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ds.Input, tc.input) || !slices.Equal(ds.Target, tc.input) || !slices.Equal(ds.ModelOutput(), tc.input) {
				t.Errorf("input %v target %v output %v; want %v for all", ds.Input, ds.Target, ds.ModelOutput(), tc.input)
			}
			if len(ds.Classes) != 0 || len(ds.Targets) != 0 {
				t.Errorf("classes %v targets %v; want none", ds.Classes, ds.Targets)
			}
			if got := ds.Train.N + ds.Val.N + ds.Test.N; got != tc.n {
				t.Errorf("%d samples, want %d", got, tc.n)
			}
			for _, s := range ds.Splits() {
				if !slices.Equal(s.X, s.Y) {
					t.Fatalf("%s: Y differs from X", s.Name)
				}
			}
			// minmax is fitted on the training split: its inputs span [0, 1].
			if lo, hi := slices.Min(ds.Train.X), slices.Max(ds.Train.X); lo != 0 || hi != 1 {
				t.Errorf("training inputs span [%v, %v], want [0, 1]", lo, hi)
			}
			if len(rep.Notes) == 0 {
				t.Error("no notes")
			}
		})
	}
}

// TestReconstructionBadConfig: a key that picks a target, or a source
// that needs labels, is a config problem naming the key.
func TestReconstructionBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"label on csv", "source: csv:t.csv\n  task: reconstruction\n  label: c", []string{"data.label", "reconstruction", `"c"`}},
		{"label on builtin", "source: builtin:digits\n  task: reconstruction\n  label: label", []string{"data.label", "no label column"}},
		{"targets", "source: csv:t.csv\n  task: reconstruction\n  targets: [a, b]", []string{"data.targets", "a, b"}},
		{"npz y", "source: npz:t.npz\n  task: reconstruction\n  arrays: {y: labels}", []string{"data.arrays.y"}},
		{"idx alone for classification", "source: idx:images.idx", []string{"data.source", "names 2 files", "only tasks reconstruction and generation need no labels"}},
		{"three npy files", "source: npy:a.npy,b.npy,c.npy\n  task: reconstruction", []string{"data.source", "got 3 files"}},
		{"images", "source: images:dir\n  task: reconstruction", []string{"data.task", "not reconstruction"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := experiment(t, t.TempDir(), "name: t\ndata:\n  "+tc.data+"\n")
			wantBadData(t, err, tc.want...)
		})
	}
}

// TestReconstructionPrepared: a prepared reconstruction dataset stores X
// once and reads it back as both inputs and targets.
func TestReconstructionPrepared(t *testing.T) {
	dir := t.TempDir()
	exp, err := experiment(t, dir, "name: t\ndata:\n  source: builtin:digits\n  task: reconstruction\n  prepared: "+filepath.Join(dir, "prep")+"\n")
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := Open(exp); err != nil { // in memory: nothing prepared yet
		t.Fatal(err)
	}
	if _, _, _, err := Prepare(t.Context(), exp, PreparedDir(exp)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(PreparedDir(exp), "train-y.npy")); !os.IsNotExist(err) {
		t.Errorf("train-y.npy written for a reconstruction (err %v)", err)
	}
	back, _, err := ReadPrepared(PreparedDir(exp))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(back.Test.X, ds.Test.X) || !slices.Equal(back.Test.Y, ds.Test.X) {
		t.Error("the prepared test split differs from the loaded one")
	}
}

// TestUnscaleInputsUndoesTheScaling: per feature and per channel, standard
// and minmax, UnscaleInputs gives back the source's values.
func TestUnscaleInputsUndoesTheScaling(t *testing.T) {
	for _, tc := range []struct{ name, extra string }{
		{"minmax per feature", "  preprocess: {scale: minmax}\n"},
		{"standard per feature", "  preprocess: {scale: standard}\n"},
		{"minmax per channel", "  shape: [1, 8, 8]\n  preprocess: {scale: minmax, per_channel: true}\n"},
		{"none", "  preprocess: {scale: none}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp, err := experiment(t, t.TempDir(), "name: t\ndata:\n  source: builtin:digits\n  task: reconstruction\n"+tc.extra)
			if err != nil {
				t.Fatal(err)
			}
			raw, _, err := Load(exp) // scaled
			if err != nil {
				t.Fatal(err)
			}
			noScale := *exp
			noScale.Data.Preprocess.Scale = "none"
			orig, _, err := Load(&noScale)
			if err != nil {
				t.Fatal(err)
			}
			back := make([]float64, len(raw.Test.X))
			for i, v := range raw.Test.X {
				back[i] = float64(v)
			}
			raw.UnscaleInputs(back)
			for i, v := range back {
				if math.Abs(v-float64(orig.Test.X[i])) > 1e-4 {
					t.Fatalf("value %d: %v back, %v in the source", i, v, orig.Test.X[i])
				}
			}
		})
	}
}
