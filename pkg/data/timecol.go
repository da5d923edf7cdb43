package data

import (
	"math"
	"strconv"
	"time"
)

// A time column (the column of a time split, or a series' time) orders
// rows. Its cells are all numbers (years, Unix seconds, step counts) or all
// ISO 8601 dates or date-times of one layout; the first row decides which.
// They are never compared as text: one stray cell would otherwise turn the
// whole column into text, where "10" sorts before "4", and put future rows
// into training.

// timeLayouts are the date and date-time forms a time cell may take, most
// specific first. A layout without a zone reads the time as UTC; a
// fraction of a second is accepted after the seconds of any layout.
var timeLayouts = []string{
	time.RFC3339, // 2024-03-01T12:30:00Z, 2024-03-01T12:30:00.5+01:00
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04",
	"2006-01-02",
	"2006-01",
}

// times holds the parsed time cells of a frame's rows, in one of two
// forms: numbers, or instants (layout names the date form).
type times struct {
	layout  string // "" for numbers
	nums    []float64
	instant []time.Time
}

// cmp compares the times of rows p and q.
func (t *times) cmp(p, q int) int {
	if t.layout == "" {
		return cmpFloat(t.nums[p], t.nums[q])
	}
	return t.instant[p].Compare(t.instant[q])
}

// parseTimes reads the time cells (f.keys) of rows. The first row's cell
// decides the form: a finite number, or a date in one of timeLayouts;
// every other cell must take the same form, else the error names its
// file, line and column. A missing cell is an error (a time split's cleanKeys
// drops such rows first under data.clean.missing: drop).
func parseTimes(f *frame, rows []int) (*times, error) {
	t := &times{}
	if len(rows) == 0 {
		return t, nil
	}
	for _, r := range rows {
		if c, ok := f.keyMissing[r]; ok {
			return nil, badf(f.file, c.line, c.col, c.field, "the time is missing: %q; every row needs its time", c.text)
		}
	}
	first := rows[0]
	if _, ok := timeNumber(f.keys[first]); !ok {
		t.layout = timeLayoutOf(f.keys[first])
		if t.layout == "" {
			return nil, f.keyErr(first, "time %q is neither a number nor an ISO 8601 date or date-time (such as 2024-03-01 or 2024-03-01T12:30:00Z)", f.keys[first])
		}
		t.instant = make([]time.Time, f.rows())
	} else {
		t.nums = make([]float64, f.rows())
	}
	for _, r := range rows {
		cell := f.keys[r]
		if t.layout == "" {
			v, ok := timeNumber(cell)
			if !ok {
				return nil, f.keyErr(r, "time %q is not a number, but the first time (%s) is %q: every time of the column must be a number (a time column is never compared as text)",
					cell, f.where(first), f.keys[first])
			}
			t.nums[r] = v
			continue
		}
		v, err := time.Parse(t.layout, cell)
		if err != nil {
			return nil, f.keyErr(r, "time %q is not a date of the form of the first time (%s), %q (layout %s): every time of the column must take that form",
				cell, f.where(first), f.keys[first], t.layout)
		}
		t.instant[r] = v
	}
	return t, nil
}

// timeNumber reads a cell as a finite number.
func timeNumber(cell string) (float64, bool) {
	v, err := strconv.ParseFloat(cell, 64)
	return v, err == nil && !math.IsInf(v, 0) && !math.IsNaN(v)
}

// timeLayoutOf returns the first of timeLayouts that parses cell, or "".
func timeLayoutOf(cell string) string {
	for _, l := range timeLayouts {
		if _, err := time.Parse(l, cell); err == nil {
			return l
		}
	}
	return ""
}
