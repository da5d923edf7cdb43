package data

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

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
			exp, err := config.Load(path, nil, Validate)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "p")
			ds, _, m, err := Prepare(t.Context(), exp, dir)
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
	if _, _, _, err := Prepare(t.Context(), exp, prep); err != nil {
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
		if _, _, _, err := Prepare(t.Context(), exp, prep); !errors.Is(err, fail) {
			t.Fatalf("crash after %s: %v", after, err)
		}
		if _, err := os.Stat(prep); !os.IsNotExist(err) {
			t.Fatalf("crash after %s left %s", after, prep)
		}
		// Nor the directories made for a target that did not exist.
		deep := filepath.Join(dir, "new", "deeper", "prep")
		if _, _, _, err := Prepare(t.Context(), exp, deep); !errors.Is(err, fail) {
			t.Fatalf("crash after %s: %v", after, err)
		}
		if _, err := os.Stat(filepath.Join(dir, "new")); !os.IsNotExist(err) {
			t.Fatalf("crash after %s left %s", after, filepath.Join(dir, "new"))
		}
	}
	testHookAfterWrite = nil
	_, _, first, err := Prepare(t.Context(), exp, prep)
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
	if _, _, _, err := Prepare(t.Context(), exp, prep); !errors.Is(err, fail) {
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
	_, _, _, err = Prepare(t.Context(), exp, other)
	wantBadData(t, err, "not a prepared dataset: "+other, "has no manifest.json")
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

// TestPrepareRefusesWhatIsNotAPreparedDataset: only an empty directory or
// a prepared dataset (a dltrain manifest and nothing but the files one
// writes) is ever replaced; anything else is refused untouched, whether
// prepare writes there or Open finds it stale.
func TestPrepareRefusesWhatIsNotAPreparedDataset(t *testing.T) {
	exp, dir := preparedFixture(t)
	good := filepath.Join(dir, "good")
	if _, _, _, err := Prepare(t.Context(), exp, good); err != nil {
		t.Fatal(err)
	}
	goodFiles, _ := os.ReadDir(good)
	copyGood := func(t *testing.T, to string) {
		for _, e := range goodFiles {
			b, _ := os.ReadFile(filepath.Join(good, e.Name()))
			writeFiles(t, to, map[string]string{e.Name(): string(b)})
		}
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, p string)
		want  string // "" when the path may be replaced
	}{
		{"absent", func(*testing.T, string) {}, ""},
		{"empty directory", func(t *testing.T, p string) { os.Mkdir(p, 0o755) }, ""},
		{"prepared dataset", copyGood, ""},
		{"regular file", func(t *testing.T, p string) { os.WriteFile(p, []byte("keep me"), 0o644) }, "it is a file, not a directory"},
		{"symbolic link", func(t *testing.T, p string) { os.Symlink(good, p) }, "it is a symbolic link"},
		{"folder without manifest", func(t *testing.T, p string) {
			writeFiles(t, p, map[string]string{"notes.txt": "keep me"})
		}, "has no manifest.json"},
		{"unrelated manifest", func(t *testing.T, p string) {
			writeFiles(t, p, map[string]string{ManifestFile: `{"name":"x"}`, "notes.txt": "keep me"})
		}, "is not a dltrain manifest: it has no format version"},
		{"manifest not JSON", func(t *testing.T, p string) {
			writeFiles(t, p, map[string]string{ManifestFile: "name: x\n"})
		}, "is not a dltrain manifest"},
		{"prepared dataset plus a user's file", func(t *testing.T, p string) {
			copyGood(t, p)
			writeFiles(t, p, map[string]string{"notes.txt": "keep me"})
		}, "it also holds notes.txt"},
		{"prepared dataset plus a folder", func(t *testing.T, p string) {
			copyGood(t, p)
			writeFiles(t, p, map[string]string{"runs/a.txt": "keep me"})
		}, "it also holds runs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "target")
			tc.setup(t, p)
			before := snapshot(t, p)
			_, _, _, err := Prepare(t.Context(), exp, p)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if _, _, err := ReadPrepared(p); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantBadData(t, err, "not a prepared dataset: "+p, tc.want)
			if after := snapshot(t, p); after != before {
				t.Errorf("%s changed:\n%s\nnow\n%s", p, before, after)
			}
			// Open finds it as the data.prepared of a changed config: it
			// is refused, never rebuilt.
			e := *exp
			e.Data.Prepared, e.Seed = p, exp.Seed+1
			if _, _, err := Open(&e); tc.name != "folder without manifest" {
				wantBadData(t, err, "not a prepared dataset: "+p)
			}
			if after := snapshot(t, p); after != before {
				t.Errorf("Open changed %s:\n%s\nnow\n%s", p, before, after)
			}
		})
	}
}

// snapshot lists a path's files with their contents (a link as its
// target), to compare before and after.
func snapshot(t *testing.T, root string) string {
	t.Helper()
	var b strings.Builder
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		fmt.Fprintf(&b, "%s %v", p, d.Type())
		if d.Type()&os.ModeSymlink != 0 {
			l, _ := os.Readlink(p)
			fmt.Fprintf(&b, " -> %s", l)
		} else if d.Type().IsRegular() {
			c, _ := os.ReadFile(p)
			fmt.Fprintf(&b, " %x", sha256.Sum256(c))
		}
		b.WriteString("\n")
		return nil
	})
	return b.String()
}

// TestPrepareStopsWhenCancelled: a cancelled context stops Prepare before
// its next file; it removes its temporary directory and leaves the
// previous dataset as it was.
func TestPrepareStopsWhenCancelled(t *testing.T) {
	exp, dir := preparedFixture(t)
	prep := filepath.Join(dir, "prep")
	_, _, first, err := Prepare(t.Context(), exp, prep)
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, prep)
	defer func() { testHookAfterWrite = nil }()
	for _, after := range []string{"", "train-x.npy", AssignmentFile, ManifestFile} {
		t.Run("after "+after, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			if after == "" {
				cancel()
			}
			var written []string
			testHookAfterWrite = func(name string) error {
				written = append(written, name)
				if name == after {
					cancel()
				}
				return nil
			}
			exp.Seed++ // a new dataset would replace the old one
			_, _, _, err := Prepare(ctx, exp, prep)
			if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "preparing "+prep+" stopped") {
				t.Fatalf("err %v", err)
			}
			if len(written) > 0 && written[len(written)-1] != after {
				t.Errorf("wrote %v after the cancel", written)
			}
			if m, err := ReadManifest(prep); err != nil || m.Fingerprint != first.Fingerprint || snapshot(t, prep) != before {
				t.Errorf("the previous dataset changed: %v", err)
			}
			if temps, _ := filepath.Glob(filepath.Join(dir, ".prep.tmp-*")); len(temps) > 0 {
				t.Errorf("left %v", temps)
			}
		})
	}
}

// TestPrepareSweepsStaleTemps: Prepare removes the temporary directories
// an interrupted prepare of the same target left (named exactly so and
// holding only prepared-dataset files), and nothing else: not another
// target's, not a user's look-alike, not a running prepare's.
func TestPrepareSweepsStaleTemps(t *testing.T) {
	exp, dir := preparedFixture(t)
	prep := filepath.Join(dir, "prep")
	stale := []string{".prep.tmp-123", ".prep.tmp-4567.old", ".prep.tmp-89"}
	kept := []string{".prep.tmp-abc", ".prep.tmp-", ".prep.tmp-1x", ".prep.tmp-55", ".prep.tmp-66.bak", ".prepx.tmp-1", "prep.tmp-7", ".other.tmp-3"}
	for _, name := range stale {
		writeFiles(t, filepath.Join(dir, name), map[string]string{"train-x.npy": "partial"})
	}
	os.Mkdir(filepath.Join(dir, ".prep.tmp-89"), 0o700) // empty: killed at once
	for _, name := range kept {
		writeFiles(t, filepath.Join(dir, name), map[string]string{"train-x.npy": "partial"})
	}
	writeFiles(t, filepath.Join(dir, ".prep.tmp-55"), map[string]string{"notes.txt": "a user's"})
	os.WriteFile(filepath.Join(dir, ".prep.tmp-77"), []byte("a file"), 0o644)
	kept = append(kept, ".prep.tmp-77")
	// Old enough for the sweep where there is no flock.
	hoursAgo := time.Now().Add(-2 * time.Hour)
	for _, name := range append(slices.Clone(stale), kept...) {
		os.Chtimes(filepath.Join(dir, name), hoursAgo, hoursAgo)
	}
	if haveLocks {
		// A prepare of the same target running in parallel.
		running := filepath.Join(dir, ".prep.tmp-999")
		writeFiles(t, running, map[string]string{"train-x.npy": "being written"})
		release, ok, err := lockDir(running)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		defer release()
		kept = append(kept, ".prep.tmp-999")
	}
	_, rep, _, err := Prepare(t.Context(), exp, prep)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range stale {
		if _, err := os.Lstat(filepath.Join(dir, name)); !os.IsNotExist(err) {
			t.Errorf("%s was not removed", name)
		}
	}
	for _, name := range kept {
		if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s was removed", name)
		}
	}
	if want := "removed 3 temporary folders left by an interrupted prepare: .prep.tmp-123, .prep.tmp-4567.old, .prep.tmp-89"; rep.Notes[0] != want {
		t.Errorf("note %q, want %q", rep.Notes[0], want)
	}
	if m, _ := ReadManifest(prep); slices.ContainsFunc(m.Notes, func(n string) bool { return strings.Contains(n, "temporary") }) {
		t.Error("the sweep is recorded in the manifest's data notes")
	}
}

// TestOpenReadOnly: OpenReadOnly (eval's) uses an up-to-date prepared
// dataset, but never rebuilds a stale one (a run of another seed): it
// prepares in memory, says so, and leaves every file as it was.
func TestOpenReadOnly(t *testing.T) {
	exp, dir := preparedFixture(t)
	prep := filepath.Join(dir, "prep")
	if _, _, _, err := Prepare(t.Context(), exp, prep); err != nil {
		t.Fatal(err)
	}
	if _, rep, err := OpenReadOnly(exp); err != nil || !strings.HasPrefix(rep.Notes[0], "using the prepared dataset") {
		t.Fatalf("up to date: %v %q", err, rep.Notes)
	}
	snapshot := func() string {
		var b strings.Builder
		filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			info, _ := d.Info()
			fmt.Fprintf(&b, "%s %d %v\n", path, info.Size(), info.ModTime())
			if !d.IsDir() {
				sum, _ := os.ReadFile(path)
				fmt.Fprintf(&b, "%x\n", sha256.Sum256(sum))
			}
			return nil
		})
		return b.String()
	}
	before := snapshot()
	other := *exp
	other.Seed = 2
	ds, rep, err := OpenReadOnly(&other)
	if err != nil || !strings.Contains(rep.Notes[0], "is stale") || !strings.Contains(rep.Notes[0], "prepared the data in memory instead") {
		t.Fatalf("stale: %v %q", err, rep.Notes)
	}
	mem, _, _ := Load(&other)
	sameDataset(t, ds, mem)
	if after := snapshot(); after != before {
		t.Errorf("OpenReadOnly wrote:\n%s\nthen:\n%s", after, before)
	}
	if m, _ := ReadManifest(prep); m.Seed != exp.Seed {
		t.Errorf("the prepared dataset was rebuilt with seed %d", m.Seed)
	}
}
