package data

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// idxBytes encodes an IDX file of unsigned bytes.
func idxBytes(dims []int, vals []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(vals)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// digitsIDX writes n 2×3 images with labels i%3 as images.idx/labels.idx.
func digitsIDX(n int) (images, labels []byte) {
	px := make([]byte, n*6)
	lb := make([]byte, n)
	for i := range px {
		px[i] = byte(i % 251)
	}
	for i := range lb {
		lb[i] = byte(i % 3)
	}
	return idxBytes([]int{n, 2, 3}, px), idxBytes([]int{n}, lb)
}

const idxConfig = `
name: t
data:
  source: idx:images.idx,labels.idx
  preprocess: {scale: none}
  split: {train: 0.6, val: 0.2, test: 0.2}
`

func writeBytes(t *testing.T, dir string, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func loadBytes(t *testing.T, yaml string, files map[string][]byte) (*Dataset, *Report, error) {
	t.Helper()
	dir := t.TempDir()
	writeBytes(t, dir, files)
	exp, err := experiment(t, dir, yaml)
	if err != nil {
		return nil, nil, err
	}
	return Load(exp)
}

// TestIDX reads raw and gzip IDX files into channel-first images.
func TestIDX(t *testing.T) {
	im, lb := digitsIDX(20)
	for name, files := range map[string]map[string][]byte{
		"raw":  {"images.idx": im, "labels.idx": lb},
		"gzip": {"images.idx": gz(im), "labels.idx": gz(lb)},
	} {
		t.Run(name, func(t *testing.T) {
			ds, _, err := loadBytes(t, idxConfig, files)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ds.Input, []int{1, 2, 3}) || len(ds.Classes) != 3 || ds.Train.N+ds.Val.N+ds.Test.N != 20 {
				t.Fatalf("input %v classes %v", ds.Input, ds.Classes)
			}
			// Every sample holds the pixels of its entry.
			for _, s := range ds.Splits() {
				for i, e := range s.Lines {
					if s.X[i*6] != float32(((e-1)*6)%251) || s.Y[i] != float32((e-1)%3) {
						t.Fatalf("%s sample %d (entry %d): %v, label %v", s.Name, i, e, s.X[i*6:i*6+6], s.Y[i])
					}
				}
			}
		})
	}
}

// TestIDXTestPair: with four files the second pair is the test split.
func TestIDXTestPair(t *testing.T) {
	im, lb := digitsIDX(20)
	tim, tlb := digitsIDX(7)
	cfg := strings.Replace(idxConfig, "idx:images.idx,labels.idx", "idx:images.idx,labels.idx,test-images.idx,test-labels.idx", 1)
	cfg = strings.Replace(cfg, "{train: 0.6, val: 0.2, test: 0.2}", "{train: 0.8, val: 0.2, test: 0}", 1)
	ds, _, err := loadBytes(t, cfg, map[string][]byte{"images.idx": im, "labels.idx": lb, "test-images.idx": tim, "test-labels.idx": tlb})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Test.N != 7 || ds.Train.N+ds.Val.N != 20 || !slices.Equal(ds.Test.Lines, []int{1, 2, 3, 4, 5, 6, 7}) {
		t.Errorf("test %d lines %v, train+val %d", ds.Test.N, ds.Test.Lines, ds.Train.N+ds.Val.N)
	}
	_, _, err = loadBytes(t, strings.Replace(cfg, "test: 0}", "test: 0.1}", 1), nil)
	wantBadData(t, err, "data.split.test", "must be 0 when the source names a test pair")
}

// TestIDXBadInput: bad magic, wrong dimensions, truncation and bad labels
// are refused, naming the file (and entry).
func TestIDXBadInput(t *testing.T) {
	im, lb := digitsIDX(10)
	badMagic := slices.Clone(im)
	badMagic[0] = 8
	badType := slices.Clone(im)
	badType[2] = 0x07
	badLabel := slices.Clone(lb)
	badLabel[len(badLabel)-3] = 200
	for _, tc := range []struct {
		name   string
		im, lb []byte
		config string
		want   []string
	}{
		{"bad magic", badMagic, lb, idxConfig, []string{"images.idx", "bad magic number 0x08000803: not an IDX file"}},
		{"unknown type", badType, lb, idxConfig, []string{"images.idx", "bad magic number"}},
		{"empty file", nil, lb, idxConfig, []string{"images.idx", "too short for an IDX header"}},
		{"truncated raw", im[:len(im)-10], lb, idxConfig, []string{"images.idx: entry 9", "truncated"}},
		{"truncated gzip", gz(im[:len(im)-10]), lb, idxConfig, []string{"images.idx: entry 9", "truncated"}},
		{"cut gzip stream", gz(im)[:40], lb, idxConfig, []string{"images.idx"}},
		{"trailing bytes", append(slices.Clone(im), 1, 2, 3), lb, idxConfig, []string{"images.idx", "3 bytes follow the last"}},
		{"truncated header", im[:9], lb, idxConfig, []string{"images.idx", "truncated header"}},
		{"counts differ", im, idxBytes([]int{9}, lb[8:17]), idxConfig, []string{"labels.idx", "holds 9 labels but", "holds 10 images"}},
		{"labels as images", lb, im, idxConfig, []string{"images.idx", "expected images"}},
		{"2-D labels", im, idxBytes([]int{10, 2}, make([]byte, 20)), idxConfig, []string{"labels.idx", "expected one label per entry"}},
		{"label out of range", im, badLabel, strings.Replace(idxConfig, "source:", "classes: [a, b, c]\n  source:", 1),
			[]string{"labels.idx: entry 8", "class label 200 is out of range: data.classes names 3 classes, indices 0 to 2"}},
		{"one file", im, lb, strings.Replace(idxConfig, "idx:images.idx,labels.idx", "idx:images.idx", 1), []string{"data.source", "names 2 files"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := loadBytes(t, tc.config, map[string][]byte{"images.idx": tc.im, "labels.idx": tc.lb})
			wantBadData(t, err, tc.want...)
		})
	}
}

// TestIDXTypes decodes every IDX value type.
func TestIDXTypes(t *testing.T) {
	for _, tc := range []struct {
		typ  byte
		body []byte
		want []float32
	}{
		{0x08, []byte{0, 255}, []float32{0, 255}},
		{0x09, []byte{0x80, 0x7f}, []float32{-128, 127}},
		{0x0B, []byte{0xff, 0xfe, 0x01, 0x00}, []float32{-2, 256}},
		{0x0C, []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0x01, 0}, []float32{-1, 256}},
		{0x0D, []byte{0x3f, 0xc0, 0, 0, 0xc0, 0x20, 0, 0}, []float32{1.5, -2.5}},
		{0x0E, []byte{0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xc0, 0x04, 0, 0, 0, 0, 0, 0}, []float32{1.5, -2.5}},
	} {
		b := append([]byte{0, 0, tc.typ, 1, 0, 0, 0, 2}, tc.body...)
		dims, vals, err := readIDX("x", b)
		if err != nil || !slices.Equal(dims, []int{2}) || !slices.Equal(vals, tc.want) {
			t.Errorf("type %#x: dims %v vals %v err %v; want %v", tc.typ, dims, vals, err, tc.want)
		}
	}
}

// TestMNISTSample reads the shipped MNIST sample, as configs/mnist-*.yaml do.
func TestMNISTSample(t *testing.T) {
	dims, vals, err := readIDXPath(t, repoFile("testdata", "mnist", "train-images-idx3-ubyte.gz"))
	if err != nil || !slices.Equal(dims, []int{2000, 28, 28}) {
		t.Fatalf("dims %v err %v", dims, err)
	}
	if m := slices.Max(vals); m != 255 {
		t.Errorf("max pixel %v", m)
	}
	dims, vals, err = readIDXPath(t, repoFile("testdata", "mnist", "t10k-labels-idx1-ubyte.gz"))
	if err != nil || !slices.Equal(dims, []int{500}) || !slices.Equal(vals[:5], []float32{7, 2, 1, 0, 4}) {
		t.Fatalf("t10k labels %v %v err %v", dims, vals[:5], err)
	}
}

func readIDXPath(t *testing.T, path string) ([]int, []float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return readIDX(path, b)
}

// idxFloats encodes an IDX file of big-endian float32 (0x0D) or float64
// (0x0E) values.
func idxFloats(typ byte, dims []int, vals []float64) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, typ, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	for _, v := range vals {
		if typ == 0x0D {
			binary.Write(&b, binary.BigEndian, float32(v))
		} else {
			binary.Write(&b, binary.BigEndian, v)
		}
	}
	return b.Bytes()
}

// TestIDXNonFiniteValuesFollowTheMissingPolicy: NaN, ±Inf and float64
// values beyond float32's range in a float IDX file are missing values,
// handled by data.clean.missing as in a CSV file, naming file and entry.
func TestIDXNonFiniteValuesFollowTheMissingPolicy(t *testing.T) {
	_, lb := digitsIDX(20)
	for _, typ := range []byte{0x0D, 0x0E} {
		vals := make([]float64, 20*6)
		for i := range vals {
			vals[i] = float64(i%7) + float64(i/6)/10
		}
		vals[2*6+4] = math.NaN() // entry 3
		vals[4*6] = math.Inf(1)  // entry 5
		if typ == 0x0E {
			vals[4*6] = 1e300 // beyond float32
		}
		files := map[string][]byte{"images.idx": idxFloats(typ, []int{20, 2, 3}, vals), "labels.idx": lb}
		t.Run(fmt.Sprintf("%#x", typ), func(t *testing.T) {
			_, _, err := loadBytes(t, idxConfig+"  clean: {missing: error}\n", files)
			wantBadData(t, err, "images.idx", "entry 3", "NaN", "2 such rows", "data.clean.missing")
			ds, rep := mustLoadBytes(t, idxConfig+"  clean: {missing: drop}\n", files)
			if n := ds.Train.N + ds.Val.N + ds.Test.N; n != 18 {
				t.Errorf("drop kept %d entries, want 18", n)
			}
			if !slices.ContainsFunc(rep.Notes, func(n string) bool {
				return strings.Contains(n, "dropped 2 rows") && strings.Contains(n, "entries 3, 5")
			}) {
				t.Errorf("notes do not name the dropped entries: %q", rep.Notes)
			}
			ds, _ = mustLoadBytes(t, idxConfig+"  clean: {missing: mean}\n", files)
			for _, s := range ds.Splits() {
				for _, v := range s.X {
					if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
						t.Fatalf("mean left %v in split %s", v, s.Name)
					}
				}
			}
		})
	}
}

// TestIDXNonFiniteInTheTestPairNamesItsFile: a NaN in the test images of
// idx:IMAGES,LABELS,TEST_IMAGES,TEST_LABELS is reported in that file.
func TestIDXNonFiniteInTheTestPairNamesItsFile(t *testing.T) {
	im, lb := digitsIDX(20)
	vals := make([]float64, 10*6)
	vals[3*6+1] = math.NaN() // entry 4
	cfg := strings.Replace(idxConfig, "idx:images.idx,labels.idx", "idx:images.idx,labels.idx,test.idx,test-labels.idx", 1)
	cfg = strings.Replace(cfg, "train: 0.6, val: 0.2, test: 0.2", "train: 0.8, val: 0.2, test: 0", 1)
	_, _, err := loadBytes(t, cfg+"  clean: {missing: error}\n", map[string][]byte{
		"images.idx": im, "labels.idx": lb, "test.idx": idxFloats(0x0D, []int{10, 2, 3}, vals), "test-labels.idx": idxBytes([]int{10}, make([]byte, 10))})
	wantBadData(t, err, "test.idx", "entry 4", "NaN")
}

func mustLoadBytes(t *testing.T, yaml string, files map[string][]byte) (*Dataset, *Report) {
	t.Helper()
	ds, rep, err := loadBytes(t, yaml, files)
	if err != nil {
		t.Fatal(err)
	}
	return ds, rep
}
