package data

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
)

// source reads one kind of data source into a frame, with the class names
// it knows (nil when the labels must be inferred) and the sha256 of what
// it read.
type source func(ref string, d config.Data) (f *frame, classes []string, sha string, err error)

// sources is every data source kind, by the scheme before the colon in
// data.source.
var sources = map[string]source{
	"builtin": readBuiltin,
	"csv":     readCSVFile,
}

// Schemes lists the known source kinds.
func Schemes() []string {
	out := make([]string, 0, len(sources))
	for k := range sources {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func readBuiltin(name string, d config.Data) (*frame, []string, string, error) {
	b, err := lookupBuiltin(name)
	if err != nil {
		return nil, nil, "", err
	}
	text, sha, err := b.open()
	if err != nil {
		return nil, nil, "", err
	}
	label := d.Label
	if label == "" {
		label = b.Label
	}
	f, err := readCSV("builtin:"+name, text, csvOptions{label: label, features: d.Features})
	if err != nil {
		return nil, nil, "", err
	}
	var classes []string
	if label == b.Label && d.Task == b.Task {
		classes = b.Classes
	}
	return f, classes, sha, nil
}

func readCSVFile(path string, d config.Data) (*frame, []string, string, error) {
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, "", &Error{File: path, Msg: fmt.Sprintf("cannot read: %v", unwrapPath(err))}
	}
	sum := sha256.Sum256(text)
	f, err := readCSV(path, text, csvOptions{label: d.Label, features: d.Features})
	return f, nil, hex.EncodeToString(sum[:]), err
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Load reads, cleans, splits and scales the data an experiment names. The
// scaling is fitted on the training split only.
func Load(exp *config.Experiment) (*Dataset, *Report, error) {
	d := exp.Data
	scheme, ref, _ := strings.Cut(d.Source, ":")
	read, ok := sources[scheme]
	if !ok {
		return nil, nil, fmt.Errorf("%w: unknown data source %q", ErrBadData, d.Source)
	}
	f, classes, sha, err := read(ref, d)
	if err != nil {
		return nil, nil, err
	}
	rep := &Report{}
	rep.add("read %d rows of %d features from %s", f.rows(), len(f.features), d.Source)
	if err := cleanMissing(f, d.Clean.Missing, rep); err != nil {
		return nil, nil, err
	}
	meta := Meta{Task: d.Task, Features: f.features, Targets: f.targets, Source: d.Source, SHA256: sha}
	var y []float32
	switch d.Task {
	case "classification":
		y, meta.Classes, err = classLabels(f, classes, d.Clean.Missing, rep)
		meta.Target = []int{}
	default:
		y, err = regressionTargets(f, d.Clean.Missing, rep)
		meta.Target = []int{len(f.targets)}
	}
	if err != nil {
		return nil, nil, err
	}
	nf := len(f.features)
	meta.Input = []int{nf}
	if len(d.Shape) > 0 {
		if prod(d.Shape) != nf {
			return nil, nil, config.Problems{exp.Problem("data.shape", "shape %v holds %d values but the data has %d features", d.Shape, prod(d.Shape), nf)}
		}
		meta.Input = append([]int(nil), d.Shape...)
	}
	var strat []float32
	if d.Task == "classification" {
		strat = y
	}
	a, err := splitRows(f.rows(), strat, d.Split, exp.Seed)
	if err != nil {
		return nil, nil, err
	}
	yw := meta.TargetSize()
	ds := &Dataset{Meta: meta}
	ds.Train = take("train", a.train, f.x, nf, y, yw, f.lines)
	ds.Val = take("val", a.val, f.x, nf, y, yw, f.lines)
	ds.Test = take("test", a.test, f.x, nf, y, yw, f.lines)
	ds.Scaling = fitScaling(d.Preprocess.Scale, ds.Train.X, nf)
	for _, s := range []*Split{ds.Train, ds.Val, ds.Test} {
		ds.Scaling.Apply(s.X)
	}
	rep.add("split %d rows into train %d, val %d, test %d (seed %d%s)", f.rows(), ds.Train.N, ds.Val.N, ds.Test.N, exp.Seed,
		map[bool]string{true: ", stratified", false: ""}[d.Split.Stratify && d.Task == "classification"])
	if ds.Scaling != nil {
		rep.add("fitted %s scaling on the %d training rows only", ds.Scaling.Kind, ds.Train.N)
	}
	return ds, rep, nil
}

func init() { config.RegisterValidator(validate) }

// validate checks the data section without reading any data.
func validate(e *config.Experiment) config.Problems {
	var ps config.Problems
	d := e.Data
	scheme, ref, ok := strings.Cut(d.Source, ":")
	if d.Source != "" {
		if _, known := sources[scheme]; !ok || !known {
			ps = append(ps, e.Problem("data.source", "unknown source %q; expected SCHEME:REF with scheme one of %s (e.g. builtin:digits, csv:data.csv)",
				d.Source, strings.Join(Schemes(), ", ")))
		} else if scheme == "builtin" {
			if _, err := lookupBuiltin(ref); err != nil {
				ps = append(ps, e.Problem("data.source", "%v", strings.TrimPrefix(err.Error(), ErrBadData.Error()+": ")))
			}
		} else if scheme == "csv" && d.Label == "" {
			ps = append(ps, e.Problem("data.label", "a csv source needs the name of its label column"))
		}
	}
	if d.Task != "classification" && d.Task != "regression" {
		ps = append(ps, e.Problem("data.task", "must be classification or regression, got %q", d.Task))
	}
	return ps
}
