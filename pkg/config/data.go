package config

import (
	"fmt"
	"reflect"
	"strings"
)

// Data describes where the samples come from and how they are prepared.
type Data struct {
	Source       string     `yaml:"source" doc:"SCHEME:REF: builtin:NAME, csv:PATH, tsv:PATH, idx:IMAGES,LABELS[,TEST_IMAGES,TEST_LABELS] (idx:IMAGES for reconstruction), npy:X.npy[,Y.npy], npz:FILE.npz, images:DIR, text:PATH or series:PATH"`
	Task         string     `yaml:"task" doc:"classification, regression, forecasting (series), language_model (text), reconstruction (the target is the input: autoencoders) or seq2seq (csv/tsv of source and target text)"`
	Label        string     `yaml:"label" doc:"label (target) column, by name or 0-based index (-1: the last); a built-in data set names its own"`
	Targets      []string   `yaml:"targets" doc:"target columns of a regression or forecasting task (several allowed); default: the label"`
	SourceColumn string     `yaml:"source_column" doc:"seq2seq: the column holding the source text"`
	TargetColumn string     `yaml:"target_column" doc:"seq2seq: the column holding the target text"`
	Features     []string   `yaml:"features" doc:"feature (input) columns; empty means every column but the targets"`
	TextColumn   string     `yaml:"text_column" doc:"csv/tsv, classification or regression: the column holding each sample's text, the only input; tokenized as data.text says (vocabulary from the training split), padded or cut to data.text.sequence_length token ids, with a padding mask (docs/sequences.md)"`
	Categorical  []string   `yaml:"categorical" doc:"feature columns holding categories, encoded as preprocess.encoding says; categories are learned on the training split"`
	Classes      []string   `yaml:"classes" doc:"the class names in index order; a label must be one of them (a built-in data set's labels are indices, named by them)"`
	Shape        []int      `yaml:"shape" doc:"per-sample input shape, e.g. [1, 8, 8]; empty means the source's natural shape"`
	Prepared     string     `yaml:"prepared" doc:"directory of the prepared dataset (dltrain prepare); empty means prepared/NAME in the current directory"`
	CSV          CSV        `yaml:"csv"`
	Arrays       Arrays     `yaml:"arrays"`
	Images       Images     `yaml:"images"`
	Text         Text       `yaml:"text"`
	Series       Series     `yaml:"series"`
	Clean        Clean      `yaml:"clean"`
	Preprocess   Preprocess `yaml:"preprocess"`
	Split        Split      `yaml:"split"`
}

// CSV says how a csv, tsv or series file is laid out.
type CSV struct {
	Header    bool   `yaml:"header" doc:"the first line names the columns; without it columns are named 0, 1, 2, ..."`
	Delimiter string `yaml:"delimiter" doc:"field separator, one character; empty means tab for tsv: sources and comma otherwise"`
}

// Comma returns the field separator: def when Delimiter is empty, a tab
// for "\t" (as typed, a backslash and a t) or "tab". ok is false when the
// delimiter is not one usable character.
func (c CSV) Comma(def rune) (r rune, ok bool) {
	switch c.Delimiter {
	case "":
		return def, true
	case `\t`, "tab":
		return '\t', true
	}
	rs := []rune(c.Delimiter)
	if len(rs) != 1 || rs[0] == '"' || rs[0] == '\n' || rs[0] == '\r' || rs[0] == 0xFFFD {
		return 0, false
	}
	return rs[0], true
}

// Arrays names the arrays of an npz archive.
type Arrays struct {
	X string `yaml:"x" doc:"name of the inputs array in an npz archive"`
	Y string `yaml:"y" doc:"name of the targets array in an npz archive"`
}

// Images says how an image folder becomes tensors.
type Images struct {
	Size  []int  `yaml:"size" doc:"[height, width] every image is resized to (bilinear); empty means all images must share one size"`
	Color string `yaml:"color" doc:"grayscale (1 channel) or rgb (3 channels)"`
}

// Text says how a corpus becomes sequences.
type Text struct {
	Tokens         string `yaml:"tokens" doc:"char (every character is a token) or word (whitespace-separated words)"`
	Lowercase      bool   `yaml:"lowercase" doc:"lower-case the corpus before tokenizing"`
	SequenceLength int    `yaml:"sequence_length" doc:"tokens per input sequence; the target is the token that follows (with data.text_column: texts are padded or cut to it; unset (or 32, the default): the longest training text, at most 256)"`
	Stride         int    `yaml:"stride" doc:"tokens between the starts of consecutive sequences"`
	MinCount       int    `yaml:"min_count" doc:"a token seen fewer times in the training split maps to <unk>"`
	Encoding       string `yaml:"encoding" doc:"onehot (input shape [T, V]) or index (input shape [T], token ids)"`
	Targets        string `yaml:"targets" doc:"last (the target is the token after the sequence) or all (targets [T]: every position predicts the token after it)"`
}

// Series says how a table of time steps becomes windows.
type Series struct {
	Time       string `yaml:"time" doc:"column holding the time; rows must be in strictly increasing order of it; it is not a feature"`
	Lookback   int    `yaml:"lookback" doc:"time steps in each input window"`
	Horizon    int    `yaml:"horizon" doc:"how many steps after the window's last step the target lies"`
	Stride     int    `yaml:"stride" doc:"time steps between the targets of consecutive windows"`
	Difference int    `yaml:"difference" doc:"times every column is replaced by its difference from the previous step (0: none)"`
	Season     int    `yaml:"season" doc:"steps in one season (12 for monthly data with a yearly cycle); eval then also reports the seasonal-naive forecast (0: none)"`
}

// Clean says what to do with bad values and rows.
type Clean struct {
	Missing    string  `yaml:"missing" doc:"error, drop, mean, median, constant or interpolate (series only: linear in time between the nearest known steps): what to do with an empty, NA, NaN or Inf feature"`
	Fill       float64 `yaml:"fill" doc:"the value missing features take with missing: constant"`
	Duplicates string  `yaml:"duplicates" doc:"keep, drop or error: what to do with rows identical to an earlier row"`
	Constant   string  `yaml:"constant" doc:"keep or drop: features constant on the training split"`
	Labels     string  `yaml:"labels" doc:"warn or error: what to do when a class has no training sample (a class of data.classes the data never uses, a gap in numeric labels, or a class whose samples all went to val or test); warn notes it and trains"`
}

// Preprocess holds transforms fitted on the training split only.
type Preprocess struct {
	Scale      string `yaml:"scale" doc:"none, standard (zero mean, unit variance) minmax (to [0, 1]) or symmetric (to [−1, 1] over all features, or per channel: a GAN's tanh output range)"`
	PerChannel bool   `yaml:"per_channel" doc:"fit one scaling per channel (first axis of the shape; a series' columns) instead of one per feature"`
	Encoding   string `yaml:"encoding" doc:"onehot or index: how categorical features are encoded"`
}

// Split says how samples are dealt into train, val and test.
type Split struct {
	Train    float64 `yaml:"train" doc:"fraction of rows for training"`
	Val      float64 `yaml:"val" doc:"fraction for validation; 0 means no validation"`
	Test     float64 `yaml:"test" doc:"fraction held out for the final test"`
	Stratify bool    `yaml:"stratify" doc:"keep class proportions in every split (classification, method random)"`
	Method   string  `yaml:"method" doc:"auto, random, group, time or column"`
	Column   string  `yaml:"column" doc:"the group column (method group), time column (method time) or split column (method column)"`
	Folds    int     `yaml:"folds" doc:"k: deal the non-test rows into k folds (0: no folds); the validation split is fold data.split.fold"`
	Fold     int     `yaml:"fold" doc:"which fold (0..k-1) is the validation split"`
}

// DefaultData returns the data section's defaults.
func DefaultData() Data {
	return Data{
		Task:       "classification",
		CSV:        CSV{Header: true},
		Arrays:     Arrays{X: "x", Y: "y"},
		Images:     Images{Color: "grayscale"},
		Text:       Text{Tokens: "char", SequenceLength: 32, Stride: 1, MinCount: 1, Encoding: "onehot", Targets: "last"},
		Series:     Series{Lookback: 8, Horizon: 1, Stride: 1},
		Clean:      Clean{Missing: "error", Duplicates: "keep", Constant: "keep", Labels: "warn"},
		Preprocess: Preprocess{Scale: "standard", Encoding: "onehot"},
		Split:      Split{Train: 0.7, Val: 0.15, Test: 0.15, Stratify: true, Method: "auto"},
	}
}

// Changed reports whether key (a dotted path such as data.split.fold)
// holds a value other than its default. Checks of options that apply only
// in some cases use it, so that a saved, fully resolved config (every key
// written out) loads as cleanly as the short file it came from.
func (e *Experiment) Changed(key string) bool {
	def := Default()
	a, okA := fieldByPath(reflect.ValueOf(*e), key)
	b, okB := fieldByPath(reflect.ValueOf(def), key)
	if !okA || !okB {
		return false
	}
	if a.Kind() == reflect.Slice && a.Len() == 0 && b.Len() == 0 {
		return false
	}
	return !reflect.DeepEqual(a.Interface(), b.Interface())
}

// fieldByPath finds the field a dotted yaml key path names.
func fieldByPath(v reflect.Value, path string) (reflect.Value, bool) {
	for _, part := range strings.Split(strings.ToLower(path), ".") {
		if v.Kind() != reflect.Struct {
			return v, false
		}
		i, ok := fieldsByKey(v.Type())[part]
		if !ok {
			return v, false
		}
		v = v.Field(i)
	}
	return v, true
}

// validateData checks the data section's own values; the data package
// checks what depends on the source kind.
func (e *Experiment) validateData() Problems {
	var ps Problems
	bad := func(key, format string, args ...any) { ps = append(ps, e.Problem(key, format, args...)) }
	d := e.Data
	if d.Source == "" {
		bad("data.source", "is required, e.g. builtin:digits or csv:data.csv")
	}
	for i, n := range d.Shape {
		if n <= 0 {
			bad(fmt.Sprintf("data.shape[%d]", i), "must be > 0, got %d", n)
		}
	}
	if _, ok := d.CSV.Comma(','); !ok {
		bad("data.csv.delimiter", "must be one character other than a quote or line end (or \\t, tab), e.g. \",\", \";\" or \"\\t\"; got %q", d.CSV.Delimiter)
	}
	oneOf := func(key, got string, allowed ...string) {
		for _, a := range allowed {
			if got == a {
				return
			}
		}
		bad(key, "must be one of %s, got %q%s", strings.Join(allowed, ", "), got, suggest(got, allowed))
	}
	oneOf("data.images.color", d.Images.Color, "grayscale", "rgb")
	oneOf("data.text.tokens", d.Text.Tokens, "char", "word")
	oneOf("data.text.encoding", d.Text.Encoding, "onehot", "index")
	oneOf("data.text.targets", d.Text.Targets, "last", "all")
	oneOf("data.clean.missing", d.Clean.Missing, "error", "drop", "mean", "median", "constant", "interpolate")
	oneOf("data.clean.duplicates", d.Clean.Duplicates, "keep", "drop", "error")
	oneOf("data.clean.constant", d.Clean.Constant, "keep", "drop")
	oneOf("data.clean.labels", d.Clean.Labels, "warn", "error")
	oneOf("data.preprocess.scale", d.Preprocess.Scale, "none", "standard", "minmax", "symmetric")
	oneOf("data.preprocess.encoding", d.Preprocess.Encoding, "onehot", "index")
	oneOf("data.split.method", d.Split.Method, "auto", "random", "group", "time", "column")
	if len(d.Images.Size) != 0 && len(d.Images.Size) != 2 {
		bad("data.images.size", "must be [height, width], got %v", d.Images.Size)
	}
	for i, n := range d.Images.Size {
		if n <= 0 {
			bad(fmt.Sprintf("data.images.size[%d]", i), "must be > 0, got %d", n)
		}
	}
	positive := func(key string, v int) {
		if v < 1 {
			bad(key, "must be >= 1, got %d", v)
		}
	}
	positive("data.text.sequence_length", d.Text.SequenceLength)
	positive("data.text.stride", d.Text.Stride)
	positive("data.text.min_count", d.Text.MinCount)
	positive("data.series.lookback", d.Series.Lookback)
	positive("data.series.horizon", d.Series.Horizon)
	positive("data.series.stride", d.Series.Stride)
	if d.Series.Difference < 0 {
		bad("data.series.difference", "must be >= 0, got %d", d.Series.Difference)
	}
	if d.Series.Season < 0 {
		bad("data.series.season", "must be >= 0 (0: no season), got %d", d.Series.Season)
	}
	if d.Clean.Fill != d.Clean.Fill || d.Clean.Fill > 3.4e38 || d.Clean.Fill < -3.4e38 {
		bad("data.clean.fill", "must be a finite float32 number, got %v", d.Clean.Fill)
	}
	if e.Changed("data.clean.fill") && d.Clean.Missing != "constant" {
		bad("data.clean.fill", "applies only with data.clean.missing: constant (missing is %q)", d.Clean.Missing)
	}
	ps = append(ps, e.validateSplit()...)
	return ps
}

func (e *Experiment) validateSplit() Problems {
	var ps Problems
	bad := func(key, format string, args ...any) { ps = append(ps, e.Problem(key, format, args...)) }
	s := e.Data.Split
	for _, f := range []struct {
		key string
		v   float64
	}{{"data.split.train", s.Train}, {"data.split.val", s.Val}, {"data.split.test", s.Test}} {
		if !(f.v >= 0 && f.v <= 1) {
			bad(f.key, "must be a fraction in [0, 1], got %v", f.v)
		}
	}
	if s.Train <= 0 {
		bad("data.split.train", "must be > 0, got %v", s.Train)
	}
	if sum := s.Train + s.Val + s.Test; sum < 1-1e-9 || sum > 1+1e-9 {
		bad("data.split", "train + val + test must be 1, got %v + %v + %v = %v", s.Train, s.Val, s.Test, sum)
	}
	switch s.Method {
	case "group", "column":
		if s.Column == "" {
			bad("data.split.column", "split method %s needs the name of its column", s.Method)
		}
	case "auto", "random":
		if s.Column != "" {
			bad("data.split.column", "applies only to split methods group, time and column (method is %s)", s.Method)
		}
	}
	if s.Method == "column" {
		for _, k := range []string{"train", "val", "test"} {
			if e.Changed("data.split." + k) {
				bad("data.split."+k, "split method column takes each row's split from column %q; remove the fractions", s.Column)
			}
		}
	}
	switch {
	case s.Folds < 0 || s.Folds == 1:
		bad("data.split.folds", "must be 0 (no folds) or at least 2, got %d", s.Folds)
	case s.Folds >= 2:
		if s.Val != 0 {
			bad("data.split.val", "must be 0 with data.split.folds: the validation split is fold data.split.fold; got %v", s.Val)
		}
		if s.Fold < 0 || s.Fold >= s.Folds {
			bad("data.split.fold", "must be in 0..%d (data.split.folds is %d), got %d", s.Folds-1, s.Folds, s.Fold)
		}
		if s.Method == "time" || s.Method == "column" {
			bad("data.split.folds", "k-fold assignment applies to split methods random and group, not %s", s.Method)
		}
	case e.Changed("data.split.fold"):
		bad("data.split.fold", "applies only with data.split.folds >= 2")
	}
	return ps
}
