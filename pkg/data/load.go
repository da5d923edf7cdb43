package data

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/dltrain/dltrain/pkg/config"
)

// sourceKind is one kind of data source, named by the scheme before the
// colon in data.source.
type sourceKind struct {
	// tasks lists the data tasks the source can feed.
	tasks []string
	// options lists the source-specific data keys (or key prefixes, ending
	// in a dot) that apply to it; setting another is an error.
	options []string
	// digest lists the files the source reads, with their checksums.
	digest func(ref string, d config.Data) ([]SourceFile, error)
	// load reads, cleans, splits and preprocesses the data.
	load func(exp *config.Experiment, ref string, rep *Report) (*Dataset, error)
	// check reports problems visible before reading any data.
	check func(e *config.Experiment, ref string) config.Problems
}

// sources is every data source kind, by scheme.
var sources = map[string]sourceKind{
	"builtin": builtinSource,
	"csv":     csvSource,
	"tsv":     tsvSource,
	"idx":     idxSource,
	"npy":     npySource,
	"npz":     npzSource,
	"images":  imagesSource,
	"text":    textSource,
	"series":  seriesSource,
}

// sourceOptions are the data keys that apply to some source kinds only.
var sourceOptions = []string{"label", "targets", "features", "categorical", "classes", "text_column",
	"csv.header", "csv.delimiter", "arrays.x", "arrays.y", "images.size", "images.color",
	"text.tokens", "text.lowercase", "text.sequence_length", "text.stride", "text.min_count", "text.encoding", "text.targets",
	"series.time", "series.lookback", "series.horizon", "series.stride", "series.difference", "series.season",
	"preprocess.encoding", "source_column", "target_column"}

// Schemes lists the known source kinds.
func Schemes() []string {
	out := make([]string, 0, len(sources))
	for k := range sources {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func lookupSource(src string) (sourceKind, string, error) {
	scheme, ref, ok := strings.Cut(src, ":")
	kind, known := sources[scheme]
	if !ok || !known {
		return sourceKind{}, "", fmt.Errorf("%w: unknown data source %q; expected SCHEME:REF with scheme one of %s", ErrBadData, src, strings.Join(Schemes(), ", "))
	}
	if ref == "" {
		return sourceKind{}, "", fmt.Errorf("%w: data source %q names nothing after the colon", ErrBadData, src)
	}
	return kind, ref, nil
}

// Load reads, cleans, splits and preprocesses the data an experiment
// names, in memory. Everything fitted (imputation, encodings, vocabulary,
// scaling) is fitted on the training split only.
func Load(exp *config.Experiment) (*Dataset, *Report, error) {
	kind, ref, err := lookupSource(exp.Data.Source)
	if err != nil {
		return nil, nil, err
	}
	files, err := kind.digest(ref, exp.Data)
	if err != nil {
		return nil, nil, err
	}
	rep := &Report{}
	ds, err := kind.load(exp, ref, rep)
	if err != nil {
		return nil, nil, err
	}
	ds.Files = files
	ds.SHA256 = combinedSHA(files)
	if ds.Train.N == 0 {
		return nil, nil, fmt.Errorf("%w: %s: no training samples", ErrBadData, exp.Data.Source)
	}
	if err := checkCoverage(exp, ds, rep); err != nil {
		return nil, nil, err
	}
	return ds, rep, nil
}

// combinedSHA is the checksum of the source: that of its one file, or of
// the list of its files' checksums and names (without their directories,
// so that it does not change when the files move).
func combinedSHA(files []SourceFile) string {
	if len(files) == 1 {
		return files[0].SHA256
	}
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s  %s\n", f.SHA256, filepath.Base(f.Path))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SameSource says whether sum, a dataset's checksum as a checkpoint
// recorded it, is that of the source ds was read from. Checkpoints made
// before the checksum of several files left out their directories hashed
// the full paths; those still match while the files have not moved.
func (ds *Dataset) SameSource(sum string) bool {
	if sum == ds.SHA256 || len(ds.Files) < 2 {
		return sum == ds.SHA256
	}
	h := sha256.New()
	for _, f := range ds.Files {
		fmt.Fprintf(h, "%s  %s\n", f.SHA256, f.Path)
	}
	return sum == hex.EncodeToString(h.Sum(nil))
}

// fileDigests checksums files.
func fileDigests(paths []string) ([]SourceFile, error) {
	out := make([]SourceFile, 0, len(paths))
	for _, p := range paths {
		sf, err := fileDigest(p)
		if err != nil {
			return nil, err
		}
		out = append(out, sf)
	}
	return out, nil
}

func fileDigest(path string) (SourceFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return SourceFile{}, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return SourceFile{}, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	return SourceFile{Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Bytes: n}, nil
}

// splitRef splits a comma-separated list of paths.
func splitRef(ref string) []string {
	parts := strings.Split(ref, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return parts
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// Validate checks the data section against the source kind, without
// reading any data. It is a config.Validator.
func Validate(e *config.Experiment) config.Problems {
	d := e.Data
	if d.Source == "" {
		return nil // the schema reports it
	}
	var ps config.Problems
	kind, ref, err := lookupSource(d.Source)
	if err != nil {
		scheme, _, _ := strings.Cut(d.Source, ":")
		return config.Problems{e.Problem("data.source", "%s", strings.TrimPrefix(err.Error(), ErrBadData.Error()+": ")+
			suggestScheme(scheme))}
	}
	scheme, _, _ := strings.Cut(d.Source, ":")
	if _, ok := tasks[d.Task]; !ok {
		ps = append(ps, e.Problem("data.task", "unknown task %q; known: %s", d.Task, strings.Join(Tasks(), ", ")))
	} else if !slices.Contains(kind.tasks, d.Task) {
		ps = append(ps, e.Problem("data.task", "a %s source feeds %s, not %s; set data.task: %s", scheme, strings.Join(kind.tasks, " or "), d.Task, kind.tasks[0]))
	}
	for _, key := range sourceOptions {
		if e.Changed("data."+key) && !slices.Contains(kind.options, key) {
			ps = append(ps, e.Problem("data."+key, "does not apply to a %s source", scheme))
		}
	}
	if kind.check != nil {
		ps = append(ps, kind.check(e, ref)...)
	}
	if selfTarget(e) {
		ps = append(ps, selfCheck(e)...)
	}
	if d.Clean.Missing == "interpolate" && d.Task != "forecasting" {
		ps = append(ps, e.Problem("data.clean.missing", "interpolate fills gaps along time, so it applies to a series (series: or a built-in series, data.task: forecasting); "+
			"the rows of this %s source (task %s) are not steps in time: use error, drop, mean, median or constant", scheme, d.Task))
	}
	if d.Clean.Constant == "drop" && len(d.Shape) > 0 {
		ps = append(ps, e.Problem("data.clean.constant", "drop changes the number of features, which data.shape fixes; keep constant features or remove data.shape"))
	}
	return ps
}

// selfCheck refuses the keys that pick a target when the target is the
// input itself (reconstruction): a label column would be silently unused.
func selfCheck(e *config.Experiment) config.Problems {
	var ps config.Problems
	d := e.Data
	if d.Label != "" {
		ps = append(ps, e.Problem("data.label", "a %s task has no label column: its target is the input (every feature column); remove data.label (got %q), or list the columns to reconstruct in data.features", d.Task, d.Label))
	}
	if len(d.Targets) > 0 {
		ps = append(ps, e.Problem("data.targets", "a %s task has no target columns: its target is the input (every feature column); remove data.targets (got %s)", d.Task, strings.Join(d.Targets, ", ")))
	}
	if e.Changed("data.arrays.y") {
		ps = append(ps, e.Problem("data.arrays.y", "a %s task reads no targets array: its target is the input, data.arrays.x", d.Task))
	}
	return ps
}

func suggestScheme(scheme string) string {
	for _, s := range Schemes() {
		if strings.EqualFold(s, scheme) {
			return fmt.Sprintf(" (did you mean %q?)", s)
		}
	}
	return ""
}

// orderedCheck is the split check of a source whose samples are in time
// order (text, series): only a time split keeps the future out of
// training.
func orderedCheck(e *config.Experiment) config.Problems {
	var ps config.Problems
	s := e.Data.Split
	if s.Method != "auto" && s.Method != "time" {
		ps = append(ps, e.Problem("data.split.method", "must be time (or auto) for a source in time order: a %s split would put the future into training", s.Method))
	}
	if s.Column != "" {
		ps = append(ps, e.Problem("data.split.column", "does not apply: the samples are already in time order"))
	}
	if s.Folds != 0 {
		ps = append(ps, e.Problem("data.split.folds", "k-fold assignment does not apply to a source in time order"))
	}
	return ps
}

// tableCheck is the check shared by the sources read as tables.
func tableCheck(e *config.Experiment) config.Problems {
	var ps config.Problems
	d := e.Data
	if len(d.Targets) > 0 && d.Label != "" {
		ps = append(ps, e.Problem("data.targets", "give either data.label or data.targets, not both"))
	}
	if len(d.Targets) > 1 && ClassTask(d.Task) {
		ps = append(ps, e.Problem("data.targets", "a %s task has one label column; several targets need task regression", d.Task))
	}
	if len(d.Categorical) > 0 && d.Preprocess.PerChannel {
		ps = append(ps, e.Problem("data.preprocess.per_channel", "does not combine with categorical features"))
	}
	if len(d.Categorical) == 0 && e.Changed("data.preprocess.encoding") {
		ps = append(ps, e.Problem("data.preprocess.encoding", "applies only with data.categorical"))
	}
	return append(ps, classesCheck(e)...)
}

// classesCheck refuses data.classes outside classification, and a class
// name given twice: labels of that name would all go to one of its
// indices.
func classesCheck(e *config.Experiment) config.Problems {
	var ps config.Problems
	if len(e.Data.Classes) > 0 && !classTargets(e) {
		ps = append(ps, e.Problem("data.classes", "applies only to classification (and a conditional GAN's labels, model.conditional)"))
	}
	seen := map[string]int{}
	for i, c := range e.Data.Classes {
		if j, ok := seen[c]; ok {
			ps = append(ps, e.Problem("data.classes", "class %q is named twice (indices %d and %d); class names must differ", c, j, i))
			continue
		}
		seen[c] = i
	}
	return ps
}

// arrayCheck is the check shared by sources of fixed-size samples (idx,
// npy, images): no columns to pick.
func arrayCheck(e *config.Experiment) config.Problems {
	var ps config.Problems
	s := e.Data.Split
	if s.Method == "group" || s.Method == "column" || s.Method == "time" {
		ps = append(ps, e.Problem("data.split.method", "%s needs a column; this source has none (use random)", s.Method))
	}
	return append(ps, classesCheck(e)...)
}

// targetsOf returns the target columns a table source asks for: data.targets,
// or else data.label, or else def.
func targetsOf(d config.Data, def string) []string {
	switch {
	case len(d.Targets) > 0:
		return d.Targets
	case d.Label != "":
		return []string{d.Label}
	case def != "":
		return []string{def}
	}
	return nil
}

// noLabels is the problem of a conditional GAN whose source, described by
// what, holds no class per sample; want says what would.
func noLabels(e *config.Experiment, what, want string) *config.Problem {
	return e.Problem("data.source", "model.conditional: true draws samples of a given class, so each sample's class is needed, but %s has none; give %s, or remove model.conditional", what, want)
}
