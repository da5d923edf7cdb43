package run

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/dltrain/dltrain/pkg/config"
	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/eval"
	"github.com/dltrain/dltrain/pkg/train"
)

// JudgeOptions are the inputs of Judge. The samples come either from a
// .npy file (Samples) or from a generative run (Run), never both.
type JudgeOptions struct {
	Judge           string // the classifier's run directory
	JudgeCheckpoint string // its checkpoint: "best", "last" or a file

	Samples string // .npy file of samples [N, shape...] in the data's original units

	Run        string // a generative (GAN) run to draw the samples from
	Checkpoint string // the GAN run's checkpoint: "best", "last" or a file
	N          int    // samples to draw from Run
	Seed       int64  // the sampling seed
	SeedSet    bool   // whether Seed was given (otherwise the GAN run's seed)
	Class      string // conditional GANs: the class to draw ("" mixes all)

	// Confidence and MinShare are the thresholds of eval.Judge (0: the
	// defaults, eval.DefaultConfidence and eval.DefaultMinShare).
	Confidence float64
	MinShare   float64

	// Output is where judge.json goes; "" puts it next to Samples, or
	// under Run's eval/ folder.
	Output string
	JSON   bool // print the report as JSON instead of a table
	Stdout io.Writer
	Logf   func(format string, args ...any)
}

// Judge scores samples with a classifier trained by dltrain: the share of
// samples it is confident about and the classes they cover, next to the
// same numbers for the classifier's own test split (real samples it never
// trained on). The samples are in the data's original units (0–255 for
// MNIST) and go through the classifier's saved preprocessing, as in
// predict. The report is printed and written to judge.json.
//
// Bad input is config.ErrInvalid or data.ErrBadData (exit 2): a judge
// that is not a classifier, samples of another shape than its inputs, a
// judge without a test split, a run to draw from that is not generative.
func Judge(ctx context.Context, opt JudgeOptions) (*eval.JudgeReport, error) {
	if err := checkJudgeOptions(&opt); err != nil {
		return nil, err
	}
	j, err := openJudge(opt.Judge, opt.JudgeCheckpoint)
	if err != nil {
		return nil, err
	}
	var x []float32
	var shape []int
	var drawn *Generated
	source := opt.Samples
	if opt.Run != "" {
		drawn, err = drawFromRun(ctx, &opt) // fills in the run's seed when none was given
		source = fmt.Sprintf("%d samples of %s (seed %d)", opt.N, opt.Run, opt.Seed)
		if drawn != nil {
			x, shape = drawn.Samples, append([]int{opt.N}, drawn.Shape...)
		}
	} else {
		shape, x, err = data.ReadNpy(opt.Samples)
	}
	if err != nil {
		return nil, err
	}
	if err := evalStopped(ctx); err != nil {
		return nil, err
	}
	samples, probs, err := j.score(source, x, shape, opt)
	if err != nil {
		return nil, err
	}
	real, _, err := j.scoreTest(ctx, opt)
	if err != nil {
		return nil, err
	}
	r := &eval.JudgeReport{Judge: opt.Judge, Checkpoint: opt.JudgeCheckpoint,
		Confidence: opt.Confidence, MinShare: opt.MinShare, Samples: samples, Real: real}
	if drawn != nil && drawn.Classes != nil {
		if r.ClassAccuracy, err = j.classAccuracy(drawn, probs, opt); err != nil {
			return nil, err
		}
	}
	return r, writeJudgeReport(r, opt)
}

// checkJudgeOptions fills the defaults and refuses contradictory or
// out-of-range options.
func checkJudgeOptions(opt *JudgeOptions) error {
	switch {
	case opt.Judge == "":
		return fmt.Errorf("%w: the judge run (a classifier's run directory) is missing", config.ErrInvalid)
	case (opt.Samples == "") == (opt.Run == ""):
		return fmt.Errorf("%w: the judge scores either a samples file or a GAN run's samples: give one of the two", config.ErrInvalid)
	case opt.Run != "" && opt.N <= 0:
		return fmt.Errorf("%w: the number of samples to draw must be > 0, got %d", config.ErrInvalid, opt.N)
	}
	opt.JudgeCheckpoint = cmp.Or(opt.JudgeCheckpoint, "best")
	opt.Confidence = cmp.Or(opt.Confidence, eval.DefaultConfidence)
	opt.MinShare = cmp.Or(opt.MinShare, eval.DefaultMinShare)
	if !(opt.Confidence > 0 && opt.Confidence < 1) {
		return fmt.Errorf("%w: the confidence threshold must be in (0, 1), got %v", config.ErrInvalid, opt.Confidence)
	}
	if !(opt.MinShare > 0 && opt.MinShare <= 1) {
		return fmt.Errorf("%w: the share that covers a class must be in (0, 1], got %v", config.ErrInvalid, opt.MinShare)
	}
	if opt.Output != "" {
		if st, err := os.Stat(opt.Output); err == nil && st.IsDir() {
			return fmt.Errorf("%w: --output %s is a directory; give a file name", config.ErrInvalid, opt.Output)
		}
	}
	return nil
}

// judge is a classifier run opened to score samples: its model rebuilt
// and its checkpoint's weights restored, as predict does.
type judge struct {
	dir  string
	exp  *config.Experiment
	ck   *train.Checkpoint
	meta data.Meta
	path string // the checkpoint's file
	s    *setup
}

// openJudge opens a classifier run through openRun, predict's path, and
// refuses a run that does not classify.
func openJudge(dir, checkpoint string) (*judge, error) {
	exp, ck, meta, path, err := openRun(dir, checkpoint)
	if err != nil {
		return nil, err
	}
	if !data.ClassTask(meta.Task) {
		return nil, fmt.Errorf("%w: the judge %s is a %s run (data.task: %s); a judge must be a classifier (data.task: classification) trained on the same kind of data as the samples",
			config.ErrInvalid, dir, meta.Task, meta.Task)
	}
	if meta.Text != nil || meta.Series != nil || meta.Encodings != nil {
		return nil, fmt.Errorf("%w: the judge %s reads %s; the judge scores arrays of values (images, arrays, numeric tables)",
			config.ErrInvalid, dir, exp.Data.Source)
	}
	return &judge{dir: dir, exp: exp, ck: ck, meta: meta, path: path}, nil
}

// session builds the judge's model for batches of up to n samples and
// restores its weights, once.
func (j *judge) session(n int) (*setup, error) {
	if j.s != nil {
		return j.s, nil
	}
	s, err := build(j.exp, j.meta, false, n)
	if err != nil {
		return nil, err
	}
	if err := train.RestoreParams(s.model.Params(), j.ck.Params); err != nil {
		return nil, fmt.Errorf("%s: %w", j.path, err)
	}
	j.s = s
	return s, nil
}

// score checks the samples' shape against the judge's inputs, applies the
// judge's saved preprocessing and scores them. Samples whose values per
// sample match the judge's in number but not in layout ([784] for a
// [1, 28, 28] LeNet) are read in C order, as predict reads them.
func (j *judge) score(source string, x []float32, shape []int, opt JudgeOptions) (eval.JudgeScore, []float64, error) {
	raw := j.meta.Input
	if j.meta.RawInput != nil {
		raw = j.meta.RawInput // before constant features were dropped: what the source gives
	}
	switch {
	case len(shape) < 2 || shape[0] == 0:
		return eval.JudgeScore{}, nil, fmt.Errorf("%w: %s: the samples have shape %v; the judge %s takes samples of shape %v: expected [N, %s]",
			data.ErrBadData, source, shape, j.dir, raw, dims(raw))
	case prod(shape[1:]) != prod(raw):
		return eval.JudgeScore{}, nil, fmt.Errorf("%w: %s: samples of shape %v (%d values); the judge %s takes samples of shape %v (%d values)",
			data.ErrBadData, source, shape[1:], prod(shape[1:]), j.dir, raw, prod(raw))
	}
	if !slices.Equal(shape[1:], raw) && opt.Logf != nil {
		opt.Logf("%s: samples of shape %v read as the judge's %v (same values, C order)", source, shape[1:], raw)
	}
	x, err := j.meta.PrepareArrays(slices.Clone(x))
	if err != nil {
		return eval.JudgeScore{}, nil, fmt.Errorf("%s: %w", source, err)
	}
	in := &data.Inputs{N: shape[0], X: x, Refs: make([]string, shape[0])}
	for i := range in.Refs {
		in.Refs[i] = "sample " + strconv.Itoa(i+1)
	}
	return j.judgeInputs(source, in, opt)
}

// scoreTest scores the judge's own test split, rebuilt as eval rebuilds
// it (same data, same seed); it refuses a judge without one, and data
// that changed since the judge was trained.
func (j *judge) scoreTest(ctx context.Context, opt JudgeOptions) (eval.JudgeScore, []float64, error) {
	if err := sameSplit(j.exp, j.ck, j.path); err != nil {
		return eval.JudgeScore{}, nil, err
	}
	ds, rep, err := data.OpenReadOnly(j.exp)
	if err != nil {
		return eval.JudgeScore{}, nil, err
	}
	if opt.Logf != nil && rep != nil {
		for _, n := range rep.Notes {
			opt.Logf("judge data: %s", n)
		}
	}
	if !ds.SameSource(j.meta.SHA256) {
		return eval.JudgeScore{}, nil, fmt.Errorf("%w: the judge's data %s changed since it was trained (sha256 %.12s… then, %.12s… now): its test split cannot be rebuilt",
			data.ErrBadData, j.exp.Data.Source, j.meta.SHA256, ds.SHA256)
	}
	if ds.Test.N == 0 {
		return eval.JudgeScore{}, nil, fmt.Errorf("%w: the judge %s has no test split (data.split.test is 0 and no test files): real samples it never trained on are needed to compare with; train it with a test split",
			config.ErrInvalid, j.dir)
	}
	if err := evalStopped(ctx); err != nil {
		return eval.JudgeScore{}, nil, err
	}
	in := &data.Inputs{N: ds.Test.N, X: ds.Test.X, Refs: make([]string, ds.Test.N)}
	for i := range in.Refs {
		in.Refs[i] = "test sample " + strconv.Itoa(i+1)
	}
	return j.judgeInputs(fmt.Sprintf("the test split of %s (%s)", j.dir, j.exp.Data.Source), in, opt)
}

// judgeInputs runs the judge's model over preprocessed inputs and scores
// its probabilities, which it also returns (N rows, one value per class).
func (j *judge) judgeInputs(source string, in *data.Inputs, opt JudgeOptions) (eval.JudgeScore, []float64, error) {
	s, err := j.session(max(in.N, j.exp.Train.BatchSize))
	if err != nil {
		return eval.JudgeScore{}, nil, err
	}
	preds, err := predict(s.session, j.meta, in, max(j.exp.Train.BatchSize, 256))
	if err != nil {
		return eval.JudgeScore{}, nil, err
	}
	k := len(j.meta.Classes)
	probs := make([]float64, len(preds)*k)
	for i, p := range preds {
		for c, name := range j.meta.Classes {
			probs[i*k+c] = p.Probabilities[name]
		}
	}
	return eval.Judge(source, probs, j.meta.Classes, opt.Confidence, opt.MinShare), probs, nil
}

// writeJudgeReport writes judge.json (next to the samples, under the GAN
// run's eval/ folder, or at Output) and prints the report.
func writeJudgeReport(r *eval.JudgeReport, opt JudgeOptions) error {
	b, err := r.JSON()
	if err != nil {
		return err
	}
	path := opt.Output
	switch {
	case path != "":
	case opt.Run != "":
		path = filepath.Join(opt.Run, "eval", "judge.json")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
	default:
		path = filepath.Join(filepath.Dir(opt.Samples), "judge.json")
	}
	if err := writeOutput(path, append(b, '\n')); err != nil {
		err = fmt.Errorf("cannot write the judge's report to %s: %w", path, err)
		if errors.Is(err, fs.ErrNotExist) { // a path to nowhere: the command line's fault
			err = fmt.Errorf("%w: %w", config.ErrInvalid, err)
		}
		return err
	}
	if opt.Logf != nil {
		opt.Logf("wrote the judge's report to %s", path)
	}
	if opt.Stdout == nil {
		return nil
	}
	if opt.JSON {
		_, err = fmt.Fprintln(opt.Stdout, string(b))
		return err
	}
	return r.WriteText(opt.Stdout)
}

// prod is the number of values of a shape.
func prod(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// dims writes a per-sample shape as a user reads it: "1, 28, 28".
func dims(shape []int) string {
	s := ""
	for i, d := range shape {
		if i > 0 {
			s += ", "
		}
		s += strconv.Itoa(d)
	}
	return s
}
