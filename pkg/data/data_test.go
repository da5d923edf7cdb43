package data

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

func TestReadCSVErrorsNameFileLineAndColumn(t *testing.T) {
	cases := []struct {
		name, text, label, want string
	}{
		{"empty", "", "y", "f.csv: the file is empty"},
		{"header only", "a,y\n", "y", "f.csv:1: the file has a header but no data rows"},
		{"non-numeric", "a,b,y\n1,2,0\n3,x,1\n", "y", `f.csv:3:3: column "b": expected a number, got "x"`},
		{"ragged", "a,y\n1,0\n1,2,3\n", "y", "f.csv:3:1: row has a different number of fields than the header (ragged row)"},
		{"no label", "a,b\n1,2\n", "y", `label column "y" does not exist; the columns are: a, b`},
		{"label only", "y\n1\n", "y", "no feature columns"},
		{"duplicate column", "a,a,y\n1,2,3\n", "y", `column "a": the header names this column twice`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := readCSV("f.csv", []byte(c.text), csvOptions{label: c.label})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if !errors.Is(err, ErrBadData) {
				t.Errorf("error does not wrap ErrBadData")
			}
		})
	}
}

func TestReadCSVAcceptsBOMAndCRLF(t *testing.T) {
	f, err := readCSV("f.csv", []byte("\xef\xbb\xbfa,y\r\n1.5,0\r\n2.5,1\r\n"), csvOptions{label: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if f.features[0] != "a" || f.rows() != 2 || f.x[1] != 2.5 || f.y[1] != "1" || f.lines[1] != 3 {
		t.Errorf("frame = %+v", f)
	}
}

func TestMissingValuesErrorOrDrop(t *testing.T) {
	text := "a,b,y\n1,2,0\n,3,1\n4,NaN,0\n5,inf,1\n6,7,1\n"
	f, err := readCSV("f.csv", []byte(text), csvOptions{label: "y"})
	if err != nil {
		t.Fatal(err)
	}
	err = cleanMissing(f, "error", &Report{})
	if err == nil || !strings.Contains(err.Error(), `f.csv:3:1: column "a": missing or non-finite value "" (3 rows have one)`) {
		t.Errorf("err = %v", err)
	}
	rep := &Report{}
	if err := cleanMissing(f, "drop", rep); err != nil {
		t.Fatal(err)
	}
	if f.rows() != 2 || f.lines[1] != 6 {
		t.Errorf("kept rows at lines %v", f.lines)
	}
	if len(rep.Notes) != 1 || rep.Notes[0] != "dropped 3 rows with missing or non-finite values: lines 3, 4, 5" {
		t.Errorf("notes = %q", rep.Notes)
	}
}

func TestClassLabels(t *testing.T) {
	f := &frame{file: "f.csv", targets: []string{"y"}, y: []string{"cat", "dog", "cat"}, lines: []int{2, 3, 4}}
	y, classes, err := classLabels(f, nil, "error", &Report{})
	if err != nil || strings.Join(classes, ",") != "cat,dog" || y[1] != 1 {
		t.Errorf("y %v classes %v err %v", y, classes, err)
	}
	f.y = []string{"0", "2", "7"}
	_, _, err = classLabels(f, []string{"a", "b", "c"}, "error", &Report{})
	if err == nil || !strings.Contains(err.Error(), `f.csv:4: column "y": class label "7" is out of range: there are 3 classes, 0 to 2`) {
		t.Errorf("err = %v", err)
	}
	f.y = []string{"0", "1.5", "1"}
	_, _, err = classLabels(f, nil, "error", &Report{})
	if err == nil || !strings.Contains(err.Error(), `class label "1.5" is not an integer`) {
		t.Errorf("err = %v", err)
	}
	f.y = []string{"a", "zebra", "b"}
	_, _, err = classLabels(f, []string{"a", "b"}, "error", &Report{})
	if err == nil || !strings.Contains(err.Error(), `f.csv:3: column "y": unknown class "zebra"; the classes are: a, b`) {
		t.Errorf("err = %v", err)
	}
}

func TestStratifiedSplitKeepsProportionsAndIsSeeded(t *testing.T) {
	labels := make([]float32, 300)
	for i := range labels {
		labels[i] = float32(i % 3)
	}
	cfg := config.Split{Train: 0.6, Val: 0.2, Test: 0.2, Stratify: true}
	a, err := splitRows(len(labels), labels, cfg, 7)
	if err != nil {
		t.Fatal(err)
	}
	for name, rows := range map[string][]int{"train": a.train, "val": a.val, "test": a.test} {
		count := [3]int{}
		for _, r := range rows {
			count[int(labels[r])]++
		}
		if count[0] != count[1] || count[1] != count[2] {
			t.Errorf("%s class counts %v are not balanced", name, count)
		}
	}
	seen := map[int]bool{}
	for _, r := range append(append(append([]int{}, a.train...), a.val...), a.test...) {
		if seen[r] {
			t.Fatalf("row %d is in two splits", r)
		}
		seen[r] = true
	}
	if len(seen) != 300 {
		t.Errorf("%d rows assigned, want 300", len(seen))
	}
	b, _ := splitRows(len(labels), labels, cfg, 7)
	c, _ := splitRows(len(labels), labels, cfg, 8)
	if !equal(a.test, b.test) {
		t.Error("the same seed gave another split")
	}
	if equal(a.test, c.test) {
		t.Error("another seed gave the same split")
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestScalingIsFittedOnTrainOnly: changing a test row changes nothing
// fitted, and the train split is what the statistics describe.
func TestScalingIsFittedOnTrainOnly(t *testing.T) {
	exp, err := config.Parse("e.yaml", []byte("name: t\ndata: {source: builtin:iris}\nmodel: {layers: [{type: dense, units: 3}]}\n"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	w := ds.InputSize()
	for j := 0; j < w; j++ {
		var sum, ss float64
		for i := 0; i < ds.Train.N; i++ {
			v := float64(ds.Train.X[i*w+j])
			sum += v
			ss += v * v
		}
		mean := sum / float64(ds.Train.N)
		std := math.Sqrt(ss/float64(ds.Train.N) - mean*mean)
		if math.Abs(mean) > 1e-5 || math.Abs(std-1) > 1e-4 {
			t.Errorf("feature %d on train: mean %v std %v, want 0 and 1", j, mean, std)
		}
	}
	// The same rows with test rows changed: identical scaling.
	f, _, _, _ := readBuiltin("iris", exp.Data)
	y, _, _ := classLabels(f, builtins["iris"].Classes, "error", &Report{})
	a, _ := splitRows(f.rows(), y, exp.Data.Split, exp.Seed)
	before := fitScaling("standard", take("train", a.train, f.x, w, y, 1, f.lines).X, w)
	for _, r := range a.test {
		for j := 0; j < w; j++ {
			f.x[r*w+j] = 1e6
		}
	}
	after := fitScaling("standard", take("train", a.train, f.x, w, y, 1, f.lines).X, w)
	for j := range before.Shift {
		if before.Shift[j] != after.Shift[j] || before.Mul[j] != after.Mul[j] {
			t.Fatalf("changing test rows changed the scaling of feature %d", j)
		}
	}
	if before.Shift[0] != ds.Scaling.Shift[0] {
		t.Error("Load fitted another scaling than the train rows give")
	}
}

func TestOrderDependsOnlyOnSeedAndEpoch(t *testing.T) {
	a, b := Order(100, 3, 2), Order(100, 3, 2)
	if !equal(a, b) {
		t.Error("same seed and epoch, different order")
	}
	if equal(a, Order(100, 3, 3)) || equal(a, Order(100, 4, 2)) {
		t.Error("order ignores the epoch or the seed")
	}
	bs := Batches(a, 32)
	if len(bs) != 4 || len(bs[3]) != 4 {
		t.Errorf("batches of 100 by 32: %d batches, last of %d", len(bs), len(bs[len(bs)-1]))
	}
}

func TestGatherDoesNotAllocate(t *testing.T) {
	src := make([]float32, 1000*64)
	dst := make([]float64, 32*64)
	idx := Order(1000, 1, 0)[:32]
	if n := testing.AllocsPerRun(100, func() { Gather(dst, src, 64, idx) }); n != 0 {
		t.Errorf("Gather allocates %v times per batch", n)
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("a,b,y\n1,2,0\n3,4,1\n"))
	f.Add([]byte("\xef\xbb\xbfa,y\r\n1,\"x\"\r\n"))
	f.Add([]byte("a,y\n1\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		fr, err := readCSV("fuzz.csv", text, csvOptions{label: "y"})
		if err != nil {
			if !errors.Is(err, ErrBadData) {
				t.Fatalf("error does not wrap ErrBadData: %v", err)
			}
			return
		}
		if len(fr.x) != fr.rows()*len(fr.features) || len(fr.y) != fr.rows() {
			t.Fatalf("inconsistent frame: %d values, %d rows, %d features", len(fr.x), fr.rows(), len(fr.features))
		}
	})
}
