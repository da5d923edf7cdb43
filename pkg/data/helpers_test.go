package data

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// experiment parses a config written in dir (as dir/exp.yaml), so that
// relative data paths resolve against dir.
func experiment(t testing.TB, dir, yaml string) (*config.Experiment, error) {
	t.Helper()
	path := filepath.Join(dir, "exp.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return config.Parse(path, []byte(yaml), nil, nil, Validate)
}

// writeFiles writes name -> contents under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// load writes files into a fresh directory, parses the config there and
// loads its data.
func load(t *testing.T, yaml string, files map[string]string) (*Dataset, *Report, error) {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, files)
	exp, err := experiment(t, dir, yaml)
	if err != nil {
		return nil, nil, err
	}
	return Load(exp)
}

// mustLoad is load that fails the test on an error.
func mustLoad(t *testing.T, yaml string, files map[string]string) (*Dataset, *Report) {
	t.Helper()
	ds, rep, err := load(t, yaml, files)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return ds, rep
}

// wantBadData checks that err is a data error (exit code 2) whose message
// holds every fragment.
func wantBadData(t *testing.T, err error, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one holding %q", fragments)
	}
	if !errors.Is(err, ErrBadData) && !errors.Is(err, config.ErrInvalid) {
		t.Errorf("error %q wraps neither ErrBadData nor config.ErrInvalid", err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error %q does not hold %q", err, f)
		}
	}
}

// sameDataset compares two datasets bit for bit (NaN included); empty and
// nil slices are equal.
func sameDataset(t *testing.T, a, b *Dataset) {
	t.Helper()
	if !reflect.DeepEqual(normMeta(a.Meta), normMeta(b.Meta)) {
		t.Errorf("meta differs:\n%+v\n%+v", a.Meta, b.Meta)
	}
	for i, s := range a.Splits() {
		o := b.Splits()[i]
		if s.N != o.N || !sameBits(s.X, o.X) || !sameBits(s.Y, o.Y) || !slices.Equal(s.Lines, o.Lines) ||
			!slices.Equal(s.Names, o.Names) || !slices.Equal(s.Folds, o.Folds) {
			t.Errorf("split %s differs (N %d vs %d)", s.Name, s.N, o.N)
		}
	}
}

func normMeta(m Meta) Meta {
	if len(m.Target) == 0 {
		m.Target = nil
	}
	return m
}

func sameBits(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// repoFile is the path of a file of the repository, from this package.
func repoFile(parts ...string) string {
	return filepath.Join(append([]string{"..", ".."}, parts...)...)
}
