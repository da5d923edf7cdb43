package data

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// conditionalSources: every source a conditional GAN can train on, with
// the classes its labels are read as.
func conditionalSources(t *testing.T) []struct {
	name, data string
	classes    []string
} {
	return []struct {
		name, data string
		classes    []string
	}{
		{"idx", "source: idx:" + absRepoFile(t, "testdata", "mnist", "train-images-idx3-ubyte.gz") + "," + absRepoFile(t, "testdata", "mnist", "train-labels-idx1-ubyte.gz") +
			"\n  shape: [784]", []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
		{"builtin", "source: builtin:digits", []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}},
		{"npy", "source: npy:" + absRepoFile(t, "testdata", "npy", "iris-x.npy") + "," + absRepoFile(t, "testdata", "npy", "iris-y.npy"), []string{"0", "1", "2"}},
		{"csv", "source: csv:" + absRepoFile(t, "testdata", "penguins", "penguins.csv") + "\n  label: species\n  features: [bill_length_mm, bill_depth_mm]\n  clean: {missing: drop}",
			[]string{"Adelie", "Chinstrap", "Gentoo"}},
	}
}

// absRepoFile is repoFile made absolute, for configs written elsewhere.
func absRepoFile(t *testing.T, parts ...string) string {
	p, err := filepath.Abs(repoFile(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestConditionalGenerationKeepsClasses: with model.conditional, a
// generation task keeps each sample's class as its target (the class
// index a classification of the same source reads, sample for sample)
// and names the classes; without, the target is the input and no class
// is kept.
func TestConditionalGenerationKeepsClasses(t *testing.T) {
	for _, src := range conditionalSources(t) {
		t.Run(src.name, func(t *testing.T) {
			split := "\n  split: {train: 1.0, val: 0.0, test: 0.0}\n"
			cond, _ := mustLoad(t, "name: t\ndata:\n  "+src.data+"\n  task: generation"+split+"model: {kind: gan, conditional: true}\n", nil)
			// Unconditional, a label column would be refused as unused.
			plain, _ := mustLoad(t, "name: t\ndata:\n  "+strings.Replace(src.data, "\n  label: species", "", 1)+"\n  task: generation"+split+"model: {kind: gan}\n", nil)
			class, _ := mustLoad(t, "name: t\ndata:\n  "+src.data+"\n  task: classification"+split, nil)
			if !cond.Conditional || len(cond.Target) != 0 || !slices.Equal(cond.Classes, src.classes) {
				t.Errorf("conditional meta: conditional %v, target %v, classes %v; want classes %v", cond.Conditional, cond.Target, cond.Classes, src.classes)
			}
			if cond.SelfTarget() || !plain.SelfTarget() {
				t.Errorf("SelfTarget: conditional %v, unconditional %v", cond.SelfTarget(), plain.SelfTarget())
			}
			if !sameBits(cond.Train.X, plain.Train.X) || !sameBits(cond.Train.Y, class.Train.Y) || !slices.Equal(cond.Train.Lines, class.Train.Lines) {
				t.Error("the conditional data are not the unconditional inputs with the classification's labels")
			}
			if plain.Conditional || plain.Classes != nil || !sameBits(plain.Train.Y, plain.Train.X) {
				t.Errorf("unconditional: conditional %v, classes %v, Y is X %v", plain.Conditional, plain.Classes, sameBits(plain.Train.Y, plain.Train.X))
			}
		})
	}
}

// TestConditionalGenerationPrepared: a prepared conditional dataset
// stores the labels and reads back the same data and meta; the
// conditional and unconditional datasets of one data section have
// different fingerprints (each is stale for the other), and the
// unconditional fingerprint is what it was before conditional GANs (so
// that the datasets prepared then are still up to date).
func TestConditionalGenerationPrepared(t *testing.T) {
	dir := t.TempDir()
	yaml := "name: t\ndata:\n  source: builtin:digits\n  task: generation\n  split: {train: 1.0, val: 0.0, test: 0.0}\n  prepared: " + filepath.Join(dir, "prep") + "\nmodel: {kind: gan, conditional: true}\n"
	exp, err := experiment(t, dir, yaml)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, m, err := Prepare(t.Context(), exp, PreparedDir(exp))
	if err != nil {
		t.Fatal(err)
	}
	back, _, err := ReadPrepared(PreparedDir(exp))
	if err != nil {
		t.Fatal(err)
	}
	sameDataset(t, ds, back)
	if !back.Conditional || len(back.Classes) != 10 || m.Splits[0].Y == "" {
		t.Errorf("read back: conditional %v, classes %v, labels file %q", back.Conditional, back.Classes, m.Splits[0].Y)
	}
	plain, err := experiment(t, dir, strings.Replace(yaml, "conditional: true", "conditional: false", 1))
	if err != nil {
		t.Fatal(err)
	}
	if why, _ := Staleness(plain, m); !strings.Contains(why, "fingerprint") {
		t.Errorf("the unconditional experiment finds the conditional dataset up to date: %q", why)
	}
	d := plain.Data
	d.Prepared, d.Source = "", portableSource(d.Source)
	b, _ := json.Marshal(struct {
		Format int
		Seed   uint64
		Data   config.Data
	}{FormatVersion, plain.Seed, d})
	sum := sha256.Sum256(b)
	if Fingerprint(plain) != hex.EncodeToString(sum[:]) {
		t.Error("the fingerprint of an unconditional experiment changed")
	}
}

// TestConditionalGenerationWithoutLabels: a conditional GAN on a source
// without a class per sample is a problem naming data.source and
// model.conditional, and what to give.
func TestConditionalGenerationWithoutLabels(t *testing.T) {
	for _, tc := range []struct {
		name, data string
		want       []string
	}{
		{"idx images alone", "source: idx:images.idx", []string{"data.source", "model.conditional", "idx:IMAGES,LABELS"}},
		{"npy inputs alone", "source: npy:x.npy", []string{"data.source", "model.conditional", "npy:X.npy,Y.npy"}},
		{"csv without label", "source: csv:t.csv", []string{"data.source", "model.conditional", "data.label"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := experiment(t, t.TempDir(), "name: t\ndata:\n  "+tc.data+"\n  task: generation\nmodel: {kind: gan, conditional: true}\n")
			wantBadData(t, err, tc.want...)
		})
	}
}
