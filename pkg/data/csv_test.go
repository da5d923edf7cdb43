package data

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

const csvConfig = `
name: t
data:
  source: csv:data.csv
  label: y
  split: {train: 0.5, val: 0.25, test: 0.25, stratify: false}
`

// TestCSVBadInput: every kind of bad CSV gives a data error that names the
// file, the line (and column) and what was expected.
func TestCSVBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, config, text string
		want               []string
	}{
		{"empty file", csvConfig, "", []string{"data.csv", "the file is empty; expected a header line and data rows"}},
		{"blank lines only", csvConfig, "\n  \n", []string{"data.csv", "the file is empty"}},
		{"header only", csvConfig, "a,b,y\n", []string{"data.csv:1", "header line but no data rows"}},
		{"ragged row", csvConfig, "a,b,y\n1,2,0\n3,4\n", []string{"data.csv:3", "ragged row"}},
		{"non-numeric cell", csvConfig, "a,b,y\n1,2,0\n3,abc,1\n", []string{"data.csv:3:3", `column "b"`, `expected a number, got "abc"`}},
		{"NaN under missing: error", csvConfig, "a,b,y\n1,2,0\n3,NaN,1\n", []string{"data.csv:3:3", `column "b"`, `missing or non-finite value "NaN"`}},
		{"Inf under missing: error", csvConfig, "a,b,y\n1,Inf,0\n3,4,1\n", []string{"data.csv:2:3", `"Inf"`}},
		{"overflow under missing: error", csvConfig, "a,b,y\n1,1e400,0\n3,4,1\n", []string{"data.csv:2", `"1e400"`}},
		{"index label with data.classes", strings.Replace(csvConfig, "label: y", "label: y\n  classes: [a, b]", 1),
			"a,b,y\n1,2,a\n3,4,1\n", []string{"data.csv:3:5", `column "y"`, `unknown class "1"; the classes (data.classes) are: a, b (with data.classes a label is a class name, never an index)`}},
		{"unknown class name", strings.Replace(csvConfig, "label: y", "label: y\n  classes: [cat, dog]", 1),
			"a,b,y\n1,2,cat\n3,4,cow\n", []string{"data.csv:3:5", `unknown class "cow"; the classes (data.classes) are: cat, dog`}},
		{"numeric class names: 01 is not 1", strings.Replace(csvConfig, "label: y", "label: y\n  classes: ['1', '2', '3']", 1),
			"a,b,y\n1,2,1\n3,4,2\n5,6,3\n7,8,01\n", []string{"data.csv:5:5", `unknown class "01"; the classes (data.classes) are: 1, 2, 3`}},
		{"numeric class names: 0 is not an index", strings.Replace(csvConfig, "label: y", "label: y\n  classes: ['1', '2', '3']", 1),
			"a,b,y\n1,2,1\n3,4,2\n5,6,3\n7,8,0\n", []string{"data.csv:5:5", `unknown class "0"`, "never an index"}},
		{"label column named in the error", csvConfig, "a,y,b\n1,0,2\n3,\"0.5\",4\n", []string{"data.csv:3:3", `column "y"`, `"0.5" is not an integer`}},
		{"non-integer class", csvConfig, "a,b,y\n1,2,0.5\n3,4,1\n", []string{"data.csv:2", `"0.5" is not an integer`}},
		{"negative class label", csvConfig, "a,b,y\n1,2,0\n2,3,1\n3,4,2\n4,5,10\n5,6,-1\n",
			[]string{"data.csv:6:5", `column "y"`, `class label "-1" is negative: class indices start at 0`}},
		{"non-integer among integer labels", csvConfig, "a,b,y\n1,2,0\n2,3,1\n3,4,2.5\n",
			[]string{"data.csv:4", `column "y"`, `class label "2.5" is not an integer, so not a class index`}},
		{"infinite class label", csvConfig, "a,b,y\n1,2,0\n2,3,inf\n", []string{"data.csv:3:5", `class label "inf" is not an integer`}},
		// 1e400 was a text class (ParseFloat's range error), while inf was refused.
		{"class label beyond float64", csvConfig, "a,b,y\n1,2,0\n2,3,1\n3,4,1e400\n", []string{"data.csv:4:5", `class label "1e400" is beyond the range of a float64, so not a class index`}},
		{"class label below float64", csvConfig, "a,b,y\n1,2,0\n2,3,1\n3,4,-1E-400\n", []string{"data.csv:4:5", `class label "-1E-400" is beyond the range of a float64, so not a class index`}},
		{"missing label", csvConfig, "a,b,y\n1,2,\n3,4,1\n", []string{"data.csv:2:5", "the label is missing"}},
		{"missing label column", strings.Replace(csvConfig, "label: y", "label: z", 1), "a,b,y\n1,2,0\n", []string{`label (target) column "z" does not exist; the columns are: a, b, y`}},
		{"regression target not a number", strings.Replace(csvConfig, "source:", "task: regression\n  source:", 1),
			"a,b,y\n1,2,0.5\n3,4,big\n", []string{"data.csv:3:5", `expected a finite number as the regression target, got "big"`}},
		{"bad quote", csvConfig, "a,b,y\n1,\"2,0\n", []string{"data.csv:2", "quote"}},
		{"unterminated quote read on to the end", csvConfig, "a,b,y\n1,2,0\n3,\"4,1\n5,6,0\n7,8,1\n",
			[]string{"data.csv:3: unterminated quote: a quoted field in the record starting on this line is not closed (read on to line 5"}},
		{"bare quote", csvConfig, "a,b,y\n1,2,0\n3,4\"x,1\n5,6,0\n", []string{"data.csv:3:4", `bare "`}},
		{"header only after a line of spaces", csvConfig, "  \na,b,y\n", []string{"data.csv:2", "header line but no data rows"}},
		{"duplicate header after a line of spaces", csvConfig, "  \na,a,y\n1,2,0\n", []string{"data.csv:2", "names this column twice"}},
		{"duplicate header", csvConfig, "a,a,y\n1,2,0\n", []string{"data.csv:1", "names this column twice"}},
		{"duplicate row under duplicates: error", strings.Replace(csvConfig, "split:", "clean: {duplicates: error}\n  split:", 1),
			"a,b,y\n1,2,0\n3,4,1\n1,2,0\n", []string{"data.csv:4", "identical to the row at line 2"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := load(t, tc.config, map[string]string{"data.csv": tc.text})
			wantBadData(t, err, tc.want...)
		})
	}
}

// TestCSVLayouts: a BOM and CRLF line ends, no header with the label by
// index, TSV, another delimiter, quoted cells: all load to the same table.
func TestCSVLayouts(t *testing.T) {
	want := []float32{1, 2, 3, 4, 5, 6, 7, 8}
	for _, tc := range []struct {
		name, source, extra, text string
	}{
		{"BOM and CRLF", "csv:data.csv", "", "\xef\xbb\xbfa,b,y\r\n1,2,0\r\n3,4,1\r\n5,6,0\r\n7,8,1\r\n"},
		{"blank lines", "csv:data.csv", "", "a,b,y\n\n1,2,0\n3,4,1\n   \n5,6,0\n7,8,1\n\n"},
		{"lines of spaces before the header", "csv:data.csv", "", "   \n\n \t \na,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n"},
		{"no header, label by index", "csv:data.csv", "csv: {header: false}\n  label: -1", "1,2,0\n3,4,1\n5,6,0\n7,8,1\n"},
		{"label by position", "csv:data.csv", "label: 2", "a,b,y\n1,2,0\n3,4,1\n5,6,0\n7,8,1\n"},
		{"tsv", "tsv:data.csv", "", "a\tb\ty\n1\t2\t0\n3\t4\t1\n5\t6\t0\n7\t8\t1\n"},
		{"semicolons", "csv:data.csv", "label: y\n  csv: {delimiter: \";\"}", "a;b;y\n1;2;0\n3;4;1\n5;6;0\n7;8;1\n"},
		{"tab typed as \\t", "csv:data.csv", "label: y\n  csv: {delimiter: '\\t'}", "a\tb\ty\n1\t2\t0\n3\t4\t1\n5\t6\t0\n7\t8\t1\n"},
		{"quoted cells", "csv:data.csv", "", "\"a\",\"b\",\"y\"\n\"1\",2,0\n3,\" 4 \",1\n5,6,0\n7,8,1\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := strings.Replace(csvConfig, "source: csv:data.csv", "source: "+tc.source, 1)
			if tc.extra != "" {
				cfg = strings.Replace(cfg, "label: y", tc.extra, 1)
			}
			cfg += "  preprocess: {scale: none}\n  split: {train: 1, val: 0, test: 0}\n"
			cfg = strings.Replace(cfg, "  split: {train: 0.5, val: 0.25, test: 0.25, stratify: false}\n", "", 1)
			ds, _ := mustLoad(t, cfg, map[string]string{"data.csv": tc.text})
			if !slices.Equal(ds.Train.X, want) || !slices.Equal(ds.Train.Y, []float32{0, 1, 0, 1}) {
				t.Errorf("got X %v Y %v", ds.Train.X, ds.Train.Y)
			}
		})
	}
}

// TestFewerRowsThanABatch: five rows train, with a batch of 64, as long as
// every split gets a row; too few rows for a test split is said clearly.
func TestFewerRowsThanABatch(t *testing.T) {
	text := "a,y\n1,0\n2,1\n3,0\n4,1\n5,0\n"
	ds, _ := mustLoad(t, csvConfig+"  features: [a]\n", map[string]string{"data.csv": strings.ReplaceAll(text, ",b", "")})
	if ds.Train.N+ds.Val.N+ds.Test.N != 5 || ds.Test.N == 0 || ds.Val.N == 0 {
		t.Errorf("split of 5 rows: %d/%d/%d", ds.Train.N, ds.Val.N, ds.Test.N)
	}
	_, _, err := load(t, csvConfig, map[string]string{"data.csv": "a,y\n1,0\n"})
	wantBadData(t, err, "data.csv: ", "too few for a test split", "set data.split.test: 0")
	// Stratified, three rows a class leave each class's test share at 0.45
	// of a row, rounded to none, where a plain shuffle of the six rows
	// fills the test split: the message says so.
	six := "a,y\n1,0\n2,1\n3,0\n4,1\n5,0\n6,1\n"
	stratified := strings.Replace(csvConfig, "{train: 0.5, val: 0.25, test: 0.25, stratify: false}", "{train: 0.7, val: 0.15, test: 0.15}", 1)
	_, _, err = load(t, stratified, map[string]string{"data.csv": six})
	wantBadData(t, err, "data.csv: ", "too few for a test split", "each class is split on its own", "data.split.stratify: false")
	unstratified := strings.Replace(stratified, "test: 0.15}", "test: 0.15, stratify: false}", 1)
	if _, _, err := load(t, unstratified, map[string]string{"data.csv": six}); err != nil {
		t.Errorf("six rows without stratify: %v", err)
	}
}

// TestCleaning: drop and the imputing policies, with the lines reported.
func TestCleaning(t *testing.T) {
	text := "a,b,y\n1,2,0\nNA,4,1\n5,,0\n7,8,1\n9,10,0\n11,12,1\n"
	base := "name: t\ndata:\n  source: csv:data.csv\n  label: y\n  preprocess: {scale: none}\n  split: {train: 1, val: 0, test: 0}\n"
	t.Run("drop", func(t *testing.T) {
		ds, rep := mustLoad(t, base+"  clean: {missing: drop}\n", map[string]string{"data.csv": text})
		if ds.Train.N != 4 || !slices.Equal(ds.Train.Lines, []int{2, 5, 6, 7}) {
			t.Errorf("kept lines %v", ds.Train.Lines)
		}
		if !strings.Contains(strings.Join(rep.Notes, "\n"), "dropped 2 rows with missing or non-finite values: lines 3, 4") {
			t.Errorf("notes %q", rep.Notes)
		}
	})
	for policy, want := range map[string][2]float32{"mean": {33.0 / 5, 36.0 / 5}, "median": {7, 8}, "constant": {-1, -1}} {
		t.Run(policy, func(t *testing.T) {
			cfg := base + "  clean: {missing: " + policy + "}\n"
			if policy == "constant" {
				cfg = base + "  clean: {missing: constant, fill: -1}\n"
			}
			ds, _ := mustLoad(t, cfg, map[string]string{"data.csv": text})
			if ds.Train.X[2] != want[0] || ds.Train.X[5] != want[1] {
				t.Errorf("filled %v, %v; want %v", ds.Train.X[2], ds.Train.X[5], want)
			}
			if ds.Imputation == nil || ds.Imputation.Kind != policy {
				t.Errorf("imputation %+v", ds.Imputation)
			}
		})
	}
	t.Run("duplicates and constant columns", func(t *testing.T) {
		text := "a,b,y\n1,5,0\n2,5,1\n1,5,0\n3,5,1\n"
		ds, rep := mustLoad(t, base+"  clean: {duplicates: drop, constant: drop}\n", map[string]string{"data.csv": text})
		notes := strings.Join(rep.Notes, "\n")
		for _, want := range []string{"dropped 1 row identical to an earlier row: line 4", "dropped 1 feature constant on the training split: b"} {
			if !strings.Contains(notes, want) {
				t.Errorf("notes %q lack %q", notes, want)
			}
		}
		if ds.Train.N != 3 || !slices.Equal(ds.Input, []int{1}) || !slices.Equal(ds.Features, []string{"a"}) {
			t.Errorf("N %d input %v features %v", ds.Train.N, ds.Input, ds.Features)
		}
	})
}

// TestCategorical: categories are learned on the training split, one-hot
// or index encoded, and an unseen category is reported.
func TestCategorical(t *testing.T) {
	text := "n,color,y,part\n1,red,0,train\n2,blue,1,train\n3,red,0,train\n4,green,1,test\n"
	cfg := "name: t\ndata:\n  source: csv:data.csv\n  label: y\n  categorical: [color]\n  preprocess: {scale: none, encoding: %s}\n  split: {method: column, column: part}\n"
	ds, rep := mustLoad(t, strings.Replace(cfg, "%s", "onehot", 1), map[string]string{"data.csv": text})
	if !slices.Equal(ds.Features, []string{"n", "color=blue", "color=red"}) {
		t.Errorf("features %v", ds.Features)
	}
	if !slices.Equal(ds.Train.X, []float32{1, 0, 1, 2, 1, 0, 3, 0, 1}) || !slices.Equal(ds.Test.X, []float32{4, 0, 0}) {
		t.Errorf("train %v test %v", ds.Train.X, ds.Test.X)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "1 val/test cells hold a category never seen in training") {
		t.Errorf("notes %q", rep.Notes)
	}
	ds, _ = mustLoad(t, strings.Replace(cfg, "%s", "index", 1), map[string]string{"data.csv": text})
	if !slices.Equal(ds.Train.X, []float32{1, 1, 2, 0, 3, 1}) || !slices.Equal(ds.Test.X, []float32{4, -1}) {
		t.Errorf("index: train %v test %v", ds.Train.X, ds.Test.X)
	}
}

// TestClassLabels: integer labels are their own class index (10 is class
// 10, not the second of "0","1","10","2"); labels with some text are
// classes ordered numbers first, numerically, then texts. Numbers compare
// by value either way ("01" is 1), and a note says when that merged two
// spellings.
func TestClassLabels(t *testing.T) {
	for _, tc := range []struct {
		name, labels string
		classes      []string
		index        map[string]float32 // label -> class index
		note         string
	}{
		{"integers", "0,1,2,10", []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10"}, map[string]float32{"2": 2, "10": 10}, ""},
		{"integers written as floats", "0,1.0,2", []string{"0", "1", "2"}, map[string]float32{"1.0": 1, "2": 2}, ""},
		{"text", "dog,cat,emu", []string{"cat", "dog", "emu"}, map[string]float32{"cat": 0, "emu": 2}, ""},
		{"numbers and text", "10,2,-1,cat,1.5", []string{"-1", "1.5", "2", "10", "cat"}, map[string]float32{"-1": 0, "2": 2, "10": 3, "cat": 4}, ""},
		// Numbers compare by value, whether every label is one or not.
		{"01 and 1", "01,1,2", []string{"0", "1", "2"}, map[string]float32{"01": 1, "1": 1, "2": 2}, `labels "01", "1" are one class, 1`},
		// Labels 1..k leave class 0 empty: a note, not an error.
		{"1-based", "1,2,3,3", []string{"0", "1", "2", "3"}, map[string]float32{"1": 1, "3": 3}, "class 0 has no samples: labels run 1..3; are they 1-based? give data.classes or relabel"},
		{"gaps", "0,2,5", []string{"0", "1", "2", "3", "4", "5"}, map[string]float32{"5": 5}, "classes 1, 3, 4 have no samples: labels run 0..5; numeric labels are class indices 0..k-1"},
		// Beyond float64 among text: the label is its text, not "+Inf" or "0".
		{"1e400 with text", "cat,1e400,1e-400,2", []string{"2", "1e-400", "1e400", "cat"}, map[string]float32{"1e400": 2, "1e-400": 1, "2": 0}, ""},
		{"01 and 1 with text", "01,1,dog,1.0", []string{"1", "dog"}, map[string]float32{"01": 0, "1": 0, "1.0": 0, "dog": 1}, `labels "01", "1", "1.0" are one class, 1: numeric labels compare by value`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := "a,y\n"
			labels := strings.Split(tc.labels, ",")
			for i, l := range labels {
				text += fmt.Sprintf("%d,%s\n", i, l)
			}
			cfg := strings.Replace(csvConfig, "split: {train: 0.5, val: 0.25, test: 0.25, stratify: false}", "split: {train: 1, val: 0, test: 0}", 1)
			ds, rep := mustLoad(t, cfg, map[string]string{"data.csv": text})
			if notes := strings.Join(rep.Notes, "\n"); tc.note != "" && !strings.Contains(notes, tc.note) {
				t.Errorf("notes %q lack %q", notes, tc.note)
			}
			if !slices.Equal(ds.Classes, tc.classes) {
				t.Errorf("classes %q, want %q", ds.Classes, tc.classes)
			}
			for i, l := range labels {
				if want, ok := tc.index[l]; ok && ds.Train.Y[i] != want {
					t.Errorf("label %q is class %v, want %v", l, ds.Train.Y[i], want)
				}
			}
		})
	}
}
