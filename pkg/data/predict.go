package data

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
)

// Inputs are new samples read for prediction, preprocessed exactly as the
// run's training data was (the parameters saved in Meta, never refitted).
type Inputs struct {
	N int
	X []float32 // N × InputSize
	// Refs name where each sample came from: "line 5" of a table, "entry
	// 3" of an array file, or an image file's name.
	Refs []string
	// Notes say what was done to the samples that a user should know
	// (categories never seen in training, encoded as unknown).
	Notes []string
}

// ReadInputs reads the samples to predict from path, in the form the
// experiment's source gives them:
//
//   - a table source (csv, tsv, a built-in table): a delimited text file
//     with the experiment's delimiter; with a header line when the source
//     has one (columns found by name, in any order; extra columns, such as
//     the label, ignored), else the source's columns in the source's order;
//   - an array source (idx, npy, npz): a .npy file (or an IDX file) of
//     shape [N, sample shape...] or [N, features], values as in the source;
//   - an image folder: one image file, or a folder of PNG/JPEG files (not
//     searched recursively), converted and resized as in training.
//
// Text corpora and series windows are not supported yet: the error says
// so, and for a language model points to dltrain sample, which continues
// a prompt from the model's next-token distributions.
func ReadInputs(exp *config.Experiment, meta *Meta, path string) (*Inputs, error) {
	if _, _, err := lookupSource(exp.Data.Source); err != nil {
		return nil, err
	}
	scheme, _, _ := strings.Cut(exp.Data.Source, ":")
	switch {
	case meta.Padded(): // texts in a table column: text_table.go
		comma := map[bool]rune{true: '\t', false: ','}[scheme == "tsv"]
		if c, ok := exp.Data.CSV.Comma(comma); ok {
			comma = c
		}
		return readTextInputs(exp, meta, path, comma)
	case meta.Task == "language_model":
		return nil, fmt.Errorf("%w: dltrain predict reads tables, arrays and images, not a language model's text (%s); "+
			"generate text from its next-token distributions with: dltrain sample --run RUN --prompt TEXT", ErrBadData, exp.Data.Source)
	case meta.Text != nil || meta.Series != nil || scheme == "text" || scheme == "series":
		return nil, fmt.Errorf("%w: dltrain predict reads tables, arrays and images; a %s: source (%s) is not supported yet", ErrBadData, scheme, exp.Data.Source)
	case scheme == "images":
		return readImageInputs(meta, path)
	case meta.Columns != nil || meta.Encodings != nil:
		comma := ','
		if scheme == "tsv" {
			comma = '\t'
		}
		header := exp.Data.CSV.Header || scheme == "builtin"
		if c, ok := exp.Data.CSV.Comma(comma); ok && scheme != "builtin" {
			comma = c
		}
		return readTableInputs(meta, path, comma, header)
	default:
		return readArrayInputs(meta, path)
	}
}

// readTableInputs reads delimited text into records and encodes them.
func readTableInputs(meta *Meta, path string, comma rune, header bool) (*Inputs, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<16)
	if bom, _ := br.Peek(3); string(bom) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	if head, _ := br.Peek(512); bytes.IndexByte(head, 0) >= 0 {
		return nil, badFile(path, "is not text (it holds NUL bytes): this run's data is a table, so --input must be a delimited text file with the run's columns")
	}
	r := csv.NewReader(br)
	r.Comma = comma
	r.FieldsPerRecord = -1
	needed := slices.Clone(meta.Columns)
	for _, e := range meta.Encodings {
		needed = append(needed, e.Column)
	}
	var names, unseen, filled []string
	in := &Inputs{}
	var records []map[string]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(path, err)
		}
		line, _ := r.FieldPos(0)
		if blank(rec) {
			continue
		}
		if names == nil {
			names = make([]string, len(rec))
			for i := range rec {
				names[i] = strconv.Itoa(i)
				if header {
					names[i] = strings.TrimSpace(rec[i])
				}
			}
			for _, col := range needed {
				if !slices.Contains(names, col) {
					if header {
						hint := ""
						if len(names) == 1 {
							hint = fmt.Sprintf("; the run's data is separated by %q: is this file?", string(comma))
						}
						return nil, badf(path, line, 0, col, "no column %q; the model needs the columns %s (found %s)%s", col, strings.Join(needed, ", "), strings.Join(names, ", "), hint)
					}
					return nil, badf(path, line, 0, col, "row has %d fields; the model reads column %s (0-based) of the source, which has no header: rows need the source's columns in the source's order", len(rec), col)
				}
			}
			if header {
				continue
			}
		}
		if len(rec) != len(names) {
			return nil, badf(path, line, 0, "", "row has %d fields but the first row has %d (ragged row)", len(rec), len(names))
		}
		m := make(map[string]string, len(needed))
		for i, n := range names {
			m[n] = rec[i]
		}
		for _, col := range meta.Columns {
			i := slices.Index(names, col)
			v, ok := parseCell(strings.TrimSpace(rec[i]))
			if !ok {
				l, c := r.FieldPos(i)
				return nil, badf(path, l, c, col, "expected a number (or an empty cell, NA, ?), got %q", rec[i])
			}
			if !finite32(v) {
				if meta.Imputation == nil {
					l, c := r.FieldPos(i)
					return nil, badf(path, l, c, col, "the value %q is missing or not finite (as float32) and the run fitted no imputation (data.clean.missing was drop or error)", rec[i])
				}
				filled = append(filled, fmt.Sprintf("line %d %s", line, col))
			}
		}
		for _, e := range meta.Encodings {
			i := slices.Index(names, e.Column)
			cell := strings.TrimSpace(rec[i])
			switch {
			case isMissing(cell) && meta.Imputation == nil:
				l, c := r.FieldPos(i)
				return nil, badf(path, l, c, e.Column, "the category is missing (%q) and the run fitted no imputation (data.clean.missing was drop or error)", rec[i])
			case isMissing(cell):
				filled = append(filled, fmt.Sprintf("line %d %s", line, e.Column))
			case !isMissing(cell) && !slices.Contains(e.Categories, cell):
				unseen = append(unseen, fmt.Sprintf("line %d %s=%s", line, e.Column, cell))
			}
		}
		records = append(records, m)
		in.Refs = append(in.Refs, "line "+strconv.Itoa(line))
	}
	if len(records) == 0 {
		return nil, badf(path, 0, 0, "", "no rows to predict; expected %s", map[bool]string{true: "a header line and data rows", false: "data rows"}[header])
	}
	x, err := meta.EncodeRecords(records)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	in.N, in.X = len(records), x
	if len(filled) > 0 {
		in.Notes = append(in.Notes, fmt.Sprintf("%s: filled %d missing or non-finite cells with the %s fitted on the run's training split: %s", path, len(filled), meta.Imputation.Kind, shortList(filled)))
	}
	if len(unseen) > 0 {
		in.Notes = append(in.Notes, fmt.Sprintf("%s: %d cells hold a category never seen in training, encoded as unknown (as in training): %s", path, len(unseen), shortList(unseen)))
	}
	return in, nil
}

// readArrayInputs reads a .npy or IDX file of samples.
func readArrayInputs(meta *Meta, path string) (*Inputs, error) {
	var shape []int
	var x []float32
	var err error
	if strings.EqualFold(filepath.Ext(path), ".npy") {
		shape, x, err = readNpyFile(path)
	} else {
		var p idxPair
		h, herr := openIDXFile(path, &p)
		if err = herr; err == nil {
			shape, x = h.dims, make([]float32, h.items())
			err = h.read(x)
		}
		p.close()
	}
	if err != nil {
		return nil, err
	}
	raw := meta.Input
	if meta.RawInput != nil {
		raw = meta.RawInput
	}
	w := prod(raw)
	switch {
	case len(shape) == 0 || shape[0] == 0:
		return nil, badFile(path, "holds no samples (shape %v); expected [N, %s]", shape, describeDims(raw))
	case prod(shape[1:]) != w:
		return nil, badFile(path, "has samples of shape %v; the run's samples are %s (%d values)", shape[1:], describeDims(raw), w)
	}
	if x, err = meta.PrepareArrays(x); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	in := &Inputs{N: shape[0], X: x, Refs: make([]string, shape[0])}
	for i := range in.Refs {
		in.Refs[i] = "entry " + strconv.Itoa(i+1)
	}
	return in, nil
}

// readImageInputs reads one image or a folder of images, sorted by name.
func readImageInputs(meta *Meta, path string) (*Inputs, error) {
	shape := meta.Input
	if meta.RawInput != nil {
		shape = meta.RawInput // the images' shape before constant pixels were dropped
	}
	if len(shape) != 3 {
		return nil, fmt.Errorf("%w: the run's images have shape %v; expected [C, H, W]", ErrBadData, shape)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	var files []string
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, badFile(path, "cannot read the folder: %v", unwrapPath(err))
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || strings.HasPrefix(name, ".") {
				continue
			}
			if _, ok := imageKinds[strings.ToLower(filepath.Ext(name))]; !ok {
				return nil, badFile(filepath.Join(path, name), "is not an image (expected %s)", imageExtensions())
			}
			files = append(files, filepath.Join(path, name))
		}
		if len(files) == 0 {
			return nil, badFile(path, "holds no image files (expected %s)", imageExtensions())
		}
	} else {
		files = []string{path}
	}
	C, H, W := shape[0], shape[1], shape[2]
	in := &Inputs{N: len(files), X: make([]float32, len(files)*C*H*W), Refs: make([]string, len(files))}
	for i, file := range files {
		img, err := decodeImage(file)
		if err != nil {
			return nil, err
		}
		pixels(img, C, H, W, in.X[i*C*H*W:(i+1)*C*H*W])
		in.Refs[i] = filepath.Base(file)
	}
	if in.X, err = meta.PrepareArrays(in.X); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return in, nil
}

// imageExtensions lists the image file extensions read, for messages.
func imageExtensions() string {
	var exts []string
	for e := range imageKinds {
		exts = append(exts, e)
	}
	slices.Sort(exts)
	return strings.Join(exts, ", ")
}
