package run

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
)

// writeIDX writes an uncompressed IDX file of unsigned bytes.
func writeIDX(t *testing.T, path string, dims []int, values []byte) {
	t.Helper()
	b := []byte{0, 0, 0x08, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, uint32(d))
	}
	if err := os.WriteFile(path, append(b, values...), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestStrayLabelIsNamedFirst (issue 16, item 6): one label beyond the
// classes the model's last layer gives (class 7 in a 3-class file; an IDX
// label of 200 among ten digits) is named by file, line or entry and
// value before the advice about the last layer, which alone would have the
// user grow the model to fit a typo.
func TestStrayLabelIsNamedFirst(t *testing.T) {
	dir := t.TempDir()
	var csv strings.Builder
	csv.WriteString("a,b,label\n")
	for i := range 30 {
		y := i % 3
		if i == 12 {
			y = 7 // line 14
		}
		fmt.Fprintf(&csv, "%d,%d,%d\n", i, 30-i, y)
	}
	if err := os.WriteFile(filepath.Join(dir, "d.csv"), []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := strings.NewReplacer(",7\n", ",1\n", ",2\n", ",0\n").Replace(csv.String()) // classes 0 and 1 ...
	bin = strings.Replace(bin, "3,27,0\n", "3,27,2\n", 1)                            // ... and one stray 2, line 5
	if err := os.WriteFile(filepath.Join(dir, "b.csv"), []byte(bin), 0o644); err != nil {
		t.Fatal(err)
	}
	images := make([]byte, 40*4)
	labels := make([]byte, 40)
	for i := range labels {
		images[4*i] = byte(i)
		labels[i] = byte(i % 10)
	}
	labels[6] = 200 // entry 7
	writeIDX(t, filepath.Join(dir, "images.idx"), []int{40, 2, 2}, images)
	writeIDX(t, filepath.Join(dir, "labels.idx"), []int{40}, labels)

	for _, tc := range []struct {
		name, source, layers string
		where                []string // in order: the place and value, then the advice
	}{
		{"csv", "csv:d.csv", "{type: dense, units: 3}", []string{filepath.Join(dir, "d.csv") + ":14", "class label 7", "1 sample", "make the last layer produce (8)"}},
		{"idx", "idx:images.idx,labels.idx", "{type: flatten}, {type: dense, units: 10}", []string{filepath.Join(dir, "labels.idx") + ": entry 7", "class label 200", "make the last layer produce (201)"}},
		{"binary", "csv:b.csv", "{type: dense, units: 1}", []string{filepath.Join(dir, "b.csv") + ":5", "class label 2 is beyond the 2 classes of a binary cross-entropy", "1 sample of 30", "binary_cross_entropy needs exactly 2 classes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(dir, tc.name+".yaml")
			text := "name: stray\ndata: {source: \"" + tc.source + "\", label: label, split: {stratify: false}}\nmodel: {layers: [" + tc.layers + "]}\n"
			switch tc.name {
			case "idx":
				text = strings.Replace(text, " label: label,", "", 1)
			case "binary":
				text += "train: {loss: binary_cross_entropy}\n"
			}
			if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Train(context.Background(), TrainOptions{Config: cfg, Out: filepath.Join(dir, "runs")})
			if err == nil {
				t.Fatal("trained")
			}
			if !errors.Is(err, data.ErrBadData) && !errors.Is(err, config.ErrInvalid) {
				t.Errorf("not a data or config error: %v", err)
			}
			msg, at := err.Error(), 0
			for _, w := range tc.where {
				i := strings.Index(msg[at:], w)
				if i < 0 {
					t.Fatalf("error lacks %q after byte %d:\n%s", w, at, msg)
				}
				at += i + len(w)
			}
		})
	}
}
