package data

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// frame is a table read from a source: the feature columns parsed as
// numbers (NaN where a cell is missing) and the target cells kept as text
// until the task decides how to read them.
type frame struct {
	file     string
	features []string  // feature column names
	targets  []string  // target column names
	x        []float32 // rows × len(features)
	y        []string  // rows × len(targets)
	lines    []int     // source line of each row
	// missing[i] is the first (column, position) of row i holding a missing
	// or non-finite feature, or nil when the row is whole.
	missing map[int]cellPos
}

type cellPos struct {
	field     string
	line, col int
	text      string
}

func (f *frame) rows() int { return len(f.lines) }

// csvOptions says which columns of a CSV are features and which the target.
type csvOptions struct {
	label    string   // target column name
	features []string // feature columns; empty means all but the label and excluded
	exclude  []string
}

// missingMarkers are cell texts read as "no value".
var missingMarkers = []string{"", "na", "n/a", "null", "none", "?"}

// readCSV parses CSV text with a header line. A UTF-8 byte order mark and
// CRLF line ends are accepted. Every error names the file, line and column.
func readCSV(file string, text []byte, opt csvOptions) (*frame, error) {
	text = bytes.TrimPrefix(text, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(text)) == 0 {
		return nil, badf(file, 0, 0, "", "the file is empty; expected a header line and data rows")
	}
	r := csv.NewReader(bytes.NewReader(text))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, csvErr(file, err)
	}
	header = slices.Clone(header)
	for i := range header {
		header[i] = strings.TrimSpace(header[i])
	}
	labelIdx, featIdx, err := pickColumns(file, header, opt)
	if err != nil {
		return nil, err
	}
	f := &frame{file: file, missing: map[int]cellPos{}, targets: []string{header[labelIdx]}}
	for _, i := range featIdx {
		f.features = append(f.features, header[i])
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(file, err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" && len(header) > 1 {
			continue // a blank line
		}
		row := f.rows()
		for _, i := range featIdx {
			cell := strings.TrimSpace(rec[i])
			v, ok := parseCell(cell)
			if !ok {
				l, c := r.FieldPos(i)
				return nil, badf(file, l, c, header[i], "expected a number, got %q", cell)
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				if _, seen := f.missing[row]; !seen {
					l, c := r.FieldPos(i)
					f.missing[row] = cellPos{field: header[i], line: l, col: c, text: cell}
				}
			}
			f.x = append(f.x, float32(v))
		}
		f.y = append(f.y, strings.TrimSpace(rec[labelIdx]))
		f.lines = append(f.lines, line)
	}
	if f.rows() == 0 {
		return nil, badf(file, 1, 0, "", "the file has a header but no data rows")
	}
	return f, nil
}

// parseCell reads a number; missing markers read as NaN. ok is false for
// text that is neither.
func parseCell(s string) (float64, bool) {
	if slices.Contains(missingMarkers, strings.ToLower(s)) {
		return math.NaN(), true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return v, true // ±Inf for overflow, read as non-finite
		}
		return 0, false
	}
	return v, true
}

func pickColumns(file string, header []string, opt csvOptions) (int, []int, error) {
	index := map[string]int{}
	for i, h := range header {
		if _, dup := index[h]; dup {
			return 0, nil, badf(file, 1, 0, h, "the header names this column twice")
		}
		index[h] = i
	}
	missingCol := func(name, what string) error {
		return badf(file, 1, 0, "", "%s column %q does not exist; the columns are: %s", what, name, strings.Join(header, ", "))
	}
	if opt.label == "" {
		return 0, nil, badf(file, 1, 0, "", "no label column given (data.label); the columns are: %s", strings.Join(header, ", "))
	}
	labelIdx, ok := index[opt.label]
	if !ok {
		return 0, nil, missingCol(opt.label, "label")
	}
	var feats []int
	if len(opt.features) > 0 {
		for _, name := range opt.features {
			i, ok := index[name]
			if !ok {
				return 0, nil, missingCol(name, "feature")
			}
			if i == labelIdx {
				return 0, nil, badf(file, 1, 0, name, "is both the label and a feature")
			}
			feats = append(feats, i)
		}
	} else {
		for i, h := range header {
			if i != labelIdx && !slices.Contains(opt.exclude, h) {
				feats = append(feats, i)
			}
		}
	}
	if len(feats) == 0 {
		return 0, nil, badf(file, 1, 0, "", "no feature columns: the file has only the label column %q", opt.label)
	}
	return labelIdx, feats, nil
}

func csvErr(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return badf(file, pe.Line, pe.Column, "", "row has a different number of fields than the header (ragged row)")
		}
		return badf(file, pe.Line, pe.Column, "", "%v", pe.Err)
	}
	return fmt.Errorf("%s: %w", file, err)
}
