package data

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
)

// frame is a table read from a source, before cleaning and splitting: the
// numeric features parsed (NaN where a cell is missing or not finite), the
// categorical features and the target cells kept as text until the task
// decides how to read them. Array sources (idx, npy, images) fill yv with
// numbers instead of y.
type frame struct {
	file     string
	features []string  // numeric feature names; nil for array sources
	shape    []int     // natural per-sample shape of x; nil means [width]
	width    int       // numeric features per row
	x        []float32 // rows × width
	cats     []string  // categorical feature columns
	cx       []string  // rows × len(cats); "" where missing
	targets  []string  // target column names
	y        []string  // rows × len(targets), as text
	yv       []float32 // rows × len(targets), as numbers, when y is nil
	lines    []int     // source line, or 1-based entry, of each row
	entries  bool      // lines are entries of a binary file, not text lines
	names    []string  // per-row name (an image's file); nil when none
	keys     []string  // per-row cell of data.split.column or the series time; nil when none
	keyName  string    // the column keys come from
	keyCols  []int32   // 1-based column of each keys cell in its line, for errors; nil without columns
	yCols    []int32   // the same for each y cell
	preset   []int8    // per-row fixed split, or -1; nil when no row is fixed
	// missing holds, for each row with a missing or non-finite feature,
	// the first such cell.
	missing map[int]cellPos
	// keyMissing holds the rows whose keys cell is missing, with the cell.
	keyMissing map[int]cellPos
}

type cellPos struct {
	field     string
	line, col int
	text      string
	file      string // when not the frame's file (the test pair of an idx source)
}

func (f *frame) rows() int { return len(f.lines) }

// where names row r of the frame for a message: "file cat/3.png",
// "line 12" or "entry 12".
func (f *frame) where(r int) string {
	if f.names != nil {
		return "file " + f.names[r]
	}
	if f.entries {
		return fmt.Sprintf("entry %d", f.lines[r])
	}
	return fmt.Sprintf("line %d", f.lines[r])
}

// rowErr is a problem with row r, located by its file (image folders),
// line or entry.
func (f *frame) rowErr(r int, field, format string, args ...any) *Error {
	e := &Error{File: f.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	switch {
	case f.names != nil:
		e.File = filepath.Join(f.file, filepath.FromSlash(f.names[r]))
	case f.entries:
		e.Entry = f.lines[r]
	default:
		e.Line = f.lines[r]
	}
	return e
}

// cellErr is a problem with one cell of row r: line and column when the
// frame knows the cell's column (cols, per row, from a CSV), else as
// rowErr.
func (f *frame) cellErr(r int, cols []int32, i int, field, format string, args ...any) *Error {
	e := f.rowErr(r, field, format, args...)
	if e.Line > 0 && i < len(cols) {
		e.Column = int(cols[i])
	}
	return e
}

// keyErr is a problem with the keys cell (split or time column) of row r.
func (f *frame) keyErr(r int, format string, args ...any) *Error {
	return f.cellErr(r, f.keyCols, r, f.keyName, format, args...)
}

// targetErr is a problem with the i-th target cell of y (row i/targets).
func (f *frame) targetErr(i int, format string, args ...any) *Error {
	nt := len(f.targets)
	return f.cellErr(i/nt, f.yCols, i, f.targets[i%nt], format, args...)
}

// csvOptions says how a CSV is laid out and which columns play which part.
type csvOptions struct {
	header   bool
	comma    rune
	targets  []string // target columns, by name or index; may be empty
	features []string // feature columns; empty means all but targets, key and exclude
	cats     []string // categorical feature columns
	key      string   // column read into frame.keys (split column or series time); "" for none
	text     string   // data.text_column, also the one feature and categorical column: only an empty cell is missing
	exclude  []string // columns that are not features by default
	size     int64    // bytes of input, when known: sizes the arrays up front
}

// missingMarkers are cell texts read as "no value".
var missingMarkers = []string{"", "na", "n/a", "nan", "null", "none", "?"}

func isMissing(cell string) bool { return slices.Contains(missingMarkers, strings.ToLower(cell)) }

// readCSV parses delimited text. A UTF-8 byte order mark and CRLF line
// ends are accepted; blank lines are skipped. Every error names the file,
// line and column, and what was expected.
func readCSV(file string, in io.Reader, opt csvOptions) (*frame, error) {
	br := bufio.NewReaderSize(in, 1<<16)
	if bom, _ := br.Peek(3); string(bom) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	if head, _ := br.Peek(sniffLen); len(head) > 0 {
		if err := checkText(file, head); err != nil {
			return nil, err
		}
	}
	r := csv.NewReader(br)
	r.ReuseRecord = true
	r.FieldsPerRecord = -1 // checked here, so that a line of spaces is skipped
	if opt.comma != 0 {
		r.Comma = opt.comma
	}
	first, err := r.Read()
	for err == nil && blank(first) {
		first, err = r.Read() // leading lines of spaces
	}
	if err == io.EOF {
		return nil, badf(file, 0, 0, "", "the file is empty; expected %s", map[bool]string{true: "a header line and data rows", false: "data rows"}[opt.header])
	}
	if err != nil {
		return nil, csvErr(file, err)
	}
	first = slices.Clone(first)
	headerLine, _ := r.FieldPos(0)
	header := make([]string, len(first))
	for i := range first {
		header[i] = strings.TrimSpace(first[i])
		if !opt.header {
			header[i] = strconv.Itoa(i)
		}
	}
	cols, err := pickColumns(file, headerLine, header, opt)
	if err != nil {
		return nil, err
	}
	f := &frame{file: file, missing: map[int]cellPos{}, keyName: opt.key}
	for _, i := range cols.nums {
		f.features = append(f.features, header[i])
	}
	for _, i := range cols.cats {
		f.cats = append(f.cats, header[i])
	}
	for _, i := range cols.targets {
		f.targets = append(f.targets, header[i])
	}
	f.width = len(cols.nums)
	if !opt.header {
		if err := f.addRecord(file, first, header, cols, r.FieldPos); err != nil {
			return nil, err
		}
	}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(file, err)
		}
		if len(rec) == 1 && len(header) > 1 && strings.TrimSpace(rec[0]) == "" {
			continue // a line of spaces
		}
		if len(rec) != len(header) {
			line, _ := r.FieldPos(0)
			return nil, badf(file, line, 0, "", "row has %d fields but the first row has %d (ragged row)", len(rec), len(header))
		}
		if err := f.addRecord(file, rec, header, cols, r.FieldPos); err != nil {
			return nil, err
		}
		if f.rows() == 256 && opt.size > 0 {
			f.reserve(int(float64(opt.size) / float64(r.InputOffset()) * 256 * 1.02))
		}
	}
	if f.rows() == 0 {
		return nil, badf(file, headerLine, 0, "", "the file has a header line but no data rows")
	}
	return f, nil
}

// reserve grows the frame's arrays to hold rows rows without copying
// again: a large table then costs its size once, not the up to 2.25 times
// of repeated appends. Pages never written are never resident.
func (f *frame) reserve(rows int) {
	if more := rows - f.rows(); more > 0 {
		f.x = slices.Grow(f.x, more*f.width)
		f.cx = slices.Grow(f.cx, more*len(f.cats))
		f.y = slices.Grow(f.y, more*len(f.targets))
		f.yCols = slices.Grow(f.yCols, more*len(f.targets))
		f.lines = slices.Grow(f.lines, more)
	}
}

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// addRecord appends one CSV record to the frame.
func (f *frame) addRecord(file string, rec, header []string, cols columns, pos func(int) (int, int)) error {
	row := f.rows()
	line, _ := pos(0)
	miss := func(i int, cell string) {
		if _, seen := f.missing[row]; !seen {
			l, c := pos(i)
			f.missing[row] = cellPos{field: header[i], line: l, col: c, text: cell}
		}
	}
	for _, i := range cols.nums {
		cell := strings.TrimSpace(rec[i])
		v, ok := parseCell(cell)
		if !ok {
			l, c := pos(i)
			return badf(file, l, c, header[i], "expected a number, got %q (list the column in data.categorical if it holds categories)", cell)
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
			miss(i, cell)
			v = math.NaN()
		}
		f.x = append(f.x, float32(v))
	}
	for _, i := range cols.cats {
		cell := strings.TrimSpace(rec[i])
		if isMissing(cell) && (i != cols.text || cell == "") { // a text "NA" is text
			miss(i, cell)
			cell = ""
		}
		f.cx = append(f.cx, strings.Clone(cell))
	}
	// Cells kept as text are cloned: a substring would keep the record's
	// whole line alive.
	for _, i := range cols.targets {
		_, c := pos(i)
		f.y = append(f.y, strings.Clone(strings.TrimSpace(rec[i])))
		f.yCols = append(f.yCols, int32(c))
	}
	if cols.key >= 0 {
		cell := strings.TrimSpace(rec[cols.key])
		l, c := pos(cols.key)
		if isMissing(cell) {
			if f.keyMissing == nil {
				f.keyMissing = map[int]cellPos{}
			}
			f.keyMissing[row] = cellPos{field: header[cols.key], line: l, col: c, text: cell}
		}
		f.keys = append(f.keys, strings.Clone(cell))
		f.keyCols = append(f.keyCols, int32(c))
	}
	f.lines = append(f.lines, line)
	return nil
}

// parseCell reads a number; missing markers read as NaN. ok is false for
// text that is neither.
func parseCell(s string) (float64, bool) {
	if isMissing(s) {
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

// columns are the indices of the columns that play each part.
type columns struct {
	nums, cats, targets []int
	key                 int // -1 for none
	text                int // -1 for none
}

// columnIndex finds a column by name, or else by 0-based index (negative
// counts from the end).
func columnIndex(header []string, ref string) (int, bool) {
	if i := slices.Index(header, ref); i >= 0 {
		return i, true
	}
	if i, err := strconv.Atoi(strings.TrimSpace(ref)); err == nil {
		if i < 0 {
			i += len(header)
		}
		if i >= 0 && i < len(header) {
			return i, true
		}
	}
	return 0, false
}

func pickColumns(file string, headerLine int, header []string, opt csvOptions) (columns, error) {
	cols := columns{key: -1, text: -1}
	seen := map[string]bool{}
	for _, h := range header {
		if seen[h] && opt.header {
			return cols, badf(file, headerLine, 0, h, "the header names this column twice")
		}
		seen[h] = true
	}
	find := func(ref, what string) (int, error) {
		i, ok := columnIndex(header, ref)
		if !ok {
			return 0, badf(file, 0, 0, "", "%s column %q does not exist; the columns are: %s", what, ref, strings.Join(header, ", "))
		}
		return i, nil
	}
	role := map[int]string{}
	claim := func(i int, what string) error {
		if prev, ok := role[i]; ok && prev != what {
			return badf(file, 0, 0, header[i], "is both the %s and a %s column", prev, what)
		}
		role[i] = what
		return nil
	}
	for _, t := range opt.targets {
		i, err := find(t, "label (target)")
		if err != nil {
			return cols, err
		}
		if err := claim(i, "target"); err != nil {
			return cols, err
		}
		cols.targets = append(cols.targets, i)
	}
	if opt.key != "" {
		i, err := find(opt.key, "split or time")
		if err != nil {
			return cols, err
		}
		cols.key = i
	}
	catIdx := map[int]bool{}
	for _, c := range opt.cats {
		what := "categorical"
		if c == opt.text {
			what = "text (data.text_column)"
		}
		i, err := find(c, what)
		if err != nil {
			return cols, err
		}
		catIdx[i] = true
		if c == opt.text {
			cols.text = i
		}
	}
	var feats []int
	if len(opt.features) > 0 {
		for _, name := range opt.features {
			i, err := find(name, "feature")
			if err != nil {
				return cols, err
			}
			feats = append(feats, i)
		}
		for i := range catIdx {
			if !slices.Contains(feats, i) {
				return cols, badf(file, 0, 0, header[i], "is listed in data.categorical but not in data.features")
			}
		}
	} else {
		for i, h := range header {
			if _, taken := role[i]; !taken && i != cols.key && !slices.Contains(opt.exclude, h) {
				feats = append(feats, i)
			}
		}
	}
	for _, i := range feats {
		if err := claim(i, "feature"); err != nil {
			return cols, err
		}
		if catIdx[i] {
			cols.cats = append(cols.cats, i)
		} else {
			cols.nums = append(cols.nums, i)
		}
	}
	if len(feats) == 0 {
		return cols, badf(file, 0, 0, "", "no feature columns: the columns are %s", strings.Join(header, ", "))
	}
	return cols, nil
}

func csvErr(file string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			return badf(file, pe.Line, pe.Column, "", "row has a different number of fields than the first row (ragged row)")
		}
		if errors.Is(pe.Err, csv.ErrQuote) && pe.StartLine > 0 && pe.StartLine < pe.Line {
			// A quote left open swallows the lines after it: the reader
			// notices lines later (often at the end of the file), but the
			// mistake is in the record where the quoted field starts.
			return badf(file, pe.StartLine, 0, "", "unterminated quote: a quoted field in the record starting on this line is not closed (read on to line %d, column %d: %v)", pe.Line, pe.Column, pe.Err)
		}
		return badf(file, pe.Line, pe.Column, "", "%v", pe.Err)
	}
	return fmt.Errorf("%w: %s: %v", ErrBadData, file, err)
}

// csvSource reads comma-separated text (csv:PATH); tsvSource tab-separated
// text (tsv:PATH). Both are tables: one row per sample.
var (
	csvSource = sourceKind{
		tasks:   []string{"classification", "regression", "reconstruction", "generation", Seq2SeqTask},
		options: append(delimitedOptions, seq2seqOptions...),
		digest:  func(ref string, _ config.Data) ([]SourceFile, error) { return fileDigests([]string{ref}) },
		load: func(exp *config.Experiment, ref string, rep *Report) (*Dataset, error) {
			if exp.Data.Task == Seq2SeqTask {
				return loadSeq2Seq(exp, ref, ',', rep)
			}
			return loadDelimited(exp, ref, ',', rep)
		},
		check: delimitedCheck,
	}
	tsvSource = sourceKind{
		tasks:   csvSource.tasks,
		options: csvSource.options,
		digest:  csvSource.digest,
		load: func(exp *config.Experiment, ref string, rep *Report) (*Dataset, error) {
			if exp.Data.Task == Seq2SeqTask {
				return loadSeq2Seq(exp, ref, '\t', rep)
			}
			return loadDelimited(exp, ref, '\t', rep)
		},
		check: delimitedCheck,
	}
)

// tableOptions are the data keys that apply to sources read as tables.
var tableOptions = []string{"label", "targets", "features", "categorical", "classes", "csv.header", "csv.delimiter", "preprocess.encoding"}

// delimitedOptions are tableOptions and a text column's keys (text_table.go).
var delimitedOptions = slices.Concat(tableOptions, textColumnOptions)

func delimitedCheck(e *config.Experiment, ref string) config.Problems {
	if e.Data.Task == Seq2SeqTask {
		return seq2seqCheck(e)
	}
	ps := append(append(tableCheck(e), textColumnCheck(e)...), tableOnly(e)...)
	if e.Data.Label == "" && KeepsClasses(e) {
		ps = append(ps, noLabels(e, fmt.Sprintf("a %s source without data.label", strings.SplitN(e.Data.Source, ":", 2)[0]), "data.label: the column holding each row's class"))
	} else if e.Data.Label == "" && len(e.Data.Targets) == 0 && !SelfTask(e.Data.Task) {
		ps = append(ps, e.Problem("data.label", "a %s source needs its label column (data.label, by name or index) or its target columns (data.targets)",
			strings.SplitN(e.Data.Source, ":", 2)[0]))
	}
	return ps
}

// loadDelimited reads a csv or tsv file as a table.
func loadDelimited(exp *config.Experiment, path string, comma rune, rep *Report) (*Dataset, error) {
	d := exp.Data
	in, err := os.Open(path)
	if err != nil {
		return nil, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	defer in.Close()
	opt := tableCSVOptions(d, comma, nil)
	if st, err := in.Stat(); err == nil {
		opt.size = st.Size()
	}
	f, err := readCSV(path, in, opt)
	if err != nil {
		return nil, err
	}
	if d.TextColumn != "" {
		return buildTextTable(exp, f, rep)
	}
	return buildTable(exp, f, nil, rep)
}

// tableCSVOptions maps the data section to the columns a table source reads.
func tableCSVOptions(d config.Data, comma rune, exclude []string) csvOptions {
	c, _ := d.CSV.Comma(comma)
	opt := csvOptions{header: d.CSV.Header, comma: c, targets: targetsOf(d, ""), features: d.Features, cats: d.Categorical, exclude: exclude}
	if m := d.Split.Method; m == "group" || m == "time" || m == "column" {
		opt.key = d.Split.Column
	}
	if d.TextColumn != "" { // the only input, one categorical cell (text_table.go)
		opt.text, opt.features, opt.cats = d.TextColumn, []string{d.TextColumn}, []string{d.TextColumn}
	}
	return opt
}
