package data

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// TestExampleConfigsPrepare (acceptance): every example config's data
// loads, and its prepared dataset reads back bit for bit.
func TestExampleConfigsPrepare(t *testing.T) {
	paths, _ := filepath.Glob(repoFile("configs", "*.yaml"))
	if len(paths) < 8 {
		t.Fatalf("found %d example configs", len(paths))
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			exp, err := config.Load(path, nil)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "p")
			ds, _, m, err := Prepare(exp, dir)
			if err != nil {
				t.Fatal(err)
			}
			back, m2, err := ReadPrepared(dir)
			if err != nil {
				t.Fatal(err)
			}
			sameDataset(t, ds, back)
			if why, err := Staleness(exp, m2); why != "" || err != nil {
				t.Errorf("fresh dataset is stale: %q %v", why, err)
			}
			if m.Fingerprint != Fingerprint(exp) || len(m.Sources) == 0 || m.Meta.SHA256 == "" {
				t.Errorf("manifest %+v", m)
			}
		})
	}
}

// copyCSV writes a small CSV and a config using it into a fresh directory.
func preparedFixture(t *testing.T) (*config.Experiment, string) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"d.csv": tableCSV(80, 7)})
	exp, err := experiment(t, dir, tableConfig+"  prepared: prep\n")
	if err != nil {
		t.Fatal(err)
	}
	return exp, dir
}

// TestStalePrepared: a changed source file or data section makes the
// prepared dataset stale; Open rebuilds it and says so, and a corrupt
// tensor file is refused, never used.
func TestStalePrepared(t *testing.T) {
	exp, dir := preparedFixture(t)
	prep := filepath.Join(dir, "prep")
	if PreparedDir(exp) != prep {
		t.Fatalf("PreparedDir %s", PreparedDir(exp))
	}
	if _, _, _, err := Prepare(exp, prep); err != nil {
		t.Fatal(err)
	}
	ds, rep, err := Open(exp)
	if err != nil || !strings.HasPrefix(rep.Notes[0], "using the prepared dataset") {
		t.Fatalf("open: %v %q", err, rep.Notes)
	}
	mem, _, _ := Load(exp)
	sameDataset(t, ds, mem)

	m, _ := ReadManifest(prep)
	changed := *exp
	changed.Data.Split.Test = 0.2
	changed.Data.Split.Train = 0.65
	if why, _ := Staleness(&changed, m); !strings.Contains(why, "the data section of the config or the seed changed") {
		t.Errorf("changed split: %q", why)
	}
	reseeded := *exp
	reseeded.Seed = 99
	if why, _ := Staleness(&reseeded, m); why == "" {
		t.Error("a new seed is not stale")
	}
	where := *exp
	where.Data.Prepared = "/elsewhere"
	if why, _ := Staleness(&where, m); why != "" {
		t.Errorf("data.prepared is part of the fingerprint: %q", why)
	}

	os.WriteFile(filepath.Join(dir, "d.csv"), []byte(tableCSV(80, 8)), 0o644)
	why, err := Staleness(exp, m)
	if err != nil || !strings.Contains(why, "d.csv changed (sha256") {
		t.Errorf("changed source: %q %v", why, err)
	}
	ds, rep, err = Open(exp)
	if err != nil || !strings.Contains(rep.Notes[0], "was stale") || !strings.Contains(rep.Notes[0], "rebuilt it") {
		t.Fatalf("stale open: %v %q", err, rep.Notes)
	}
	mem, _, _ = Load(exp)
	sameDataset(t, ds, mem)
	if m2, _ := ReadManifest(prep); m2.Sources[0].SHA256 == m.Sources[0].SHA256 {
		t.Error("the prepared dataset was not rebuilt")
	}

	x := filepath.Join(prep, "train-x.npy")
	b, _ := os.ReadFile(x)
	b[len(b)-1] ^= 1
	os.WriteFile(x, b, 0o644)
	_, _, err = Open(exp)
	wantBadData(t, err, "train-x.npy is corrupt", "run dltrain prepare again")
}

// TestPrepareAtomic: a write that fails part-way leaves the previous
// prepared dataset whole (or none), and no temporary directory behind.
func TestPrepareAtomic(t *testing.T) {
	exp, dir := preparedFixture(t)
	prep := filepath.Join(dir, "prep")
	fail := errors.New("disk full")
	defer func() { testHookAfterWrite = nil }()
	for _, after := range []string{"train-x.npy", "test-y.npy", AssignmentFile, ManifestFile} {
		testHookAfterWrite = func(name string) error {
			if name == after {
				return fail
			}
			return nil
		}
		if _, _, _, err := Prepare(exp, prep); !errors.Is(err, fail) {
			t.Fatalf("crash after %s: %v", after, err)
		}
		if _, err := os.Stat(prep); !os.IsNotExist(err) {
			t.Fatalf("crash after %s left %s", after, prep)
		}
	}
	testHookAfterWrite = nil
	_, _, first, err := Prepare(exp, prep)
	if err != nil {
		t.Fatal(err)
	}
	testHookAfterWrite = func(name string) error {
		if name == "val-x.npy" {
			return fail
		}
		return nil
	}
	exp.Seed = 5
	if _, _, _, err := Prepare(exp, prep); !errors.Is(err, fail) {
		t.Fatal(err)
	}
	if m, err := ReadManifest(prep); err != nil || m.Fingerprint != first.Fingerprint {
		t.Errorf("the previous dataset was damaged: %v", err)
	}
	if _, _, err := ReadPrepared(prep); err != nil {
		t.Errorf("the previous dataset does not read: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left %s behind", e.Name())
		}
	}
	testHookAfterWrite = nil
	// A directory that is not a prepared dataset is never replaced.
	other := filepath.Join(dir, "mine")
	writeFiles(t, other, map[string]string{"precious.txt": "keep me"})
	_, _, _, err = Prepare(exp, other)
	wantBadData(t, err, "is not a prepared dataset")
}

// TestGatherAllocs: gathering a batch allocates nothing, whatever the
// dataset's size.
func TestGatherAllocs(t *testing.T) {
	const n, w = 5000, 784
	src := make([]float32, n*w)
	idx := Order(n, 1, 0)[:64]
	dst32 := make([]float32, 64*w)
	dst64 := make([]float64, 64*w)
	if a := testing.AllocsPerRun(100, func() { Gather(dst32, src, w, idx) }); a != 0 {
		t.Errorf("Gather float32: %v allocations per batch", a)
	}
	if a := testing.AllocsPerRun(100, func() { Gather(dst64, src, w, idx) }); a != 0 {
		t.Errorf("Gather float64: %v allocations per batch", a)
	}
}
