package data

import (
	"fmt"
	"io"
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
			if !finite32(v) { // missing, or beyond float32: non-finite, as in training
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

// ScaleInputs applies the saved imputation (to non-finite values) and
// scaling, in place, to inputs of an array source (idx, npy, npz, images)
// already in the per-sample shape the model takes.
func (m *Meta) ScaleInputs(x []float32) error {
	if m.Text != nil || m.Encodings != nil {
		return fmt.Errorf("%w: ScaleInputs applies to array sources; use EncodeRecords for tables", ErrBadData)
	}
	w := m.InputSize()
	if len(x)%w != 0 {
		return fmt.Errorf("%w: %d values are not whole samples of %d", ErrBadData, len(x), w)
	}
	for i, v := range x {
		if !finite32(float64(v)) {
			if m.Imputation == nil {
				return fmt.Errorf("%w: sample %d, %s: %v is not finite and the run fitted no imputation (data.clean.missing was drop or error)",
					ErrBadData, i/w+1, featureName(m.Features, m.Input, i%w), v)
			}
			x[i] = m.Imputation.Values[i%w]
		}
	}
	m.Scaling.Apply(x)
	return nil
}

// RawInputSize is the number of values of a new sample as the source gives
// it, before dropped constant features are removed.
func (m *Meta) RawInputSize() int {
	if m.RawInput != nil {
		return prod(m.RawInput)
	}
	return m.InputSize()
}

// PrepareArrays turns raw samples of an array or image source (each of
// RawInputSize values, as the source gives them) into model inputs: the
// features dropped for being constant on the training split are removed,
// then ScaleInputs. It returns the new slice.
func (m *Meta) PrepareArrays(x []float32) ([]float32, error) {
	if len(m.DroppedConstant) > 0 {
		if m.RawInput == nil {
			return nil, fmt.Errorf("%w: the run dropped constant features but did not save the shape they were dropped from (trained by an older dltrain); train again to predict", ErrBadData)
		}
		raw := prod(m.RawInput)
		if len(x)%raw != 0 {
			return nil, fmt.Errorf("%w: %d values are not whole samples of %d", ErrBadData, len(x), raw)
		}
		if m.Imputation == nil { // name a bad value by its place in the raw sample
			for i, v := range x {
				if !finite32(float64(v)) {
					return nil, fmt.Errorf("%w: sample %d, %s: %v is not finite and the run fitted no imputation (data.clean.missing was drop or error)",
						ErrBadData, i/raw+1, featureName(nil, m.RawInput, i%raw), v)
				}
			}
		}
		keep := make([]int, 0, raw)
		for j := range raw {
			if !slices.Contains(m.DroppedConstant, featureName(nil, m.RawInput, j)) {
				keep = append(keep, j)
			}
		}
		if len(keep) != m.InputSize() {
			return nil, fmt.Errorf("%w: dropping the run's %d constant features from samples of %d values leaves %d, the model takes %d", ErrBadData, len(m.DroppedConstant), raw, len(keep), m.InputSize())
		}
		n := len(x) / raw
		out := make([]float32, n*len(keep))
		for i := range n {
			src, dst := x[i*raw:(i+1)*raw], out[i*len(keep):(i+1)*len(keep)]
			for k, j := range keep {
				dst[k] = src[j]
			}
		}
		x = out
	}
	return x, m.ScaleInputs(x)
}

// finite32 reports whether v is a number float32 can hold: NaN, ±Inf and
// values beyond float32's range count as missing, in training as here.
func finite32(v float64) bool { return !math.IsNaN(v) && math.Abs(v) <= math.MaxFloat32 }

// UnscaleInputs undoes the saved scaling, in place, on values in the
// model's input units (an autoencoder's reconstructions), so that they
// read in the units of the source, as the samples given to predict.
// Encoded categories and imputation are not undone.
func (m *Meta) UnscaleInputs(x []float64) {
	s := m.Scaling
	if s == nil {
		return
	}
	w := s.width()
	pidx := s.params(w)
	for lo := 0; lo+w <= len(x); lo += w {
		row := x[lo : lo+w]
		for j, v := range row {
			p := pidx[j]
			row[j] = v/s.Mul[p] + s.Shift[p]
		}
	}
}

// FeatureName names input value j of a sample: its column, or else its
// position in the per-sample shape, such as x[0,3,5].
func (m Meta) FeatureName(j int) string { return featureName(m.Features, m.Input, j) }

// WriteNpy writes float32 values of shape as a .npy file (version 1.0,
// little-endian, C order).
func WriteNpy(w io.Writer, shape []int, vals []float32) error { return writeNpy(w, shape, vals) }
