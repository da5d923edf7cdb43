package run

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/eval"
	"github.com/dltrain/dltrain/pkg/train"
)

// PredictOptions are the inputs of Predict.
type PredictOptions struct {
	Run        string // run directory
	Checkpoint string // "best", "last" or a checkpoint file
	Input      string // the file (or image folder) of samples to predict
	Output     string // file to write; "" writes to Stdout
	JSON       bool   // one JSON object per sample instead of CSV
	// Embed writes each sample's code (an autoencoder's "code" output)
	// instead of the model's output.
	Embed bool
	// Beam is a seq2seq run's beam width (0 or 1: greedy decoding).
	Beam   int
	Stdout io.Writer
	// Logf, when set, receives notes about the inputs (categories never
	// seen in training).
	Logf func(format string, args ...any)
}

// Prediction is one sample's prediction.
type Prediction struct {
	Input         string             `json:"input"`                   // where the sample came from
	Source        string             `json:"source,omitempty"`        // seq2seq: the source text decoded
	Predicted     string             `json:"predicted,omitempty"`     // classification: the class
	Probabilities map[string]float64 `json:"probabilities,omitempty"` // classification
	Values        map[string]float64 `json:"values,omitempty"`        // regression: one per target
	// Reconstruction is an autoencoder's output, in the units of the
	// source (the scaling undone), one value per input value.
	Reconstruction []float64 `json:"reconstruction,omitempty"`
	// Code is an autoencoder's bottleneck for the sample (--embed).
	Code []float64 `json:"code,omitempty"`
}

// Predict applies a checkpoint of a run to new samples. The model is
// rebuilt from the run's config.yaml and the data description saved in the
// checkpoint (classes, encodings, imputation and scaling fitted on the
// run's training split), so the run's data files are not needed; the
// samples are preprocessed with those saved parameters, never refitted.
func Predict(_ context.Context, opt PredictOptions) ([]Prediction, error) {
	if opt.Output != "" {
		if st, err := os.Stat(opt.Output); err == nil && st.IsDir() {
			return nil, fmt.Errorf("%w: --output %s is a directory; give a file name", config.ErrInvalid, opt.Output)
		}
	}
	exp, ck, meta, path, err := openRun(opt.Run, opt.Checkpoint)
	if err != nil {
		return nil, err
	}
	if meta.Task == ganTask {
		// Its outputs are D's scores of its own generated samples, which
		// do not depend on the inputs given.
		return nil, fmt.Errorf("%w: %s is a GAN run: it has nothing to predict for inputs; dltrain sample generates from it, dltrain eval --judge scores its samples",
			config.ErrInvalid, opt.Run)
	}
	if meta.Task == data.Seq2SeqTask {
		return predictAndWriteSeq2Seq(exp, ck, meta, path, opt)
	}
	if opt.Beam > 1 {
		return nil, fmt.Errorf("%w: --beam applies to seq2seq runs only; this run's task is %s", config.ErrInvalid, meta.Task)
	}
	in, err := data.ReadInputs(exp, &meta, opt.Input)
	if err != nil {
		return nil, err
	}
	for _, n := range in.Notes {
		if opt.Logf != nil {
			opt.Logf("%s", n)
		}
	}
	s, err := build(exp, meta, false, in.N)
	if err != nil {
		return nil, err
	}
	if err := train.RestoreParams(s.model.Params(), ck.Params); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var preds []Prediction
	var shape []int // per sample, of what an .npy output holds
	switch {
	case opt.Embed || data.SelfTask(meta.Task):
		preds, shape, err = reconstruct(s, meta, in, max(exp.Train.BatchSize, 256), opt.Embed)
	default:
		preds, err = predict(s.session, meta, in, max(exp.Train.BatchSize, 256))
	}
	if err != nil {
		return nil, err
	}
	if shape != nil && strings.EqualFold(filepath.Ext(opt.Output), ".npy") {
		return preds, writePredictionsNpy(opt.Output, preds, shape)
	}
	return preds, writePredictions(opt, preds, func(buf *bytes.Buffer) error {
		switch {
		case shape != nil && !opt.JSON:
			return writeVectorsCSV(buf, meta, preds, opt.Embed)
		case opt.JSON:
			return writePredictionsJSON(buf, preds)
		}
		return writePredictionsCSV(buf, meta, preds)
	})
}

// predictAndWriteSeq2Seq is Predict for a seq2seq run: each source of
// the input decoded.
func predictAndWriteSeq2Seq(exp *config.Experiment, ck *train.Checkpoint, meta data.Meta, path string, opt PredictOptions) ([]Prediction, error) {
	if opt.Embed {
		return nil, fmt.Errorf("%w: --embed applies to autoencoders only; this run is seq2seq", config.ErrInvalid)
	}
	s, err := build(exp, meta, false, max(exp.Train.BatchSize, 256))
	if err != nil {
		return nil, err
	}
	if err := train.RestoreParams(s.model.Params(), ck.Params); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	preds, err := predictSeq2Seq(s, meta, opt)
	if err != nil {
		return nil, err
	}
	return preds, writePredictions(opt, preds, func(buf *bytes.Buffer) error {
		if opt.JSON {
			return writePredictionsJSON(buf, preds)
		}
		return writeSeq2SeqCSV(buf, preds)
	})
}

// writePredictions renders the predictions with render and writes them
// to --output (atomically) or stdout.
func writePredictions(opt PredictOptions, preds []Prediction, render func(*bytes.Buffer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	if opt.Output != "" {
		if err := writeOutput(opt.Output, buf.Bytes()); err != nil {
			err = fmt.Errorf("--output %s: cannot write the predictions: %w", opt.Output, err)
			if errors.Is(err, fs.ErrNotExist) { // a path to nowhere: the command line's fault
				err = fmt.Errorf("%w: %w", config.ErrInvalid, err)
			}
			return err // a full disk or a read-only one keeps its system error (exit 5)
		}
		return nil
	}
	if opt.Stdout != nil {
		_, err := opt.Stdout.Write(buf.Bytes())
		return err
	}
	return nil
}

// openRun reads a run directory's saved experiment and one of its
// checkpoints ("best", "last" or a file) with the data description the
// checkpoint holds, and checks that the checkpoint belongs to the run.
// It returns the checkpoint's path for error messages.
func openRun(runDir, checkpoint string) (*config.Experiment, *train.Checkpoint, data.Meta, string, error) {
	var meta data.Meta
	cfgPath := filepath.Join(runDir, "config.yaml")
	if _, err := os.Stat(cfgPath); err != nil {
		return nil, nil, meta, "", fmt.Errorf("%w: %s is not a run directory (no config.yaml)", config.ErrInvalid, runDir)
	}
	exp, err := loadSaved(cfgPath)
	if err != nil {
		return nil, nil, meta, "", err
	}
	path := checkpoint
	switch path {
	case "", "best":
		path = filepath.Join(runDir, "checkpoints", "best.ckpt")
	case "last":
		path = filepath.Join(runDir, "checkpoints", "last.ckpt")
	}
	ck, err := train.LoadCheckpoint(path)
	if err != nil {
		return nil, nil, meta, "", err
	}
	if err := json.Unmarshal(ck.Meta, &meta); err != nil {
		return nil, nil, meta, "", fmt.Errorf("%w: %s: data description: %v", train.ErrBadCheckpoint, path, err)
	}
	if err := belongsToRun(exp, runDir, ck, meta, path); err != nil {
		return nil, nil, meta, "", err
	}
	return exp, ck, meta, path, nil
}

// belongsToRun refuses a checkpoint (predict --checkpoint PATH) whose
// model the run's config.yaml cannot rebuild: one whose saved experiment
// has another model section or loss, or whose data description (classes,
// columns, shapes) differs from the run's data.json. The error blames
// the checkpoint, not the run's config, since the run is fine.
func belongsToRun(exp *config.Experiment, run string, ck *train.Checkpoint, meta data.Meta, path string) error {
	fix := "give a checkpoint of this run, or the run it comes from with --run"
	runYAML, err := exp.YAML()
	if err != nil {
		return err
	}
	var differ []string
	if len(ck.Config) > 0 {
		for _, k := range diffKeys(runYAML, ck.Config) {
			if strings.HasPrefix(k, "model.") || k == "train.loss" || strings.HasPrefix(k, "train.loss.") {
				differ = append(differ, k)
			}
		}
	}
	if len(differ) > 0 {
		return fmt.Errorf("%w: %s holds another model than the run %s: its experiment differs from %s in %s; %s",
			train.ErrBadCheckpoint, path, run, filepath.Join(run, "config.yaml"), strings.Join(differ, ", "), fix)
	}
	b, err := os.ReadFile(filepath.Join(run, "data.json"))
	if err != nil {
		return nil // an older run without data.json: the checks of the build and the restore remain
	}
	var own data.Meta
	if err := json.Unmarshal(b, &own); err != nil {
		return nil
	}
	list := func(s []string) string { return strings.Join(s, ", ") }
	shape := func(s []int) string { return fmt.Sprint(s) }
	for _, f := range []struct{ what, ck, run string }{
		{"task", meta.Task, own.Task},
		{"classes", list(meta.Classes), list(own.Classes)},
		{"input columns", list(meta.Columns), list(own.Columns)},
		{"targets", list(meta.Targets), list(own.Targets)},
		{"input shape", shape(meta.Input), shape(own.Input)},
		{"target shape", shape(meta.Target), shape(own.Target)},
	} {
		if f.ck != f.run {
			differ = append(differ, fmt.Sprintf("%s %s (the run's: %s)", f.what, f.ck, f.run))
		}
	}
	if len(differ) > 0 {
		return fmt.Errorf("%w: %s was trained on other data than the run %s (%s): %s; %s",
			train.ErrBadCheckpoint, path, run, filepath.Join(run, "data.json"), strings.Join(differ, "; "), fix)
	}
	return nil
}

// predict runs the evaluation graph over the inputs in batches.
func predict(sess *train.Session, meta data.Meta, in *data.Inputs, batch int) ([]Prediction, error) {
	split := &data.Split{Name: "predict", N: in.N, X: in.X,
		Y: make([]float32, in.N*max(meta.TargetSize(), 1))} // targets unused: zeros
	outW := sess.Model.OutputShape().Size()
	outputs := make([]float64, in.N*outW)
	order := make([]int, in.N)
	for i := range order {
		order[i] = i
	}
	for _, idx := range data.Batches(order, batch) {
		lo := idx[0]
		if _, err := sess.Predict(split, idx, outputs[lo*outW:(lo+len(idx))*outW]); err != nil {
			return nil, err
		}
	}
	preds := make([]Prediction, in.N)
	for i := range preds {
		out := outputs[i*outW : (i+1)*outW]
		for _, v := range out {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w: the model's output for %s is not finite (%v): the checkpoint's weights are not usable", train.ErrDiverged, in.Refs[i], v)
			}
		}
		p := Prediction{Input: in.Refs[i]}
		if data.ClassTask(meta.Task) {
			probs := make([]float64, len(meta.Classes))
			if outW == 1 { // one logit (binary cross-entropy)
				probs[1] = 1 / (1 + math.Exp(-out[0]))
				probs[0] = 1 - probs[1]
			} else {
				softmax(out, probs)
			}
			p.Predicted = meta.Classes[eval.Argmax(probs, len(probs))[0]]
			p.Probabilities = make(map[string]float64, len(probs))
			for k, c := range meta.Classes {
				p.Probabilities[c] = probs[k]
			}
		} else {
			p.Values = make(map[string]float64, outW)
			for k, v := range out {
				p.Values[targetName(meta, k)] = v
			}
		}
		preds[i] = p
	}
	return preds, nil
}

// softmax writes the probabilities of the logits z into p.
func softmax(z, p []float64) {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, v)
	}
	var sum float64
	for k, v := range z {
		p[k] = math.Exp(v - m)
		sum += p[k]
	}
	for k := range p {
		p[k] /= sum
	}
}

// targetName names the k-th output of a regression model.
func targetName(meta data.Meta, k int) string {
	if k < len(meta.Targets) {
		return meta.Targets[k]
	}
	return "y" + strconv.Itoa(k)
}

// writePredictionsCSV writes input,predicted,p_CLASS... (classification)
// or input,TARGET... (regression).
func writePredictionsCSV(w io.Writer, meta data.Meta, preds []Prediction) error {
	cw := csv.NewWriter(w)
	head := []string{"input"}
	classes := data.ClassTask(meta.Task)
	var names []string
	if classes {
		head = append(head, "predicted")
		for _, c := range meta.Classes {
			head = append(head, "p_"+c)
		}
	} else if len(preds) > 0 {
		for k := range len(preds[0].Values) {
			names = append(names, targetName(meta, k))
		}
		head = append(head, names...)
	}
	cw.Write(head)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 7, 64) }
	for _, p := range preds {
		row := []string{p.Input}
		if classes {
			row = append(row, p.Predicted)
			for _, c := range meta.Classes {
				row = append(row, f(p.Probabilities[c]))
			}
		} else {
			for _, n := range names {
				row = append(row, f(p.Values[n]))
			}
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// writePredictionsJSON writes one JSON object per sample.
func writePredictionsJSON(w io.Writer, preds []Prediction) error {
	enc := json.NewEncoder(w)
	for _, p := range preds {
		if err := enc.Encode(p); err != nil {
			return err
		}
	}
	return nil
}

// writeOutput writes the predictions to path: a regular file (new or not)
// atomically, through a symbolic link at the file it points to, and a
// device or pipe (/dev/stdout) directly, never replacing it.
func writeOutput(path string, b []byte) error {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		if real, err := filepath.EvalSymlinks(path); err == nil {
			path = real
		} else if t, err := os.Readlink(path); err == nil { // a link to a file yet to exist
			if !filepath.IsAbs(t) {
				t = filepath.Join(filepath.Dir(path), t)
			}
			path = t
		}
	}
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		_, err = f.Write(b)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}
	return writeFileAtomic(path, b)
}
