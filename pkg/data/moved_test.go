package data

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// copyTree copies the regular files under src to dst, as moving a
// checkout does.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestMovedCheckoutKeepsPreparedData (issue 16, item 13): a prepared
// dataset made in one checkout is up to date in a copy of that checkout
// elsewhere (same files, other absolute paths): Open reuses it instead of
// rebuilding, describes the source where it now is, and gives the samples
// and checksum a fresh load gives.
func TestMovedCheckoutKeepsPreparedData(t *testing.T) {
	images := make([]byte, 40*4)
	labels := make([]byte, 40)
	for i := range labels {
		images[4*i], images[4*i+1] = byte(i), byte(3*i)
		labels[i] = byte(i % 4)
	}
	for _, tc := range []struct {
		name, config string
		files        map[string]string
	}{
		{"csv", tableConfig + "  prepared: prep\n", map[string]string{"data/d.csv": tableCSV(80, 7)}},
		{"idx", "name: t\ndata:\n  source: idx:data/x.idx,data/y.idx\n  prepared: prep\n",
			map[string]string{"data/x.idx": string(idxBytes([]int{40, 2, 2}, images)), "data/y.idx": string(idxBytes([]int{40}, labels))}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := strings.Replace(tc.config, "csv:d.csv", "csv:data/d.csv", 1)
			a := filepath.Join(t.TempDir(), "checkout")
			writeFiles(t, a, tc.files)
			expA, err := experiment(t, a, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if _, _, _, err := Prepare(t.Context(), expA, PreparedDir(expA)); err != nil {
				t.Fatal(err)
			}
			b := filepath.Join(t.TempDir(), "elsewhere", "checkout")
			copyTree(t, a, b)
			if err := os.RemoveAll(a); err != nil {
				t.Fatal(err)
			}
			expB, err := config.Load(filepath.Join(b, "exp.yaml"), nil)
			if err != nil {
				t.Fatal(err)
			}
			ds, rep, err := Open(expB)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(rep.Notes[0], "using the prepared dataset") {
				t.Errorf("the moved prepared dataset was not reused: %q", rep.Notes[0])
			}
			if notes := strings.Join(rep.Notes, "\n"); strings.Contains(notes, a) {
				t.Errorf("the notes name the checkout's old place, %s:\n%s", a, notes)
			}
			mem, _, err := Load(expB)
			if err != nil {
				t.Fatal(err)
			}
			sameDataset(t, ds, mem)
			if ds.SHA256 != mem.SHA256 || ds.Source != expB.Data.Source || !strings.HasPrefix(ds.Files[0].Path, b) {
				t.Errorf("reused dataset: sha256 %s (fresh %s), source %s, files %v; want them where the checkout now is, %s", ds.SHA256, mem.SHA256, ds.Source, ds.Files, b)
			}
		})
	}
	// A checkpoint made before: the checksum of several files hashed their
	// full paths. It still matches while they have not moved.
	ds, _ := mustLoad(t, "name: t\ndata:\n  source: idx:x.idx,y.idx\n", map[string]string{
		"x.idx": string(idxBytes([]int{40, 2, 2}, images)), "y.idx": string(idxBytes([]int{40}, labels))})
	h := sha256.New()
	for _, f := range ds.Files {
		fmt.Fprintf(h, "%s  %s\n", f.SHA256, f.Path)
	}
	if legacy := hex.EncodeToString(h.Sum(nil)); legacy == ds.SHA256 || !ds.SameSource(legacy) || !ds.SameSource(ds.SHA256) || ds.SameSource(ds.Files[0].SHA256) {
		t.Errorf("SameSource: legacy %s, now %s", legacy, ds.SHA256)
	}
}
