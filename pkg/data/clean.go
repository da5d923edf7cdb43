package data

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Report records what preparing the data did, in words a user can check:
// rows dropped and why, with their lines.
type Report struct {
	Notes []string
}

func (r *Report) add(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// lineList formats up to ten line numbers: "lines 14, 88, 102 and 9 more".
func lineList(lines []int) string {
	var b strings.Builder
	b.WriteString("line")
	if len(lines) > 1 {
		b.WriteString("s")
	}
	for i, l := range lines {
		if i == 10 {
			fmt.Fprintf(&b, " and %d more", len(lines)-10)
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %d", l)
	}
	return b.String()
}

// cleanMissing applies the missing-value policy to rows holding an empty,
// NaN or infinite feature: "error" stops at the first, "drop" removes them.
func cleanMissing(f *frame, policy string, rep *Report) error {
	if len(f.missing) == 0 {
		return nil
	}
	bad := make([]int, 0, len(f.missing))
	for r := range f.missing {
		bad = append(bad, r)
	}
	slices.Sort(bad)
	if policy == "error" {
		c := f.missing[bad[0]]
		return badf(f.file, c.line, c.col, c.field,
			"missing or non-finite value %q (%d rows have one); set data.clean.missing: drop to drop such rows", c.text, len(bad))
	}
	lines := make([]int, len(bad))
	for i, r := range bad {
		lines[i] = f.lines[r]
	}
	f.keepRows(func(r int) bool { _, miss := f.missing[r]; return !miss })
	rep.add("dropped %d rows with missing or non-finite values: %s", len(bad), lineList(lines))
	return nil
}

// keepRows removes the rows for which keep is false.
func (f *frame) keepRows(keep func(row int) bool) {
	nf, nt := len(f.features), len(f.targets)
	w := 0
	missing := map[int]cellPos{}
	for r := 0; r < f.rows(); r++ {
		if !keep(r) {
			continue
		}
		copy(f.x[w*nf:(w+1)*nf], f.x[r*nf:(r+1)*nf])
		copy(f.y[w*nt:(w+1)*nt], f.y[r*nt:(r+1)*nt])
		f.lines[w] = f.lines[r]
		if c, ok := f.missing[r]; ok {
			missing[w] = c
		}
		w++
	}
	f.x, f.y, f.lines, f.missing = f.x[:w*nf], f.y[:w*nt], f.lines[:w], missing
}

// classLabels turns label cells into class indices. With known classes
// (a built-in, or data.classes) a cell must be an index in range or a class
// name; otherwise integer labels are their own index and text labels are
// indexed in sorted order.
func classLabels(f *frame, known []string, policy string, rep *Report) ([]float32, []string, error) {
	if err := dropMissingLabels(f, policy, rep); err != nil {
		return nil, nil, err
	}
	classes := known
	if classes == nil {
		if r := firstFraction(f.y); r >= 0 {
			return nil, nil, badf(f.file, f.lines[r], 0, f.targets[0], "class label %q is not an integer (is the task regression?)", f.y[r])
		}
		classes = inferClasses(f.y)
	}
	byName := map[string]int{}
	for i, c := range classes {
		byName[c] = i
	}
	out := make([]float32, f.rows())
	for r, cell := range f.y {
		if k, ok := byName[cell]; ok {
			out[r] = float32(k)
			continue
		}
		v, err := strconv.ParseFloat(cell, 64)
		switch {
		case err != nil:
			return nil, nil, badf(f.file, f.lines[r], 0, f.targets[0], "unknown class %q; the classes are: %s", cell, strings.Join(classes, ", "))
		case v != math.Trunc(v):
			return nil, nil, badf(f.file, f.lines[r], 0, f.targets[0], "class label %q is not an integer (is the task regression?)", cell)
		case v < 0 || int(v) >= len(classes):
			return nil, nil, badf(f.file, f.lines[r], 0, f.targets[0], "class label %q is out of range: there are %d classes, 0 to %d", cell, len(classes), len(classes)-1)
		}
		out[r] = float32(v)
	}
	return out, classes, nil
}

// firstFraction returns the first row whose label is a non-integer number
// when every label is a number, or -1: such labels are a regression target,
// not class names.
func firstFraction(cells []string) int {
	first := -1
	for i, c := range cells {
		v, err := strconv.ParseFloat(c, 64)
		if err != nil {
			return -1
		}
		if first < 0 && v != math.Trunc(v) {
			first = i
		}
	}
	return first
}

// inferClasses: all non-negative integers -> "0".."max"; otherwise the
// sorted distinct texts.
func inferClasses(cells []string) []string {
	maxInt, allInts := -1, true
	seen := map[string]bool{}
	for _, c := range cells {
		seen[c] = true
		v, err := strconv.Atoi(c)
		if err != nil || v < 0 {
			allInts = false
		} else {
			maxInt = max(maxInt, v)
		}
	}
	if allInts {
		out := make([]string, maxInt+1)
		for i := range out {
			out[i] = strconv.Itoa(i)
		}
		return out
	}
	out := make([]string, 0, len(seen))
	for c := range seen {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

// regressionTargets parses target cells as numbers.
func regressionTargets(f *frame, policy string, rep *Report) ([]float32, error) {
	if err := dropMissingLabels(f, policy, rep); err != nil {
		return nil, err
	}
	out := make([]float32, len(f.y))
	nt := len(f.targets)
	for i, cell := range f.y {
		v, err := strconv.ParseFloat(cell, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, badf(f.file, f.lines[i/nt], 0, f.targets[i%nt], "expected a finite number as the regression target, got %q", cell)
		}
		out[i] = float32(v)
	}
	return out, nil
}

func dropMissingLabels(f *frame, policy string, rep *Report) error {
	var lines []int
	missing := map[int]bool{}
	for i, cell := range f.y {
		if slices.Contains(missingMarkers, strings.ToLower(cell)) {
			r := i / len(f.targets)
			if policy == "error" {
				return badf(f.file, f.lines[r], 0, f.targets[i%len(f.targets)], "the label is missing; set data.clean.missing: drop to drop such rows")
			}
			if !missing[r] {
				missing[r] = true
				lines = append(lines, f.lines[r])
			}
		}
	}
	if len(lines) > 0 {
		f.keepRows(func(r int) bool { return !missing[r] })
		rep.add("dropped %d rows with a missing label: %s", len(lines), lineList(lines))
	}
	return nil
}
