package data

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The preprocessing fitted on the training split is saved in Meta (in
// data.json, checkpoints and prepared manifests). These methods reapply
// it, unchanged, to new samples: what a prediction needs, and what the
// tests use to show that the saved parameters reproduce the splits.

// EncodeRecords turns raw rows of a table source, each a map from column
// name to the cell as written in the source file, into model inputs
// (len(records) × InputSize), exactly as the prepared splits hold them:
// numeric cells parsed, missing cells filled by the saved imputation,
// categories encoded, dropped constant features left out, then scaled.
func (m *Meta) EncodeRecords(records []map[string]string) ([]float32, error) {
	if m.Text != nil || m.Series != nil || (m.Columns == nil && m.Encodings == nil) {
		return nil, fmt.Errorf("%w: EncodeRecords applies to table sources (csv, tsv, built-in tables), not %s", ErrBadData, m.Source)
	}
	var names []string
	names = append(names, m.Columns...)
	for _, e := range m.Encodings {
		if e.Kind == "onehot" {
			for _, c := range e.Categories {
				names = append(names, e.Column+"="+c)
			}
		} else {
			names = append(names, e.Column)
		}
	}
	keep := make([]int, 0, len(names))
	for j, n := range names {
		if !slices.Contains(m.DroppedConstant, n) {
			keep = append(keep, j)
		}
	}
	w := m.InputSize()
	if len(keep) != w {
		return nil, fmt.Errorf("%w: the saved description gives %d features, the input size is %d", ErrBadData, len(keep), w)
	}
	out := make([]float32, len(records)*w)
	row := make([]float32, len(names))
	for r, rec := range records {
		clear(row)
		for j, col := range m.Columns {
			v, ok := parseCell(strings.TrimSpace(rec[col]))
			if !ok {
				return nil, fmt.Errorf("%w: record %d: column %q: expected a number, got %q", ErrBadData, r+1, col, rec[col])
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				if m.Imputation == nil {
					return nil, fmt.Errorf("%w: record %d: column %q is missing and no imputation was fitted", ErrBadData, r+1, col)
				}
				v = float64(m.Imputation.Values[j])
			}
			row[j] = float32(v)
		}
		at := len(m.Columns)
		for k, e := range m.Encodings {
			cell := strings.TrimSpace(rec[e.Column])
			if isMissing(cell) {
				if m.Imputation == nil {
					return nil, fmt.Errorf("%w: record %d: column %q is missing and no imputation was fitted", ErrBadData, r+1, e.Column)
				}
				cell = m.Imputation.Categories[k]
			}
			i := slices.Index(e.Categories, cell)
			switch {
			case e.Kind != "onehot" && i >= 0:
				row[at] = float32(i)
			case e.Kind != "onehot":
				row[at] = -1
			case i >= 0:
				row[at+i] = 1
			}
			at += e.width()
		}
		dst := out[r*w : (r+1)*w]
		for i, j := range keep {
			dst[i] = row[j]
		}
	}
	m.Scaling.Apply(out)
	return out, nil
}

// ScaleInputs applies the saved imputation (to NaN values) and scaling, in
// place, to inputs of an array source (idx, npy, npz, images) already in
// the per-sample shape.
func (m *Meta) ScaleInputs(x []float32) error {
	if m.Text != nil || m.Encodings != nil || m.DroppedConstant != nil {
		return fmt.Errorf("%w: ScaleInputs applies to array sources; use EncodeRecords for tables", ErrBadData)
	}
	w := m.InputSize()
	if len(x)%w != 0 {
		return fmt.Errorf("%w: %d values are not whole samples of %d", ErrBadData, len(x), w)
	}
	for i, v := range x {
		if math.IsNaN(float64(v)) {
			if m.Imputation == nil {
				return fmt.Errorf("%w: sample %d holds a NaN and no imputation was fitted", ErrBadData, i/w+1)
			}
			x[i] = m.Imputation.Values[i%w]
		}
	}
	m.Scaling.Apply(x)
	return nil
}
