package data

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
)

//go:embed builtin/*.csv builtin/*.csv.gz builtin/PROVENANCE.md
var builtinFS embed.FS

// Builtin describes a data set embedded in the binary.
type Builtin struct {
	Name     string
	File     string
	Kind     string // "table" (one row per sample) or "series" (one row per time step)
	Task     string
	Label    string   // label (target) column
	Time     string   // time column of a series
	Classes  []string // class names for integer labels 0..k-1
	Shape    []int    // natural per-sample shape of the features
	Rows     int
	About    string
	Source   string
	Licence  string
	Excluded []string // columns that are not features by default
}

// builtins is every built-in data set, by name (source: builtin:NAME).
var builtins = map[string]Builtin{
	"digits": {
		Name: "digits", File: "builtin/digits.csv.gz", Kind: "table", Task: "classification", Label: "label",
		Classes: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
		Shape:   []int{1, 8, 8}, Rows: 1797,
		About:   "8×8 handwritten digits, pixel values 0–16",
		Source:  "UCI Optical Recognition of Handwritten Digits (Alpaydin & Kaynak), as shipped with scikit-learn",
		Licence: "CC BY 4.0",
	},
	"iris": {
		Name: "iris", File: "builtin/iris.csv", Kind: "table", Task: "classification", Label: "species",
		Classes: []string{"setosa", "versicolor", "virginica"},
		Shape:   []int{4}, Rows: 150,
		About:   "Fisher's iris: sepal and petal length and width (cm)",
		Source:  "UCI Iris, as shipped with scikit-learn",
		Licence: "CC BY 4.0",
	},
	"sunspots": {
		Name: "sunspots", File: "builtin/sunspots.csv", Kind: "series", Task: "forecasting", Label: "SUNACTIVITY", Time: "YEAR",
		Shape: []int{1}, Rows: 309,
		About:   "yearly mean sunspot activity, 1700–2008 (one value per year)",
		Source:  "NOAA NGDC, as shipped with statsmodels",
		Licence: "public domain",
	},
}

// Builtins lists the built-in data sets by name.
func Builtins() []Builtin {
	out := make([]Builtin, 0, len(builtins))
	for _, b := range builtins {
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func lookupBuiltin(name string) (Builtin, error) {
	b, ok := builtins[name]
	if !ok {
		names := make([]string, 0, len(builtins))
		for n := range builtins {
			names = append(names, n)
		}
		sort.Strings(names)
		return Builtin{}, fmt.Errorf("%w: unknown built-in data set %q; known: %s", ErrBadData, name, strings.Join(names, ", "))
	}
	return b, nil
}

// open returns the decompressed contents of a built-in and their sha256.
func (b Builtin) open() ([]byte, string, error) {
	raw, err := builtinFS.ReadFile(b.File)
	if err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(raw)
	if strings.HasSuffix(b.File, ".gz") {
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, "", err
		}
		if raw, err = io.ReadAll(zr); err != nil {
			return nil, "", err
		}
	}
	return raw, hex.EncodeToString(sum[:]), nil
}

// builtinOptions are the data keys that apply to some built-in: those of
// tables and series, less the file layout.
var builtinOptions = []string{"label", "targets", "features", "categorical", "classes", "preprocess.encoding",
	"series.time", "series.lookback", "series.horizon", "series.stride", "series.difference", "series.season"}

// seriesOptions are the data keys that apply to series sources.
var seriesOptions = []string{"label", "targets", "features", "csv.header", "csv.delimiter",
	"series.time", "series.lookback", "series.horizon", "series.stride", "series.difference", "series.season"}

// builtinSource reads a data set embedded in the binary (builtin:NAME): a
// table, or a series windowed like series:PATH.
var builtinSource = sourceKind{
	tasks:   []string{"classification", "regression", "forecasting", "reconstruction", "generation"},
	options: builtinOptions,
	digest: func(name string, _ config.Data) ([]SourceFile, error) {
		b, err := lookupBuiltin(name)
		if err != nil {
			return nil, err
		}
		raw, err := builtinFS.ReadFile(b.File)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(raw)
		return []SourceFile{{Path: "builtin:" + name, SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(raw))}}, nil
	},
	load:  loadBuiltin,
	check: builtinCheck,
}

func builtinCheck(e *config.Experiment, name string) config.Problems {
	b, err := lookupBuiltin(name)
	if err != nil {
		return config.Problems{e.Problem("data.source", "%v", strings.TrimPrefix(err.Error(), ErrBadData.Error()+": "))}
	}
	var ps config.Problems
	allowed := tableOptions
	if b.Kind == "series" {
		allowed = seriesOptions
		if e.Data.Task != "forecasting" {
			ps = append(ps, e.Problem("data.task", "builtin:%s is a time series: set data.task: forecasting", name))
		}
		ps = append(ps, orderedCheck(e)...)
		ps = append(ps, seriesCheck(e)...)
	} else {
		if e.Data.Task == "forecasting" {
			ps = append(ps, e.Problem("data.task", "builtin:%s is a table, not a time series; forecasting needs a series source", name))
		}
		ps = append(ps, tableCheck(e)...)
		if n := len(e.Data.Classes); n > 0 && b.indexedLabels(e) && n != len(b.Classes) {
			ps = append(ps, e.Problem("data.classes", "names %d classes, but builtin:%s has %d (labels 0 to %d); data.classes names them in index order",
				n, name, len(b.Classes), len(b.Classes)-1))
		}
	}
	for _, key := range sourceOptions {
		if e.Changed("data."+key) && slices.Contains(builtinOptions, key) && !slices.Contains(allowed, key) {
			ps = append(ps, e.Problem("data."+key, "does not apply to builtin:%s (a %s)", name, b.Kind))
		}
	}
	return ps
}

func loadBuiltin(exp *config.Experiment, name string, rep *Report) (*Dataset, error) {
	b, err := lookupBuiltin(name)
	if err != nil {
		return nil, err
	}
	text, _, err := b.open()
	if err != nil {
		return nil, err
	}
	d := exp.Data
	file := "builtin:" + name
	if b.Kind == "series" {
		return loadSeries(exp, file, bytes.NewReader(text), b.Label, b.Time, rep)
	}
	opt := tableCSVOptions(d, ',', b.Excluded)
	opt.header = true
	opt.targets = targetsOf(d, b.Label)
	if selfTarget(exp) { // the label is neither a target nor a feature
		opt.targets, opt.exclude = nil, append(slices.Clone(b.Excluded), b.Label)
	}
	f, err := readCSV(file, bytes.NewReader(text), opt)
	if err != nil {
		return nil, err
	}
	var classes []string
	if b.indexedLabels(exp) {
		// The file holds class indices, which the user cannot edit:
		// data.classes names them in index order (builtinCheck checks the
		// count), and a label becomes its class's name.
		classes = b.Classes
		if len(d.Classes) > 0 {
			classes = d.Classes
		}
		for i, c := range f.y {
			if k, err := strconv.Atoi(c); err == nil && k >= 0 && k < len(classes) {
				f.y[i] = classes[k]
			}
		}
	}
	return buildTable(exp, f, classes, rep)
}

// indexedLabels says whether a table's labels are the built-in's own
// class indices: its label column, read for its task (or as a
// conditional GAN's classes).
func (b Builtin) indexedLabels(e *config.Experiment) bool {
	d := e.Data
	t := targetsOf(d, b.Label)
	return b.Kind == "table" && len(b.Classes) > 0 && (d.Task == b.Task || KeepsClasses(e)) && len(t) == 1 && t[0] == b.Label
}
