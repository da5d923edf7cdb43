package data

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEncodeRecordsReproducesSplits: the saved preprocessing, reapplied to
// the raw test rows, gives the test split bit for bit.
func TestEncodeRecordsReproducesSplits(t *testing.T) {
	for _, extra := range []string{
		"  preprocess: {scale: standard}\n  clean: {missing: median}\n",
		"  preprocess: {scale: minmax, encoding: index}\n  clean: {missing: mean, constant: drop}\n",
	} {
		path, _ := filepath.Abs(repoFile("testdata", "penguins", "penguins.csv"))
		cfg := "name: t\ndata:\n  source: csv:" + path + "\n  label: species\n  categorical: [island, sex]\n" + extra
		ds, _ := mustLoad(t, cfg, nil)
		f, _ := os.Open(path)
		rows, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		var records []map[string]string
		for _, line := range ds.Test.Lines {
			rec := map[string]string{}
			for j, h := range rows[0] {
				rec[h] = rows[line-1][j]
			}
			records = append(records, rec)
		}
		x, err := ds.Meta.EncodeRecords(records)
		if err != nil {
			t.Fatal(err)
		}
		if !sameBits(x, ds.Test.X) {
			t.Errorf("%s: reapplied preprocessing differs from the test split", strings.TrimSpace(extra))
		}
	}
	im, lb := digitsIDX(20)
	ds, _, err := loadBytes(t, strings.Replace(idxConfig, "scale: none", "scale: standard, per_channel: true", 1), map[string][]byte{"images.idx": im, "labels.idx": lb})
	if err != nil {
		t.Fatal(err)
	}
	var raw []float32 // the test entries' pixels, as in the file
	for _, e := range ds.Test.Lines {
		for j := 0; j < 6; j++ {
			raw = append(raw, float32(((e-1)*6+j)%251))
		}
	}
	if err := ds.Meta.ScaleInputs(raw); err != nil || !sameBits(raw, ds.Test.X) {
		t.Errorf("ScaleInputs does not reproduce the test split: %v", err)
	}
}
