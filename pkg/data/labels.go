package data

import (
	"errors"

	"fmt"
	"github.com/dltrain/dltrain/pkg/config"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Labels of a classification are read in one of three ways:
//
//   - with data.classes, a label is a class name: it must equal one of the
//     names exactly (cells are trimmed), else it is an unknown class;
//   - without, when every label is a number, the labels are class indices:
//     integers from 0, compared by value ("01", "1" and "1.0" are class 1);
//   - without, when some label is not a number, the labels are class names:
//     the distinct labels, numbers by value first in numeric order (so "01"
//     and "1" are again one class, named "1"), then texts sorted.
//
// A built-in names the classes of its integer labels; loadBuiltin turns
// those into names first. Every error names the file, line and column of
// the label.

// classLabels turns the label cells of f into class indices in f.yv and
// returns the class names. known holds the class names (data.classes, or
// a built-in's), nil to infer them.
func classLabels(f *frame, known []string, policy string, rep *Report) ([]string, error) {
	if f.y == nil {
		classes, err := classIndices(f, known)
		if err == nil && len(known) == 0 {
			emptyClasses(f.yv, len(classes), rep)
		}
		return classes, err
	}
	if err := dropMissingLabels(f, policy, rep); err != nil {
		return nil, err
	}
	var classes []string
	var err error
	if len(known) > 0 {
		classes, err = known, namedLabels(f, known)
	} else {
		classes, err = inferClasses(f, rep)
	}
	if err != nil {
		return nil, err
	}
	f.y, f.yCols = nil, nil
	return classes, nil
}

// namedLabels reads labels that must be one of the class names known.
func namedLabels(f *frame, known []string) error {
	byName := make(map[string]int, len(known))
	for i, c := range known {
		byName[c] = i
	}
	out := make([]float32, len(f.y))
	for i, cell := range f.y {
		k, ok := byName[cell]
		if !ok {
			hint := ""
			if _, err := strconv.Atoi(cell); err == nil {
				hint = " (with data.classes a label is a class name, never an index)"
			}
			return f.targetErr(i, "unknown class %q; the classes (data.classes) are: %s%s", cell, strings.Join(known, ", "), hint)
		}
		out[i] = float32(k)
	}
	f.yv = out
	return nil
}

// labelNumber reads a label as a number. ok: it is written as one (±Inf
// and numbers beyond float64, such as 1e400, included: in a column of
// numbers they are refused as not class indices). exact: v is the number
// written, not ±Inf for an overflow or 0 for an underflow (1e-400). NaN
// is a missing label, dropped before.
func labelNumber(cell string) (v float64, ok, exact bool) {
	v, err := strconv.ParseFloat(cell, 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) || math.IsNaN(v) {
		return 0, false, false
	}
	return v, true, err == nil && (v != 0 || !nonZeroMantissa(cell))
}

// nonZeroMantissa says whether a number that ParseFloat accepted has a
// digit other than 0 before its exponent: 1e-400, read as 0, has one.
func nonZeroMantissa(cell string) bool {
	s := strings.ToLower(strings.TrimLeft(cell, "+-"))
	mark, digits := "e", "123456789"
	if strings.HasPrefix(s, "0x") {
		s, mark, digits = s[2:], "p", "123456789abcdef"
	}
	s, _, _ = strings.Cut(s, mark)
	return strings.ContainsAny(s, digits)
}

// inferClasses names the classes of labels given without data.classes
// (see the rules above) and fills f.yv. Numeric labels written in more
// than one way ("01", "1") are one class, and a note says so.
func inferClasses(f *frame, rep *Report) ([]string, error) {
	type label struct {
		value   float64
		numeric bool
		exact   bool   // value is the number written (see labelNumber)
		key     string // the class: the number written canonically, or the text
	}
	labels := make(map[string]label, 16)
	numeric := true
	for _, c := range f.y {
		if _, seen := labels[c]; seen {
			continue
		}
		v, ok, exact := labelNumber(c)
		if v == 0 {
			v = 0 // -0 is 0
		}
		l := label{value: v, numeric: ok, exact: exact, key: c}
		if exact {
			l.key = strconv.FormatFloat(l.value, 'f', -1, 64)
		}
		labels[c] = l
		numeric = numeric && ok
	}
	out := make([]float32, len(f.y))
	var classes []string
	if numeric {
		maxIdx := -1
		for i, c := range f.y {
			v := labels[c].value
			msg := ""
			switch {
			case !labels[c].exact:
				msg = "is beyond the range of a float64, so not a class index"
			case v != math.Trunc(v) || math.IsInf(v, 0):
				msg = "is not an integer, so not a class index (is the task regression?)"
			case v < 0:
				msg = "is negative: class indices start at 0 (without data.classes, numeric labels are class indices 0..k-1)"
			case v > 1<<24:
				msg = "is implausibly large for a class index; expected class indices 0..k-1"
			}
			if msg != "" {
				return nil, f.targetErr(i, "class label %q %s", c, msg)
			}
			out[i] = float32(v)
			maxIdx = max(maxIdx, int(v))
		}
		classes = make([]string, maxIdx+1)
		for i := range classes {
			classes[i] = strconv.Itoa(i)
		}
		emptyClasses(out, len(classes), rep)
	} else {
		byKey := map[string]label{}
		for _, l := range labels {
			byKey[l.key] = l
		}
		for k := range byKey {
			classes = append(classes, k)
		}
		slices.SortFunc(classes, func(a, b string) int {
			la, lb := byKey[a], byKey[b]
			switch {
			case la.exact && lb.exact:
				return cmpFloat(la.value, lb.value)
			case la.exact != lb.exact:
				if la.exact {
					return -1
				}
				return 1
			}
			return strings.Compare(a, b)
		})
		index := make(map[string]int, len(classes))
		for i, c := range classes {
			index[c] = i
		}
		for i, c := range f.y {
			out[i] = float32(index[labels[c].key])
		}
	}
	f.yv = out
	spellings := map[string][]string{}
	for c, l := range labels {
		if l.exact {
			spellings[l.key] = append(spellings[l.key], c)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(spellings)) {
		if s := spellings[k]; len(s) > 1 {
			slices.Sort(s)
			rep.add("labels %s are one class, %s: numeric labels compare by value", strings.Join(quoteAll(s), ", "), k)
		}
	}
	return classes, nil
}

// emptyClasses notes the class indices below the largest label that no
// label uses: each still gets an output the model is trained to give
// low scores. Labels 1..k are most likely 1-based.
func emptyClasses(labels []float32, k int, rep *Report) {
	count := make([]int, k)
	for _, y := range labels {
		count[int(y)]++
	}
	var empty []string
	lo := -1
	for i, n := range count {
		switch {
		case n == 0:
			empty = append(empty, strconv.Itoa(i))
		case lo < 0:
			lo = i
		}
	}
	if len(empty) == 0 {
		return
	}
	what := "class " + empty[0] + " has"
	if len(empty) > 1 {
		what = "classes " + strings.Join(empty[:min(len(empty), 10)], ", ")
		if len(empty) > 10 {
			what += fmt.Sprintf(" and %d more", len(empty)-10)
		}
		what += " have"
	}
	hint := "numeric labels are class indices 0..k-1, each an output of the model;"
	if lo == 1 && len(empty) == 1 {
		hint = "are they 1-based?"
	}
	rep.add("%s no samples: labels run %d..%d; %s give data.classes or relabel", what, lo, k-1, hint)
}

func quoteAll(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strconv.Quote(x)
	}
	return out
}

// classIndices checks numeric labels (array sources): integers in
// 0..k-1, k being the number of known classes, or else the largest label
// plus one.
func classIndices(f *frame, known []string) ([]string, error) {
	maxLabel := -1
	for r, v := range f.yv {
		switch {
		case v != float32(math.Trunc(float64(v))) || math.IsNaN(float64(v)):
			return nil, f.rowErr(r, "", "class label %v is not an integer (is the task regression?)", v)
		case v < 0:
			return nil, f.rowErr(r, "", "class label %v is negative: class labels are indices from 0%s", v, classRange(known))
		case len(known) > 0 && int(v) >= len(known):
			return nil, f.rowErr(r, "", "class label %v is out of range%s", v, classRange(known))
		case v > 1<<24:
			return nil, f.rowErr(r, "", "class label %v is implausibly large; expected class indices 0..k-1", v)
		}
		maxLabel = max(maxLabel, int(v))
	}
	if len(known) > 0 {
		return known, nil
	}
	classes := make([]string, maxLabel+1)
	for i := range classes {
		classes[i] = strconv.Itoa(i)
	}
	return classes, nil
}

// classRange says which indices the classes of data.classes allow: ":
// data.classes names 3 classes, indices 0 to 2", or "" without them.
func classRange(known []string) string {
	switch len(known) {
	case 0:
		return ""
	case 1:
		return ": data.classes names 1 class, index 0"
	}
	return fmt.Sprintf(": data.classes names %d classes, indices 0 to %d", len(known), len(known)-1)
}

// regressionTargets parses the target cells of f as numbers into f.yv.
func regressionTargets(f *frame, policy string, rep *Report) error {
	if f.y == nil {
		for i, v := range f.yv {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return f.rowErr(i/len(f.targets), "", "expected a finite number as the regression target, got %v", v)
			}
		}
		return nil
	}
	if err := dropMissingLabels(f, policy, rep); err != nil {
		return err
	}
	out := make([]float32, len(f.y))
	for i, cell := range f.y {
		v, err := strconv.ParseFloat(cell, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
			return f.targetErr(i, "expected a finite number as the regression target, got %q", cell)
		}
		out[i] = float32(v)
	}
	f.y, f.yCols, f.yv = nil, nil, out
	return nil
}

// dropMissingLabels removes rows whose target is missing, or stops at the
// first with policy "error". A target is never imputed.
func dropMissingLabels(f *frame, policy string, rep *Report) error {
	var rows []int
	missing := map[int]bool{}
	nt := len(f.targets)
	for i, cell := range f.y {
		if isMissing(cell) {
			r := i / nt
			if policy == "error" {
				return f.targetErr(i, "the label is missing; set data.clean.missing to drop (or mean, median, constant: a row without a label is dropped) to drop such rows")
			}
			if !missing[r] {
				missing[r] = true
				rows = append(rows, r)
			}
		}
	}
	if len(rows) > 0 {
		list := f.rowList(rows)
		f.keepRows(func(r int) bool { return !missing[r] })
		rep.add("dropped %s with a missing label: %s", nouns(len(rows), "row"), list)
	}
	return nil
}

// checkCoverage looks for classes without a training sample: a class of
// data.classes the data never uses, a gap in numeric labels, or a class
// whose samples all went to val or test. The model still gets an output
// for each, which training only ever pushes down. With data.clean.labels:
// warn (the default) a note names them; with error they are refused.
// Gaps in numeric labels without data.classes have their note already
// (emptyClasses: are the labels 1-based?), so warn does not repeat it.
func checkCoverage(exp *config.Experiment, ds *Dataset, rep *Report) error {
	if exp.Data.Task != "classification" || len(ds.Classes) == 0 {
		return nil
	}
	k := len(ds.Classes)
	train, other := make([]int, k), make([]int, k)
	for _, s := range ds.Splits() {
		count := other
		if s == ds.Train {
			count = train
		}
		for _, y := range s.Y[:s.N] {
			if c := int(y); c >= 0 && c < k {
				count[c]++
			}
		}
	}
	refuse := exp.Data.Clean.Labels == "error"
	var absent, elsewhere []string
	for c := range k {
		switch {
		case train[c] > 0:
		case other[c] > 0:
			n, how := other[c], "are all"
			if n == 1 {
				how = "is"
			}
			elsewhere = append(elsewhere, fmt.Sprintf("class %q has no training sample (its %s %s in val or test)", ds.Classes[c], nouns(n, "sample"), how))
		case len(exp.Data.Classes) > 0 || refuse:
			absent = append(absent, strconv.Quote(ds.Classes[c]))
		}
	}
	var found []string
	if len(absent) > 0 {
		from := ""
		if len(exp.Data.Classes) > 0 {
			from = " (data.classes)"
		}
		what := "class " + absent[0] + from + " has"
		if len(absent) > 1 {
			what = "classes " + shortList(absent) + from + " have"
		}
		found = append(found, what+" no training sample (no sample at all)")
	}
	if len(elsewhere) > 10 {
		elsewhere = append(elsewhere[:10], fmt.Sprintf("%d more classes have no training sample", len(elsewhere)-10))
	}
	found = append(found, elsewhere...)
	if len(found) == 0 {
		return nil
	}
	_, file, _ := strings.Cut(exp.Data.Source, ":")
	if strings.HasPrefix(exp.Data.Source, "builtin:") {
		file = exp.Data.Source
	}
	if refuse {
		return badFile(file, "%s; data.clean.labels: error refuses a class the model cannot learn (set it to warn to train anyway)", strings.Join(found, "; "))
	}
	for _, f := range found {
		rep.add("%s: the model is trained only to give it low scores; data.clean.labels: error refuses such data", f)
	}
	return nil
}
