package data

import (
	"slices"
	"strings"
	"testing"

	"github.com/dltrain/dltrain/pkg/config"
)

// TestValidateDataSection: the data section is checked against the source
// kind before any data is read, each problem naming its key and line.
func TestValidateDataSection(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"unknown scheme", "data: {source: parquet:x.parquet}", []string{"exp.yaml:1:", "data.source", `unknown data source "parquet:`, "builtin, csv, idx"}},
		{"scheme case", "data: {source: CSV:x.csv}", []string{`did you mean "csv"?`}},
		{"nothing after the colon", "data: {source: 'csv:'}", []string{"names nothing after the colon"}},
		{"unknown task", "data: {source: builtin:iris, task: ranking}", []string{"data.task", `unknown task "ranking"`, "language_model"}},
		{"task does not fit", "data: {source: 'images:d', task: regression}", []string{"data.task", "a images source feeds classification"}},
		{"option of another source", "data: {source: builtin:iris, images: {size: [8, 8]}}", []string{"data.images.size", "does not apply to a builtin source"}},
		{"csv needs a label", "data: {source: csv:x.csv}", []string{"data.label", "needs its label column"}},
		{"label and targets", "data: {source: csv:x.csv, task: regression, label: a, targets: [b]}", []string{"either data.label or data.targets"}},
		{"several labels", "data: {source: csv:x.csv, targets: [a, b]}", []string{"several targets need task regression"}},
		{"encoding without categories", "data: {source: csv:x.csv, label: y, preprocess: {encoding: index}}", []string{"data.preprocess.encoding", "applies only with data.categorical"}},
		{"bad missing policy", "data: {source: builtin:iris, clean: {missing: guess}}", []string{"data.clean.missing", "must be one of error, drop, mean, median, constant"}},
		{"fill without constant", "data: {source: builtin:iris, clean: {fill: 3}}", []string{"data.clean.fill", "applies only with data.clean.missing: constant"}},
		{"group needs a column", "data: {source: csv:x.csv, label: y, split: {method: group}}", []string{"data.split.column", "split method group needs the name of its column"}},
		{"column with random", "data: {source: csv:x.csv, label: y, split: {column: g}}", []string{"data.split.column", "applies only to split methods group, time and column"}},
		{"stratify with group", "data: {source: csv:x.csv, label: y, split: {method: group, column: g, stratify: false}}", nil},
		{"group on an array source", "data: {source: 'npy:a.npy,b.npy', split: {method: group, column: g}}", []string{"data.split.method", "group needs a column; this source has none"}},
		{"folds of one", "data: {source: builtin:iris, split: {folds: 1}}", []string{"data.split.folds", "must be 0 (no folds) or at least 2"}},
		{"fold out of range", "data: {source: builtin:iris, split: {train: 0.8, val: 0, test: 0.2, folds: 3, fold: 3}}", []string{"data.split.fold", "must be in 0..2"}},
		{"time folds", "data: {source: csv:x.csv, label: y, split: {train: 0.8, val: 0, test: 0.2, method: time, folds: 3}}", []string{"k-fold assignment applies to split methods random and group"}},
		{"series with folds", "data: {source: builtin:sunspots, task: forecasting, split: {train: 0.8, val: 0, test: 0.2, folds: 3}}", []string{"does not apply to a source in time order"}},
		{"bad delimiter", "data: {source: csv:x.csv, label: y, csv: {delimiter: ';;'}}", []string{"data.csv.delimiter", "must be one character"}},
		{"image size", "data: {source: 'images:d', images: {size: [8]}}", []string{"data.images.size", "must be [height, width]"}},
		{"sequence length", "data: {source: 'text:t.txt', task: language_model, text: {sequence_length: 0}}", []string{"data.text.sequence_length", "must be >= 1"}},
		{"series table option", "data: {source: builtin:sunspots, task: forecasting, categorical: [YEAR]}", []string{"data.categorical", "does not apply to builtin:sunspots (a series)"}},
		{"table series option", "data: {source: builtin:iris, series: {lookback: 3}}", []string{"data.series.lookback", "does not apply to builtin:iris (a table)"}},
		{"built-in class count", "data: {source: builtin:iris, classes: [a, b]}", []string{"data.classes", "names 2 classes, but builtin:iris has 3 (labels 0 to 2); data.classes names them in index order"}},
		{"class named twice", "data: {source: csv:x.csv, label: y, classes: [a, b, a]}", []string{"data.classes", `class "a" is named twice (indices 0 and 2)`}},
		{"constant drop with shape", "data: {source: builtin:digits, shape: [1, 8, 8], clean: {constant: drop}}", []string{"data.clean.constant", "data.shape fixes"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			yaml := tc.yaml + "\nmodel: {layers: [{type: dense, units: 3}]}\n"
			_, err := experiment(t, dir, yaml)
			if tc.want == nil {
				if err != nil {
					t.Errorf("unexpected problems: %v", err)
				}
				return
			}
			wantBadData(t, err, tc.want...)
		})
	}
}

// TestSavedConfigReloads: the fully resolved config a run saves (every key
// written out) passes the same checks as the short file.
func TestSavedConfigReloads(t *testing.T) {
	for _, src := range []string{"builtin:iris", "builtin:sunspots\n  task: forecasting", "text:t.txt\n  task: language_model", "idx:a,b"} {
		dir := t.TempDir()
		// Only data problems matter here (the loss may not fit the task).
		exp, err := experiment(t, dir, "data:\n  source: "+src+"\nmodel: {layers: [{type: dense, units: 3}]}\n")
		for _, p := range problemsOf(err) {
			if strings.HasPrefix(p.Key, "data") {
				t.Fatalf("%s: %v", src, p)
			}
		}
		if exp == nil {
			t.Fatalf("%s: %v", src, err)
		}
		b, _ := exp.YAML()
		back, err := config.Parse(dir+"/saved.yaml", b, nil, nil, Validate)
		if back == nil {
			t.Fatal(err)
		}
		for _, p := range problemsOf(err) {
			if strings.HasPrefix(p.Key, "data") {
				t.Errorf("%s: the saved config has a data problem: %v", src, p)
			}
		}
	}
}

func problemsOf(err error) config.Problems {
	ps, _ := err.(config.Problems)
	return ps
}

// TestBuiltinClassNames: a built-in's labels are class indices the user
// cannot edit, so data.classes names them in index order: digits with
// classes zero..nine loads (it was refused: unknown class "0"), every
// sample keeps its label, and the names are the dataset's classes.
func TestBuiltinClassNames(t *testing.T) {
	base := "name: t\ndata:\n  source: builtin:digits\n"
	plain, _ := mustLoad(t, base, nil)
	names := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
	named, _ := mustLoad(t, base+"  classes: ["+strings.Join(names, ", ")+"]\n", nil)
	if !slices.Equal(named.Meta.Classes, names) {
		t.Errorf("classes %v, want %v", named.Meta.Classes, names)
	}
	for i, s := range named.Splits() {
		if !slices.Equal(s.Y, plain.Splits()[i].Y) || !slices.Equal(s.Lines, plain.Splits()[i].Lines) {
			t.Errorf("split %s: labels differ from those without data.classes", s.Name)
		}
	}
}
