package data

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
)

// buildTable turns a frame (one row per sample) into a dataset: it cleans
// the rows, reads the labels, splits, then fits the imputation, the
// categorical encodings and the scaling on the training rows alone and
// applies them to every split. known holds the class names the source
// knows (nil to infer them).
func buildTable(exp *config.Experiment, f *frame, known []string, rep *Report) (*Dataset, error) {
	d := exp.Data
	rep.add("read %d rows of %d features from %s", f.rows(), f.width+len(f.cats), d.Source)
	meta, a, err := cleanAndAssign(exp, f, known, rep)
	if err != nil {
		return nil, err
	}
	if splitMethod(d, false) == "random" {
		rep.add("split %d rows into train %d, val %d, test %d (seed %d%s)", f.rows(), a.count(splitTrain), a.count(splitVal), a.count(splitTest), exp.Seed,
			map[bool]string{true: ", stratified", false: ""}[strings.HasPrefix(meta.Split, "stratified")])
	}
	if a.fold != nil {
		rep.add("dealt the %d non-test rows into %d folds (seed %d); fold %d is the validation split", a.count(splitTrain)+a.count(splitVal), d.Split.Folds, exp.Seed, d.Split.Fold)
	}
	if f.preset != nil {
		rep.add("the test split is the given test set: %d samples", a.count(splitTest))
	}
	leaks(f, a, rep)
	perm := a.order()
	f.reorder(perm)
	var folds []int
	if a.fold != nil {
		folds = make([]int, len(perm))
		for i, r := range perm {
			folds[i] = a.fold[r]
		}
	}
	x, err := fitFeatures(exp, f, a.count(splitTrain), &meta, rep)
	if err != nil {
		return nil, err
	}
	y := f.yv
	if selfTarget(exp) {
		// The target is the preprocessed input: the same values, shared.
		meta.Target, y = slices.Clone(meta.Input), x
		rep.add("the target of every sample is its own input, after preprocessing")
	}
	w, yw := meta.InputSize(), meta.TargetSize()
	var parts [3]*Split
	lo := 0
	for s, name := range splitNames {
		k := a.count(int8(s))
		sp := &Split{Name: name, N: k,
			X: x[lo*w : (lo+k)*w : (lo+k)*w], Y: y[lo*yw : (lo+k)*yw : (lo+k)*yw], Lines: f.lines[lo : lo+k : lo+k]}
		if f.names != nil {
			sp.Names = f.names[lo : lo+k : lo+k]
		}
		if folds != nil {
			sp.Folds = folds[lo : lo+k : lo+k]
		}
		parts[s] = sp
		lo += k
	}
	return &Dataset{Meta: meta, Train: parts[0], Val: parts[1], Test: parts[2]}, nil
}

// cleanAndAssign cleans a table's rows (cleanRows) and assigns them to
// the splits, stratified by class for a classification task; the meta
// says how it split. Tables and text columns share it.
func cleanAndAssign(exp *config.Experiment, f *frame, known []string, rep *Report) (Meta, assignment, error) {
	d := exp.Data
	meta, err := cleanRows(exp, f, known, rep)
	if err != nil {
		return meta, assignment{}, err
	}
	var strat []float32
	if ClassTask(d.Task) {
		strat = f.yv
	}
	a, err := assignRows(f, strat, d, exp.Seed, rep)
	if err != nil {
		return meta, a, err
	}
	meta.Split = describeSplit(f, d, strat != nil)
	return meta, a, nil
}

// cleanRows applies the missing-value policy, reads the labels (into
// f.yv) and handles duplicate rows; it returns the dataset's description
// so far.
func cleanRows(exp *config.Experiment, f *frame, known []string, rep *Report) (Meta, error) {
	d := exp.Data
	meta := Meta{Task: d.Task, Targets: f.targets, Source: d.Source, Columns: f.features}
	if m := splitMethod(d, false); m == "group" || m == "time" {
		what := "group id"
		if m == "time" {
			what = "time"
		}
		if err := cleanKeys(f, what, d.Clean.Missing, rep); err != nil {
			return meta, err
		}
	}
	if err := cleanMissing(f, d.Clean.Missing, rep); err != nil {
		return meta, err
	}
	if len(d.Classes) > 0 {
		known = d.Classes
	}
	var err error
	switch {
	case selfTarget(exp):
		meta.Targets = nil // the target, the input itself, gets its shape once the features are fitted
	case classTargets(exp):
		meta.Classes, err = classLabels(f, known, d.Clean.Missing, rep)
		meta.Target = []int{}
		meta.Conditional = KeepsClasses(exp)
	default:
		err = regressionTargets(f, d.Clean.Missing, rep)
		meta.Target = []int{len(f.targets)}
	}
	if err != nil {
		return meta, err
	}
	if f.rows() == 0 {
		return meta, badFile(f.file, "no rows are left after cleaning")
	}
	return meta, cleanDuplicates(f, d.Clean.Duplicates, rep)
}

// fitFeatures fits the imputation, the categorical encodings, the
// constant-feature check and the scaling on the first nTrain rows of f
// (the training split), applies them to every row, records them in meta,
// and returns the features of every row.
func fitFeatures(exp *config.Experiment, f *frame, nTrain int, meta *Meta, rep *Report) ([]float32, error) {
	d := exp.Data
	var err error
	if p := d.Clean.Missing; p == "mean" || p == "median" || p == "constant" {
		if meta.Imputation, err = fitImputation(f, p, d.Clean.Fill, nTrain); err != nil {
			return nil, err
		}
		if n := meta.Imputation.apply(f); n > 0 {
			rep.add("filled %d missing cells with the %s fitted on the %d training rows only", n, p, nTrain)
		}
	}
	x, names := f.x, f.features
	var encoded []int
	if len(f.cats) > 0 {
		var unseen int
		meta.Encodings = fitEncodings(f, d.Preprocess.Encoding, nTrain)
		x, names, encoded, unseen = encode(f, meta.Encodings)
		for _, e := range meta.Encodings {
			rep.add("encoded column %q (%s) with the %d categories of the training split: %s", e.Column, e.Kind, len(e.Categories), strings.Join(e.Categories, ", "))
		}
		if unseen > 0 {
			rep.add("%d val/test cells hold a category never seen in training (encoded as unknown)", unseen)
		}
	}
	w := len(x) / f.rows()
	shape := f.shape
	if w != f.width || shape == nil {
		shape = []int{w}
	}
	if consts := constantColumns(x, w, nTrain); len(consts) > 0 {
		list := make([]string, len(consts))
		for i, j := range consts {
			list[i] = featureName(names, shape, j)
		}
		if d.Clean.Constant == "drop" {
			x, names, encoded = dropColumns(x, w, names, encoded, consts)
			w -= len(consts)
			meta.RawInput = slices.Clone(shape)
			shape = []int{w}
			meta.DroppedConstant = list
			rep.add("dropped %s constant on the training split: %s", nouns(len(consts), "feature"), shortList(list))
		} else {
			rep.add("%s constant on the training split, kept (data.clean.constant: drop removes them): %s", nouns(len(consts), "feature"), shortList(list))
		}
	}
	if len(d.Shape) > 0 {
		if prod(d.Shape) != w {
			return nil, config.Problems{exp.Problem("data.shape", "shape %v holds %d values but the data has %d features per sample", d.Shape, prod(d.Shape), w)}
		}
		shape = slices.Clone(d.Shape)
	}
	meta.Input, meta.Features = shape, names
	params, inner, err := scalingLayout(exp, shape)
	if err != nil {
		return nil, err
	}
	meta.Scaling = fitScaling(d.Preprocess.Scale, x[:nTrain*w], w, params, inner)
	meta.Scaling.skip(encoded)
	meta.Scaling.Apply(x)
	if meta.Scaling != nil {
		how := ""
		if d.Preprocess.PerChannel {
			how = fmt.Sprintf(", one per channel (%d)", params)
		}
		rep.add("fitted %s scaling on the %d training rows only%s", meta.Scaling.Kind, nTrain, how)
	}
	return x, nil
}

// describeSplit names the split method for the dataset's description.
func describeSplit(f *frame, d config.Data, labels bool) string {
	m := splitMethod(d, false)
	if m == "random" && d.Split.Stratify && labels {
		m = "stratified"
	}
	if f.preset != nil {
		m += " (given test set)"
	}
	if d.Split.Folds >= 2 {
		m += fmt.Sprintf(", fold %d of %d as val", d.Split.Fold, d.Split.Folds)
	}
	return m
}

// scalingLayout says how many scaling parameters a sample of shape needs
// and how many consecutive features share one.
func scalingLayout(exp *config.Experiment, shape []int) (params, inner int, err error) {
	w := prod(shape)
	if !exp.Data.Preprocess.PerChannel {
		return w, 1, nil
	}
	if len(shape) < 2 {
		return 0, 0, config.Problems{exp.Problem("data.preprocess.per_channel", "needs samples with channels first, e.g. shape [3, 32, 32]; the per-sample shape is %v", shape)}
	}
	return shape[0], w / shape[0], nil
}

// featureName names feature j: its column, or else its position in the
// per-sample shape, e.g. x[0,3,5].
func featureName(names []string, shape []int, j int) string {
	if j < len(names) {
		return names[j]
	}
	idx := make([]string, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		idx[k] = fmt.Sprint(j % shape[k])
		j /= shape[k]
	}
	return "x[" + strings.Join(idx, ",") + "]"
}

func shortList(names []string) string {
	if len(names) > 12 {
		return strings.Join(names[:12], ", ") + fmt.Sprintf(" and %d more", len(names)-12)
	}
	return strings.Join(names, ", ")
}

// dropColumns removes the features drop (sorted) from rows of width w.
func dropColumns(x []float32, w int, names []string, encoded, drop []int) ([]float32, []string, []int) {
	keep := make([]int, 0, w-len(drop))
	for j := 0; j < w; j++ {
		if !slices.Contains(drop, j) {
			keep = append(keep, j)
		}
	}
	n := len(x) / w
	nw := len(keep)
	for r := 0; r < n; r++ {
		for i, j := range keep {
			x[r*nw+i] = x[r*w+j]
		}
	}
	var newNames []string
	var newEnc []int
	for i, j := range keep {
		if j < len(names) {
			newNames = append(newNames, names[j])
		}
		if slices.Contains(encoded, j) {
			newEnc = append(newEnc, i)
		}
	}
	return x[:n*nw], newNames, newEnc
}
