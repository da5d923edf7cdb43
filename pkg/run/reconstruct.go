package run

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
)

// reconstruct runs an autoencoder over the inputs in batches and returns,
// per sample, its reconstruction in the source's units (the scaling
// undone) or, with embed, its code; shape is the per-sample shape of
// what it returns.
func reconstruct(s *setup, meta data.Meta, in *data.Inputs, batch int, embed bool) ([]Prediction, []int, error) {
	name, shape := models.OutputOut, []int(s.model.OutputShape())
	if embed {
		spec, ok := outputSpec(s.model, models.OutputCode)
		if !ok {
			return nil, nil, fmt.Errorf("%w: --embed writes an autoencoder's code; this run's model (%s) has none", config.ErrInvalid, s.exp.Model.Kind)
		}
		name, shape = spec.Name, spec.Shape
	}
	w := models.Shape(shape).Size()
	split := &data.Split{Name: "predict", N: in.N, X: in.X, Y: make([]float32, in.N*max(meta.TargetSize(), 1))} // targets unused: zeros
	values := make([]float64, in.N*w)
	order := make([]int, in.N)
	for i := range order {
		order[i] = i
	}
	for _, idx := range data.Batches(order, batch) {
		lo := idx[0]
		if _, err := s.session.PredictOutput(split, idx, name, values[lo*w:(lo+len(idx))*w]); err != nil {
			return nil, nil, err
		}
	}
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, nil, fmt.Errorf("%w: the model's %s for %s is not finite (%v): the checkpoint's weights are not usable", train.ErrDiverged, name, in.Refs[i/w], v)
		}
	}
	if !embed {
		meta.UnscaleInputs(values)
	}
	preds := make([]Prediction, in.N)
	for i := range preds {
		preds[i].Input = in.Refs[i]
		if embed {
			preds[i].Code = values[i*w : (i+1)*w : (i+1)*w]
		} else {
			preds[i].Reconstruction = values[i*w : (i+1)*w : (i+1)*w]
		}
	}
	return preds, shape, nil
}

func outputSpec(m models.Model, name string) (models.TensorSpec, bool) {
	for _, o := range m.Outputs() {
		if o.Name == name {
			return o, true
		}
	}
	return models.TensorSpec{}, false
}

// writeVectorsCSV writes input,then one column per value: the input's
// feature names (reconstructions) or code0, code1, ... (codes).
func writeVectorsCSV(w io.Writer, meta data.Meta, preds []Prediction, embed bool) error {
	cw := csv.NewWriter(w)
	vec := func(p Prediction) []float64 {
		if embed {
			return p.Code
		}
		return p.Reconstruction
	}
	head := []string{"input"}
	if len(preds) > 0 {
		for j := range vec(preds[0]) {
			if embed {
				head = append(head, "code"+strconv.Itoa(j))
			} else {
				head = append(head, meta.FeatureName(j))
			}
		}
	}
	cw.Write(head)
	row := make([]string, len(head))
	for _, p := range preds {
		row[0] = p.Input
		for j, v := range vec(p) {
			row[j+1] = strconv.FormatFloat(v, 'g', 7, 64)
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// writePredictionsNpy writes the reconstructions or codes as one float32
// array of shape [N, shape...] (--output FILE.npy). Other predictions
// are written as CSV whatever the file's name, as before.
func writePredictionsNpy(path string, preds []Prediction, shape []int) error {
	w := models.Shape(shape).Size()
	vals := make([]float32, 0, len(preds)*w)
	for _, p := range preds {
		v := p.Reconstruction
		if p.Code != nil {
			v = p.Code
		}
		for _, x := range v {
			vals = append(vals, float32(x))
		}
	}
	var buf bytes.Buffer
	if err := data.WriteNpy(&buf, append([]int{len(preds)}, shape...), vals); err != nil {
		return err
	}
	if err := writeOutput(path, buf.Bytes()); err != nil {
		return fmt.Errorf("%w: --output %s: cannot write: %v", config.ErrInvalid, path, err)
	}
	return nil
}
