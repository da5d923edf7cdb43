package data

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
)

// Split is one part of a dataset: N samples, features and targets stored
// flat and row-major in float32.
type Split struct {
	Name string // "train", "val" or "test"
	N    int
	X    []float32 // N × InputSize
	Y    []float32 // N × TargetSize; a class index per sample in classification
	// Lines holds the source line (or 1-based entry) of each sample, so
	// that any result can be traced back to the rows it came from.
	Lines []int
	// Names holds each sample's file (image folders); nil otherwise.
	Names []string
	// Folds holds each sample's k-fold index; nil without data.split.folds.
	Folds []int
	// Naive holds a forecasting split's naive forecasts (persistence,
	// seasonal naive) for eval's baselines; nil for other tasks, and in a
	// split read back from a prepared dataset, which does not store them.
	Naive *Naive
}

// Dataset is what an experiment trains and evaluates on.
type Dataset struct {
	Meta
	Train, Val, Test *Split
	// Files are the source files read, with their checksums.
	Files []SourceFile
}

// Splits returns train, val and test, in that order.
func (ds *Dataset) Splits() []*Split { return []*Split{ds.Train, ds.Val, ds.Test} }

// SourceFile is one file a dataset was read from.
type SourceFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// Meta describes the samples and every preprocessing fitted on them.
type Meta struct {
	Task     string   `json:"task"`
	Input    []int    `json:"input_shape"`  // per-sample input shape
	Target   []int    `json:"target_shape"` // per-sample target shape; [] for a class index, [T] for one per position
	Classes  []string `json:"classes,omitempty"`
	Features []string `json:"features"`
	Targets  []string `json:"targets"`
	Scaling  *Scaling `json:"scaling,omitempty"`
	Source   string   `json:"source"`
	SHA256   string   `json:"sha256"` // of the source file (several files: of their list of checksums)
	// Split is the split method used: random, stratified, group, time,
	// column or preset (a given test set).
	Split string `json:"split,omitempty"`
	// Columns are the numeric feature columns of a table source as read,
	// before categorical encoding and constant dropping; nil for arrays.
	Columns []string `json:"columns,omitempty"`
	// Imputation fills missing features (data.clean.missing mean, median
	// or constant).
	Imputation *Imputation `json:"imputation,omitempty"`
	// Encodings are the categorical features' categories, learned on the
	// training split.
	Encodings []Encoding `json:"encodings,omitempty"`
	// DroppedConstant lists features dropped for being constant on the
	// training split (data.clean.constant: drop).
	DroppedConstant []string `json:"dropped_constant,omitempty"`
	// RawInput is the per-sample shape before the constant features were
	// dropped (nil when none were): the shape new samples come in.
	RawInput []int `json:"raw_input_shape,omitempty"`
	// Text describes how a corpus became sequences; its vocabulary is
	// Classes.
	Text *TextMeta `json:"text,omitempty"`
	// Series describes how a series became windows.
	Series *SeriesMeta `json:"series,omitempty"`
	// Seq2Seq describes how text pairs became id sequences.
	Seq2Seq *Seq2SeqMeta `json:"seq2seq,omitempty"`
	// Conditional marks generation data that keeps each sample's class (a
	// conditional GAN, model.conditional): the target is the class index
	// ([] per sample) and Classes names the classes, instead of the
	// target being the input.
	Conditional bool `json:"conditional,omitempty"`
}

// Where names the source of sample i of split s as errors do: "FILE:LINE"
// for text sources, "FILE: entry N" for arrays (the file holding the
// labels), or the image file of an image folder.
func (ds *Dataset) Where(s *Split, i int) string {
	scheme, ref, _ := strings.Cut(ds.Source, ":")
	e := &Error{File: ref}
	switch {
	case s.Names != nil:
		e.File = filepath.Join(ref, filepath.FromSlash(s.Names[i]))
	case scheme == "idx" || scheme == "npy" || scheme == "npz":
		paths := splitRef(ref)
		e.File, e.Entry = paths[min(1, len(paths)-1)], s.Lines[i]
		if scheme == "idx" && len(paths) == 4 && s.Name == "test" {
			e.File = paths[3]
		}
	case scheme == "builtin":
		e.File = ds.Source
		e.Line = s.Lines[i]
	default:
		e.Line = s.Lines[i]
	}
	return e.place()
}

// Vocab is the number of token ids the inputs hold, <unk> included: the
// vocabulary of a corpus read as ids (data.text.encoding: index) or of a
// text column; 0 when the inputs are not token ids.
func (m Meta) Vocab() int {
	switch {
	case m.Text == nil:
		return 0
	case m.Text.Column != "": // a text column: its own vocabulary, <pad> and <unk> included
		return len(m.Text.Vocab)
	case m.Text.Encoding == "index":
		return len(m.Classes)
	}
	return 0
}

// InputSize is the number of features per sample.
func (m Meta) InputSize() int { return prod(m.Input) }

// TargetSize is the number of target values per sample.
func (m Meta) TargetSize() int { return prod(m.Target) }

// ModelOutput is the per-sample shape a model's output must have for this
// data: one logit per class (at each position, for a class per position),
// or one value per target.
func (m Meta) ModelOutput() []int {
	if ClassTask(m.Task) {
		return append(append([]int{}, m.Target...), len(m.Classes))
	}
	return m.Target
}

func prod(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

// streams are the purposes that draw from the experiment seed. Each gets
// its own PCG stream, so that, say, adding dropout does not change the
// data order or the initial weights.
const (
	StreamSplit uint64 = 0x5eed0001 + iota
	StreamOrder
	StreamInit
	StreamDropout
	StreamAugment
	StreamFolds
	StreamCorrupt // an autoencoder's corruption of its training inputs (model.corrupt)
	StreamSample  // a GAN's noise for samples: dltrain sample, the training's sample grids
	// StreamSampleClass draws the classes of a conditional GAN's samples
	// when none is asked for: its own stream, so that one seed's noise
	// is the same whatever the classes.
	StreamSampleClass
)

// RNG returns the random stream for one purpose of an experiment seed.
func RNG(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, stream))
}

// Order returns the sample order of one epoch: a permutation of 0..n-1
// that depends only on (seed, epoch).
func Order(n int, seed uint64, epoch int) []int { return OrderInto(nil, n, seed, epoch) }

// OrderInto is Order written into the memory of dst (grown as needed):
// the training loop draws each epoch's order without allocating.
func OrderInto(dst []int, n int, seed uint64, epoch int) []int {
	var pcg rand.PCG
	pcg.Seed(seed^uint64(epoch)*0x9e3779b97f4a7c15, StreamOrder)
	rng := rand.New(&pcg)
	if cap(dst) < n {
		dst = make([]int, n)
	}
	idx := dst[:n]
	for i := range idx {
		idx[i] = i
	}
	rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	return idx
}

// Batches cuts an order into batches of size at most batch. The last one
// is smaller when batch does not divide the count; it is kept.
func Batches(order []int, batch int) [][]int { return BatchesInto(nil, order, batch) }

// BatchesInto is Batches appended to dst[:0].
func BatchesInto(dst [][]int, order []int, batch int) [][]int {
	out := dst[:0]
	for lo := 0; lo < len(order); lo += batch {
		out = append(out, order[lo:min(lo+batch, len(order))])
	}
	return out
}

// Float is the element type of model tensors.
type Float interface{ ~float32 | ~float64 }

// Gather copies the samples idx of a flat row-major table with rows of
// width values into dst, in order, without allocating.
func Gather[T Float](dst []T, src []float32, width int, idx []int) {
	if d32, ok := any(dst).([]float32); ok { // rows copied whole: 10x faster than the loop
		for i, r := range idx {
			copy(d32[i*width:(i+1)*width], src[r*width:(r+1)*width])
		}
		return
	}
	for i, r := range idx {
		row := src[r*width : (r+1)*width]
		d := dst[i*width : (i+1)*width]
		for j, v := range row {
			d[j] = T(v)
		}
	}
}
