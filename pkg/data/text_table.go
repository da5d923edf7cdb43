package data

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/dltrain/dltrain/pkg/config"
)

// Texts in a table column (data.text_column): each row of a csv or tsv
// file is one sample whose input is its text, tokenized, mapped to the ids
// of a vocabulary built on the training split, and padded at the end (or
// cut) to one length; its label is read as a table's. The model sees ids
// [T] and defines its padding mask from them (pkg/models mask.go).

// The ids every text column's vocabulary starts with.
const (
	// PadID is the id of padding after a text's last token.
	PadID = 0
	// UnknownID is the id of a token not in the training vocabulary.
	UnknownID = 1
	// Padding is the vocabulary entry of PadID.
	Padding = "<pad>"
)

// maxAutoLength caps the sequence length taken from the longest training
// text when data.text.sequence_length is unset.
const maxAutoLength = 256

// textColumnOptions are the data keys a text column adds to a table.
// (data.text.encoding is not among them: a text column always gives ids,
// and encoding's default, onehot, cannot be told from one written out.)
var textColumnOptions = []string{"text_column", "text.tokens", "text.lowercase", "text.sequence_length", "text.min_count"}

// Padded reports whether the samples are token ids padded with PadID (a
// text column), so that a model defines a padding mask from them.
func (m Meta) Padded() bool { return m.Text != nil && m.Text.Column != "" }

// textColumnCheck reports the keys that do not go with a text column,
// and the text keys set without one.
func textColumnCheck(e *config.Experiment) config.Problems {
	var ps config.Problems
	d := e.Data
	if d.TextColumn == "" {
		for _, k := range textColumnOptions[1:] {
			if e.Changed("data." + k) {
				ps = append(ps, e.Problem("data."+k, "applies to a table only with data.text_column (the column holding the text)"))
			}
		}
		return ps
	}
	if d.Task != "classification" && d.Task != "regression" {
		ps = append(ps, e.Problem("data.task", "a text column feeds classification or regression, not %s", d.Task))
	}
	for _, k := range []string{"data.features", "data.categorical", "data.shape", "data.preprocess.per_channel", "data.text.stride"} {
		if e.Changed(k) {
			ps = append(ps, e.Problem(k, "does not apply to a text column: its text is the only input"))
		}
	}
	if m := d.Clean.Missing; m != "error" && m != "drop" {
		ps = append(ps, e.Problem("data.clean.missing", "a text column's empty cells can be dropped or stop the run (drop or error), not filled with %s", m))
	}
	return ps
}

// buildTextTable turns a frame whose one categorical column is the text
// into a dataset of padded token ids: it cleans the rows and reads the
// labels as a table's, splits, then builds the vocabulary and the length
// on the training rows alone.
func buildTextTable(exp *config.Experiment, f *frame, rep *Report) (*Dataset, error) {
	d := exp.Data
	rep.add("read %d rows from %s; the text is column %q", f.rows(), d.Source, d.TextColumn)
	meta, a, err := cleanAndAssign(exp, f, nil, rep)
	if err != nil {
		return nil, err
	}
	rep.add("split %d rows into train %d, val %d, test %d (seed %d, %s)", f.rows(), a.count(splitTrain), a.count(splitVal), a.count(splitTest), exp.Seed, meta.Split)
	leaks(f, a, rep)
	perm := a.order()
	f.reorder(perm)
	nTrain := a.count(splitTrain)
	toks := make([][]string, f.rows())
	for r, text := range f.cx {
		toks[r] = textTokens(text, d.Text.Tokens, d.Text.Lowercase)
	}
	vocab := textVocab(toks[:nTrain], d.Text.MinCount)
	T := d.Text.SequenceLength
	if !exp.Changed("data.text.sequence_length") {
		T = 1
		for _, t := range toks[:nTrain] {
			T = max(T, len(t))
		}
		T = min(T, maxAutoLength)
		rep.add("sequence length %d: the longest training text (at most %d; data.text.sequence_length sets it)", T, maxAutoLength)
	}
	meta.Input = []int{T}
	meta.Text = &TextMeta{Tokens: d.Text.Tokens, Lowercase: d.Text.Lowercase, SequenceLength: T, MinCount: d.Text.MinCount,
		Encoding: "index", Column: d.TextColumn, Vocab: vocab}
	x := make([]float32, f.rows()*T)
	index := vocabIndex(vocab)
	var cut, unknown [3]int
	bounds := []int{nTrain, nTrain + a.count(splitVal)}
	for r, t := range toks {
		s, _ := slices.BinarySearch(bounds, r+1) // rows are in split order now
		u, c := encodeTokens(x[r*T:(r+1)*T], t, index)
		unknown[s] += u
		if c {
			cut[s]++
		}
	}
	rep.add("vocabulary: %d tokens seen at least %d time(s) in the %d training texts, plus %s (id %d) and %s (id %d); unknown tokens: val %d, test %d",
		len(vocab)-2, d.Text.MinCount, nTrain, Padding, PadID, Unknown, UnknownID, unknown[splitVal], unknown[splitTest])
	rep.add("texts padded at the end to %d %s tokens; cut (longer): train %d, val %d, test %d", T, d.Text.Tokens, cut[splitTrain], cut[splitVal], cut[splitTest])
	var parts [3]*Split
	lo := 0
	for s, name := range splitNames {
		k := a.count(int8(s))
		parts[s] = &Split{Name: name, N: k, X: x[lo*T : (lo+k)*T : (lo+k)*T], Y: f.yv[lo*meta.TargetSize() : (lo+k)*meta.TargetSize()], Lines: f.lines[lo : lo+k : lo+k]}
		lo += k
	}
	return &Dataset{Meta: meta, Train: parts[0], Val: parts[1], Test: parts[2]}, nil
}

// textTokens cuts a text into characters, or into words: runs of letters,
// digits and marks, each other character that is not a space being a
// token of its own ("Well," is "well" and ",").
func textTokens(text, kind string, lower bool) []string {
	if lower {
		text = strings.ToLower(text)
	}
	var out []string
	if kind == "char" {
		for _, r := range text {
			out = append(out, string(r))
		}
		return out
	}
	start := -1
	word := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) }
	for i, r := range text {
		if start >= 0 && !word(r) {
			out = append(out, text[start:i])
			start = -1
		}
		switch {
		case word(r) && start < 0:
			start = i
		case !word(r) && !unicode.IsSpace(r):
			out = append(out, string(r))
		}
	}
	if start >= 0 {
		out = append(out, text[start:])
	}
	return out
}

// textVocab lists Padding, Unknown, then the tokens of the training texts
// seen at least minCount times, sorted.
func textVocab(texts [][]string, minCount int) []string {
	count := map[string]int{}
	for _, t := range texts {
		for _, tok := range t {
			count[tok]++
		}
	}
	vocab := make([]string, 0, len(count))
	for t, c := range count {
		if c >= minCount && t != Unknown && t != Padding {
			vocab = append(vocab, t)
		}
	}
	slices.Sort(vocab)
	return append([]string{Padding, Unknown}, vocab...)
}

func vocabIndex(vocab []string) map[string]int {
	index := make(map[string]int, len(vocab))
	for i, v := range vocab {
		index[v] = i
	}
	return index
}

// encodeTokens writes the ids of toks into row, cut to its length and
// padded with PadID; it returns the count of unknown tokens kept and
// whether the text was cut.
func encodeTokens(row []float32, toks []string, index map[string]int) (unknown int, cut bool) {
	for i := range row {
		row[i] = PadID
		if i >= len(toks) {
			continue
		}
		id, ok := index[toks[i]]
		if !ok || id == PadID {
			id = UnknownID
			unknown++
		}
		row[i] = float32(id)
	}
	return unknown, len(toks) > len(row)
}

// readTextInputs reads the texts to predict from a delimited file with
// the run's text column (by name with a header, else by the source's
// index), tokenized, encoded and padded as the run's training texts.
func readTextInputs(exp *config.Experiment, meta *Meta, path string, comma rune) (*Inputs, error) {
	index := vocabIndex(meta.Text.Vocab)
	file, err := os.Open(path)
	if err != nil {
		return nil, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	defer file.Close()
	br := bufio.NewReaderSize(file, 1<<16)
	if bom, _ := br.Peek(3); string(bom) == "\xef\xbb\xbf" {
		br.Discard(3)
	}
	if head, _ := br.Peek(sniffLen); len(head) > 0 {
		if err := checkText(path, head); err != nil {
			return nil, err
		}
	}
	r := csv.NewReader(br)
	r.Comma, r.FieldsPerRecord = comma, -1
	header := exp.Data.CSV.Header
	T := meta.Text.SequenceLength
	col := -1
	in := &Inputs{}
	var unknown, cut int
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
		if col < 0 {
			names := slices.Clone(rec)
			for i := range names {
				names[i] = strings.TrimSpace(names[i])
				if !header {
					names[i] = strconv.Itoa(i)
				}
			}
			i, ok := columnIndex(names, meta.Text.Column)
			if !ok {
				return nil, badf(path, line, 0, meta.Text.Column, "no text column %q; the run reads its texts from it (found %s)", meta.Text.Column, strings.Join(names, ", "))
			}
			col = i
			if header {
				continue
			}
		}
		if col >= len(rec) {
			return nil, badf(path, line, 0, meta.Text.Column, "row has %d fields, no text column %q", len(rec), meta.Text.Column)
		}
		row := make([]float32, T)
		u, c := encodeTokens(row, textTokens(strings.TrimSpace(rec[col]), meta.Text.Tokens, meta.Text.Lowercase), index)
		unknown += u
		if c {
			cut++
		}
		in.X = append(in.X, row...)
		in.Refs = append(in.Refs, "line "+strconv.Itoa(line))
		in.N++
	}
	if in.N == 0 {
		return nil, badf(path, 0, 0, "", "no texts to predict; expected %s", map[bool]string{true: "a header line naming the text column and rows", false: "rows"}[header])
	}
	in.Notes = append(in.Notes, fmt.Sprintf("%s: %d texts of %d %s tokens; %d tokens not in the training vocabulary read as %s; %d texts longer than %d tokens cut",
		path, in.N, T, meta.Text.Tokens, unknown, Unknown, cut, T))
	return in, nil
}
