package data

import (
	"cmp"
	"fmt"
	"hash/maphash"
	"maps"
	"math"
	"slices"
	"strings"
	"unsafe"
)

// Report records what preparing the data did, in words a user can check:
// rows dropped and why, with their lines.
type Report struct {
	Notes []string
}

func (r *Report) add(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// nouns counts: "1 row", "3 rows".
func nouns(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// lineList formats up to ten line numbers: "lines 14, 88, 102 and 9 more".
func lineList(lines []int) string { return posList("line", lines) }

// posList formats up to ten positions of a kind ("line", "entry").
func posList(kind string, pos []int) string {
	var b strings.Builder
	b.WriteString(kind)
	if len(pos) > 1 {
		if strings.HasSuffix(kind, "y") {
			b.Reset()
			b.WriteString(strings.TrimSuffix(kind, "y") + "ie")
		}
		b.WriteString("s")
	}
	for i, l := range pos {
		if i == 10 {
			fmt.Fprintf(&b, " and %d more", len(pos)-10)
			break
		}
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %d", l)
	}
	return b.String()
}

// rowList formats the positions of rows of f: their files when the rows
// have names (image folders), else their lines or entries.
func (f *frame) rowList(rows []int) string {
	if f.names != nil {
		var b strings.Builder
		b.WriteString(map[bool]string{true: "files", false: "file"}[len(rows) > 1])
		for i, r := range rows {
			if i == 10 {
				fmt.Fprintf(&b, " and %d more", len(rows)-10)
				break
			}
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(" " + f.names[r])
		}
		return b.String()
	}
	pos := make([]int, len(rows))
	for i, r := range rows {
		pos[i] = f.lines[r]
	}
	if f.entries {
		return posList("entry", pos)
	}
	return posList("line", pos)
}

// cleanMissing applies the missing-value policy to rows holding an empty,
// NaN or infinite feature: "error" stops at the first, "drop" removes them;
// the imputing policies leave them for fitImputation, after the split.
func cleanMissing(f *frame, policy string, rep *Report) error {
	if len(f.missing) == 0 {
		return nil
	}
	bad := make([]int, 0, len(f.missing))
	for r := range f.missing {
		bad = append(bad, r)
	}
	slices.Sort(bad)
	list := f.rowList(bad)
	switch policy {
	case "error":
		c := f.missing[bad[0]]
		e := badf(cmp.Or(c.file, f.file), c.line, c.col, c.field,
			"missing or non-finite value %q (%s in all); set data.clean.missing to drop, mean, median or constant to handle them", c.text, nouns(len(bad), "such row"))
		if f.entries {
			e.Line, e.Column, e.Entry = 0, 0, c.line
		}
		return e
	case "drop":
		f.keepRows(func(r int) bool { _, miss := f.missing[r]; return !miss })
		rep.add("dropped %s with missing or non-finite values: %s", nouns(len(bad), "row"), list)
	default:
		rep.add("%s with missing or non-finite values (%s): filled with the training split's %s", nouns(len(bad), "row"), list,
			map[string]string{"mean": "mean", "median": "median", "constant": "constant data.clean.fill"}[policy])
	}
	return nil
}

// markNonFinite records the rows lo to hi of an array source (IDX, npy)
// holding a NaN or an infinity as missing, as a CSV reader records its
// empty and non-finite cells, so that data.clean.missing handles them
// alike; file names where those rows come from when it is not the
// frame's file. Each such value becomes NaN, which the imputation fills.
func (f *frame) markNonFinite(lo, hi int, file string) {
	w := max(f.width, 1)
	for i := lo * w; i < hi*w; i++ {
		if v := f.x[i]; math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			r := i / w
			if _, seen := f.missing[r]; !seen {
				f.missing[r] = cellPos{line: f.lines[r], field: fmt.Sprintf("value %d", i%w), text: fmt.Sprint(v), file: file}
			}
			f.x[i] = float32(math.NaN())
		}
	}
}

// cleanKeys handles the rows whose key cell is missing: the group id of a
// group split (such rows are not one group of their own) or the time of a
// time split (such rows have no place in time). Under missing: drop they
// are dropped and reported; under any other policy the first is an error
// (a group id or a time is never filled in).
func cleanKeys(f *frame, what, policy string, rep *Report) error {
	if len(f.keyMissing) == 0 {
		return nil
	}
	bad := slices.Sorted(maps.Keys(f.keyMissing))
	if policy != "drop" {
		c := f.keyMissing[bad[0]]
		return badf(f.file, c.line, c.col, c.field, "the %s is missing: %q (%s in all); a %s is never filled in: give every row its %s, or set data.clean.missing: drop to drop such rows",
			what, c.text, nouns(len(bad), "such row"), what, what)
	}
	list := f.rowList(bad)
	f.keepRows(func(r int) bool { _, miss := f.keyMissing[r]; return !miss })
	rep.add("dropped %s without a %s (column %q): %s", nouns(len(bad), "row"), what, f.keyName, list)
	return nil
}

// keepRows removes the rows for which keep is false.
func (f *frame) keepRows(keep func(row int) bool) {
	w, nf, nc := 0, f.width, len(f.cats)
	nt := len(f.targets)
	missing := map[int]cellPos{}
	var keyMissing map[int]cellPos
	if f.keyMissing != nil {
		keyMissing = map[int]cellPos{}
	}
	for r := 0; r < f.rows(); r++ {
		if !keep(r) {
			continue
		}
		copy(f.x[w*nf:(w+1)*nf], f.x[r*nf:(r+1)*nf])
		copy(f.cx[w*nc:(w+1)*nc], f.cx[r*nc:(r+1)*nc])
		if f.y != nil {
			copy(f.y[w*nt:(w+1)*nt], f.y[r*nt:(r+1)*nt])
			if f.yCols != nil {
				copy(f.yCols[w*nt:(w+1)*nt], f.yCols[r*nt:(r+1)*nt])
			}
		} else {
			copy(f.yv[w*nt:(w+1)*nt], f.yv[r*nt:(r+1)*nt])
		}
		f.lines[w] = f.lines[r]
		if f.names != nil {
			f.names[w] = f.names[r]
		}
		if f.keys != nil {
			f.keys[w] = f.keys[r]
		}
		if f.keyCols != nil {
			f.keyCols[w] = f.keyCols[r]
		}
		if f.preset != nil {
			f.preset[w] = f.preset[r]
		}
		if c, ok := f.missing[r]; ok {
			missing[w] = c
		}
		if c, ok := f.keyMissing[r]; ok {
			keyMissing[w] = c
		}
		w++
	}
	f.x, f.cx, f.lines, f.missing, f.keyMissing = f.x[:w*nf], f.cx[:w*nc], f.lines[:w], missing, keyMissing
	if f.y != nil {
		f.y = f.y[:w*nt]
		if f.yCols != nil {
			f.yCols = f.yCols[:w*nt]
		}
	} else {
		f.yv = f.yv[:w*nt]
	}
	if f.names != nil {
		f.names = f.names[:w]
	}
	if f.keys != nil {
		f.keys = f.keys[:w]
	}
	if f.keyCols != nil {
		f.keyCols = f.keyCols[:w]
	}
	if f.preset != nil {
		f.preset = f.preset[:w]
	}
}

// rowHashes hashes the features (and, with labels, the targets) of every
// row; equal rows have equal hashes.
func rowHashes(f *frame, labels bool) []uint64 {
	seed := maphash.MakeSeed()
	out := make([]uint64, f.rows())
	nc, nt := len(f.cats), len(f.targets)
	var h maphash.Hash
	for r := range out {
		h.SetSeed(seed)
		h.Write(floatBytes(f.x[r*f.width : (r+1)*f.width]))
		for _, c := range f.cx[r*nc : (r+1)*nc] {
			h.WriteString(c)
			h.WriteByte(0)
		}
		if labels {
			h.Write(floatBytes(f.yv[r*nt : (r+1)*nt]))
		}
		out[r] = h.Sum64()
	}
	return out
}

// floatBytes views float32 values as their bytes (in the machine's order,
// which is all a hash within one process needs).
func floatBytes(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
}

// sameRow compares two rows of f exactly (bit patterns, so NaN equals NaN).
func sameRow(f *frame, a, b int, labels bool) bool {
	w, nc, nt := f.width, len(f.cats), len(f.targets)
	for j := 0; j < w; j++ {
		if math.Float32bits(f.x[a*w+j]) != math.Float32bits(f.x[b*w+j]) {
			return false
		}
	}
	if !slices.Equal(f.cx[a*nc:(a+1)*nc], f.cx[b*nc:(b+1)*nc]) {
		return false
	}
	if labels {
		for j := 0; j < nt; j++ {
			if math.Float32bits(f.yv[a*nt+j]) != math.Float32bits(f.yv[b*nt+j]) {
				return false
			}
		}
	}
	return true
}

// firstCopies returns, for each row identical (features and targets) to an
// earlier row, that earlier row; -1 for rows seen first.
func firstCopies(f *frame, labels bool) []int {
	hashes := rowHashes(f, labels)
	byHash := map[uint64][]int{}
	out := make([]int, f.rows())
	for r, h := range hashes {
		out[r] = -1
		for _, prev := range byHash[h] {
			if sameRow(f, prev, r, labels) {
				out[r] = prev
				break
			}
		}
		if out[r] < 0 {
			byHash[h] = append(byHash[h], r)
		}
	}
	return out
}

// cleanDuplicates reports rows identical to an earlier row (features and
// label) and keeps, drops or refuses them.
func cleanDuplicates(f *frame, policy string, rep *Report) error {
	first := firstCopies(f, true)
	var dups []int
	for r, p := range first {
		if p >= 0 {
			if policy == "error" {
				return f.rowErr(r, "", "the row is identical to the row at %s; set data.clean.duplicates to keep or drop", f.where(p))
			}
			dups = append(dups, r)
		}
	}
	if len(dups) == 0 {
		return nil
	}
	list := f.rowList(dups)
	if policy == "drop" {
		f.keepRows(func(r int) bool { return first[r] < 0 })
		rep.add("dropped %s identical to an earlier row: %s", nouns(len(dups), "row"), list)
		return nil
	}
	rep.add("%s identical to an earlier row, kept (data.clean.duplicates: drop removes them): %s", nouns(len(dups), "row"), list)
	return nil
}

// Imputation fills missing features with values fitted on the training
// split: x' = Values[j] where x is missing.
type Imputation struct {
	Kind   string    `json:"kind"` // mean, median or constant
	Values []float32 `json:"values"`
	// Categories holds the fill of each categorical column: its most
	// frequent training category.
	Categories []string `json:"categories,omitempty"`
}

// fitImputation computes the fill of every numeric feature from the rows
// of x (width w) and of every categorical column from cx.
func fitImputation(f *frame, kind string, fill float64, trainRows int) (*Imputation, error) {
	w := f.width
	im := &Imputation{Kind: kind, Values: make([]float32, w)}
	col := make([]float64, 0, trainRows)
	for j := 0; j < w; j++ {
		col = col[:0]
		for r := 0; r < trainRows; r++ {
			if v := f.x[r*w+j]; !math.IsNaN(float64(v)) {
				col = append(col, float64(v))
			}
		}
		switch kind {
		case "constant":
			im.Values[j] = float32(fill)
			continue
		case "mean", "median":
			if len(col) == 0 {
				return nil, badf(f.file, 0, 0, f.features[j], "has no value in the training split to compute a %s from; drop the column or use data.clean.missing: constant", kind)
			}
		}
		if kind == "mean" {
			var s float64
			for _, v := range col {
				s += v
			}
			im.Values[j] = float32(s / float64(len(col)))
		} else {
			slices.Sort(col)
			n := len(col)
			im.Values[j] = float32((col[(n-1)/2] + col[n/2]) / 2)
		}
	}
	nc := len(f.cats)
	for j := 0; j < nc; j++ {
		count := map[string]int{}
		for r := 0; r < trainRows; r++ {
			if c := f.cx[r*nc+j]; c != "" {
				count[c]++
			}
		}
		best := ""
		for c, k := range count {
			if best == "" || k > count[best] || (k == count[best] && c < best) {
				best = c
			}
		}
		if best == "" {
			return nil, badf(f.file, 0, 0, f.cats[j], "has no category in the training split to fill missing cells with")
		}
		im.Categories = append(im.Categories, best)
	}
	return im, nil
}

// apply fills the missing cells of every row of f.
func (im *Imputation) apply(f *frame) int {
	n := 0
	for i, v := range f.x {
		if math.IsNaN(float64(v)) {
			f.x[i] = im.Values[i%f.width]
			n++
		}
	}
	nc := len(f.cats)
	for i, c := range f.cx {
		if c == "" {
			f.cx[i] = im.Categories[i%nc]
			n++
		}
	}
	return n
}

// constantColumns returns the features that take one value over the first
// rows rows of x (width w).
func constantColumns(x []float32, w, rows int) []int {
	var out []int
	for j := 0; j < w; j++ {
		c := true
		for r := 1; r < rows && c; r++ {
			c = x[r*w+j] == x[j]
		}
		if c && rows > 0 {
			out = append(out, j)
		}
	}
	return out
}
