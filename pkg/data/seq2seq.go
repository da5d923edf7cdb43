package data

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dltrain/dltrain/pkg/config"
)

// The special tokens of a seq2seq vocabulary besides PadID (which the
// loss ignores) and UnknownID, at the same ids in the source's and the
// target's: beginning and end of sequence.
const (
	BOSID = 2
	EOSID = 3
)

// Seq2SeqTask is the data task of a source → target sequence pair.
const Seq2SeqTask = "seq2seq"

// seq2seqSpecials are the special tokens, by id.
var seq2seqSpecials = []string{"<pad>", Unknown, "<s>", "</s>"}

// Seq2SeqMeta records how a table of text pairs became id sequences. A
// sample's input is its source ids, padded with PadID to SourceLength,
// followed by its target input (BOSID, then the target's ids, padded to
// TargetLength); its target is the target's ids, EOSID, then PadID up to
// TargetLength: the target input shifted by one (teacher forcing).
type Seq2SeqMeta struct {
	Tokens       string `json:"tokens"` // char or word
	Lowercase    bool   `json:"lowercase"`
	MinCount     int    `json:"min_count"`
	SourceColumn string `json:"source_column"`
	TargetColumn string `json:"target_column"`
	// SourceVocab and TargetVocab are the tokens by id: the four specials,
	// then the training split's tokens seen at least MinCount times, sorted.
	SourceVocab []string `json:"source_vocab"`
	TargetVocab []string `json:"target_vocab"`
	// SourceLength is the most source tokens of any pair; TargetLength the
	// most target tokens plus one (the BOS of the input, the EOS of the
	// target).
	SourceLength int `json:"source_length"`
	TargetLength int `json:"target_length"`
	// LongestSource and LongestTarget say where the longest ones are
	// (FILE:LINE), for messages about lengths.
	LongestSource string `json:"longest_source"`
	LongestTarget string `json:"longest_target"`
}

// Tokenize cuts one text into tokens as the training data was.
func (m *Seq2SeqMeta) Tokenize(text string) []string {
	if m.Lowercase {
		text = strings.ToLower(text)
	}
	toks := tokenize(text, m.Tokens)
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = t.text
	}
	return out
}

// EncodeSource writes the source ids of text into dst (SourceLength
// values, padded), unknown tokens as UnknownID. A text of more tokens than
// SourceLength is an error saying both counts.
func (m *Seq2SeqMeta) EncodeSource(dst []float32, text string) error {
	toks := m.Tokenize(text)
	if len(toks) > m.SourceLength {
		return fmt.Errorf("the source has %d tokens; the model takes at most %d (its training data's longest source, %s)", len(toks), m.SourceLength, m.LongestSource)
	}
	index := seq2seqIndex(m.SourceVocab)
	clear(dst[:m.SourceLength])
	for i, t := range toks {
		dst[i] = float32(lookup(index, t))
	}
	return nil
}

// Detokenize writes target ids back as text, up to the first EOSID, PadID
// or BOSID: characters joined as they are, words with a space.
func (m *Seq2SeqMeta) Detokenize(ids []int) string {
	var parts []string
	for _, id := range ids {
		if id == EOSID || id == PadID || id == BOSID {
			break
		}
		if id >= 0 && id < len(m.TargetVocab) {
			parts = append(parts, m.TargetVocab[id])
		}
	}
	sep := " "
	if m.Tokens == "char" {
		sep = ""
	}
	return strings.Join(parts, sep)
}

// TargetIDs encodes a reference target as ids (no BOS, no EOS), unknown
// tokens as UnknownID: what BLEU and exact match compare decodings with.
func (m *Seq2SeqMeta) TargetIDs(text string) []int {
	index := seq2seqIndex(m.TargetVocab)
	toks := m.Tokenize(text)
	out := make([]int, len(toks))
	for i, t := range toks {
		out[i] = lookup(index, t)
	}
	return out
}

// seq2seqIndex maps the tokens of a seq2seq vocabulary, specials left
// out, to their ids.
func seq2seqIndex(vocab []string) map[string]int {
	index := make(map[string]int, len(vocab))
	for i, v := range vocab {
		if i >= len(seq2seqSpecials) {
			index[v] = i
		}
	}
	return index
}

func lookup(index map[string]int, t string) int {
	if id, ok := index[t]; ok {
		return id
	}
	return UnknownID
}

// pair is one row of a seq2seq table.
type pair struct {
	source, target []string
	line           int
}

// seq2seqOptions are the data keys a csv or tsv source takes for a
// seq2seq task.
var seq2seqOptions = []string{"source_column", "target_column", "text.tokens", "text.lowercase", "text.min_count"}

// seq2seqCheck reports the problems of a seq2seq table visible before
// reading it: both columns named, and no key of a table of features.
func seq2seqCheck(e *config.Experiment) config.Problems {
	var ps config.Problems
	d := e.Data
	for _, k := range []struct{ key, val string }{{"data.source_column", d.SourceColumn}, {"data.target_column", d.TargetColumn}} {
		if k.val == "" {
			ps = append(ps, e.Problem(k.key, "is required for a seq2seq task: the column holding the %s text", strings.TrimSuffix(strings.TrimPrefix(k.key, "data."), "_column")))
		}
	}
	for _, k := range []string{"data.label", "data.targets", "data.features", "data.categorical", "data.classes", "data.shape", "data.preprocess.encoding",
		"data.text.sequence_length", "data.text.stride", "data.text.encoding", "data.clean.missing", "data.clean.duplicates", "data.clean.constant"} {
		if e.Changed(k) {
			ps = append(ps, e.Problem(k, "does not apply to a seq2seq task (source and target text columns)"))
		}
	}
	if e.Changed("data.preprocess.scale") && d.Preprocess.Scale != "none" {
		ps = append(ps, e.Problem("data.preprocess.scale", "does not apply to token ids; remove it"))
	}
	if s := d.Split; (s.Method != "auto" && s.Method != "random") || s.Folds != 0 {
		ps = append(ps, e.Problem("data.split.method", "a seq2seq task splits its pairs at random (method: random or auto, no folds), got method %s", s.Method))
	}
	return ps
}

// tableOnly refuses the seq2seq keys for a table of another task.
func tableOnly(e *config.Experiment) config.Problems {
	var ps config.Problems
	for _, k := range []string{"source_column", "target_column"} { // text.* also apply to a text column
		if e.Changed("data." + k) {
			ps = append(ps, e.Problem("data."+k, "applies to data.task: seq2seq only; this task is %s", e.Data.Task))
		}
	}
	return ps
}

// loadSeq2Seq reads a table of source and target texts, splits its pairs
// at random, builds the source and target vocabularies on the training
// split and encodes every pair as ids (see Seq2SeqMeta).
func loadSeq2Seq(exp *config.Experiment, path string, comma rune, rep *Report) (*Dataset, error) {
	d := exp.Data
	pairs, err := readPairs(path, comma, d)
	if err != nil {
		return nil, err
	}
	n := len(pairs)
	a := assignment{of: make([]int8, n)}
	rows := make([]int, n)
	for i := range rows {
		rows[i] = i
	}
	cut(rows, d.Split, RNG(exp.Seed, StreamSplit), a)
	train := a.rows(splitTrain)
	m := &Seq2SeqMeta{Tokens: d.Text.Tokens, Lowercase: d.Text.Lowercase, MinCount: d.Text.MinCount,
		SourceColumn: d.SourceColumn, TargetColumn: d.TargetColumn}
	m.SourceVocab = pairVocab(pairs, train, func(p pair) []string { return p.source }, d.Text.MinCount)
	m.TargetVocab = pairVocab(pairs, train, func(p pair) []string { return p.target }, d.Text.MinCount)
	for _, p := range pairs {
		if len(p.source) > m.SourceLength {
			m.SourceLength, m.LongestSource = len(p.source), fmt.Sprintf("%s:%d", path, p.line)
		}
		if len(p.target)+1 > m.TargetLength {
			m.TargetLength, m.LongestTarget = len(p.target)+1, fmt.Sprintf("%s:%d", path, p.line)
		}
	}
	S, T := m.SourceLength, m.TargetLength
	meta := Meta{Task: Seq2SeqTask, Source: d.Source, Split: "random", Input: []int{S + T}, Target: []int{T},
		Classes: vocabNames(m.TargetVocab), Features: []string{d.SourceColumn}, Targets: []string{d.TargetColumn}, Seq2Seq: m}
	ds := &Dataset{Meta: meta}
	srcIndex, tgtIndex := seq2seqIndex(m.SourceVocab), seq2seqIndex(m.TargetVocab)
	var unknown [3]int
	for s, name := range splitNames {
		sp := &Split{Name: name}
		for _, r := range a.rows(int8(s)) {
			p := pairs[r]
			x := make([]float32, S+T)
			y := make([]float32, T)
			for i, t := range p.source {
				x[i] = float32(lookup(srcIndex, t))
				if x[i] == UnknownID {
					unknown[s]++
				}
			}
			x[S] = BOSID
			for i, t := range p.target {
				id := float32(lookup(tgtIndex, t))
				x[S+1+i], y[i] = id, id
			}
			y[len(p.target)] = EOSID
			sp.X = append(sp.X, x...)
			sp.Y = append(sp.Y, y...)
			sp.Lines = append(sp.Lines, p.line)
			sp.N++
		}
		switch s {
		case 0:
			ds.Train = sp
		case 1:
			ds.Val = sp
		default:
			ds.Test = sp
		}
	}
	if ds.Train.N == 0 {
		return nil, badFile(path, "%d pairs leave none for training; add pairs or lower data.split.val and data.split.test", n)
	}
	rep.add("read %d %s pairs (source %q, target %q) from %s: train %d, val %d, test %d, split at random",
		n, d.Text.Tokens, d.SourceColumn, d.TargetColumn, d.Source, ds.Train.N, ds.Val.N, ds.Test.N)
	rep.add("vocabularies on the training split: source %d tokens, target %d tokens (each with <pad>, <unk>, <s>, </s>); unknown source tokens: val %d, test %d",
		len(m.SourceVocab), len(m.TargetVocab), unknown[1], unknown[2])
	rep.add("sequences padded to %d source tokens (the longest, %s) and %d target tokens (the longest, %s, and </s>)",
		S, m.LongestSource, T, m.LongestTarget)
	return ds, nil
}

// readPairs reads the source and target columns of every row of a csv
// or tsv file, tokenized. A missing column, a short row, an empty source
// or target, or a file without rows is an error naming the file, the
// line and the key.
func readPairs(path string, comma rune, d config.Data) ([]pair, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(raw) {
		return nil, badFile(path, "is not valid UTF-8; expected UTF-8 text")
	}
	if c, ok := d.CSV.Comma(comma); ok {
		comma = c
	}
	r := csv.NewReader(bytes.NewReader(raw))
	r.Comma, r.FieldsPerRecord, r.LazyQuotes = comma, -1, comma == '\t'
	cols := [2]int{-1, -1}
	keys := [2]string{"data.source_column", "data.target_column"}
	names := [2]string{d.SourceColumn, d.TargetColumn}
	var pairs []pair
	first := true
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, badf(path, pe.Line, pe.Column, "", "%v", pe.Err)
			}
			return nil, badFile(path, "cannot read: %v", err)
		}
		line, _ := r.FieldPos(0)
		if first {
			first = false
			for k := range cols {
				if cols[k], err = findColumn(rec, names[k], d.CSV.Header); err != nil {
					return nil, badf(path, line, 0, names[k], "%s: %v", keys[k], err)
				}
			}
			if d.CSV.Header {
				continue
			}
		}
		p := pair{line: line}
		for k, c := range cols {
			if c >= len(rec) {
				return nil, badf(path, line, 0, names[k], "%s: the row has %d fields; the column %q is field %d", keys[k], len(rec), names[k], c+1)
			}
			text := strings.TrimRight(rec[c], "\r")
			toks := (&Seq2SeqMeta{Tokens: d.Text.Tokens, Lowercase: d.Text.Lowercase}).Tokenize(text)
			if len(toks) == 0 {
				what := [2]string{"source", "target"}[k]
				return nil, badf(path, line, c+1, names[k], "%s: empty %s text in column %q; expected at least one token", keys[k], what, names[k])
			}
			if k == 0 {
				p.source = toks
			} else {
				p.target = toks
			}
		}
		pairs = append(pairs, p)
	}
	if len(pairs) == 0 {
		return nil, badFile(path, "holds no pairs; expected a header line and one row per pair")
	}
	return pairs, nil
}

// findColumn finds a column by name in a header, or by 0-based index
// without one.
func findColumn(header []string, name string, byName bool) (int, error) {
	if byName {
		for i, h := range header {
			if strings.TrimSpace(h) == name {
				return i, nil
			}
		}
		return 0, fmt.Errorf("no column %q; the header has %s", name, strings.Join(quoteAll(header), ", "))
	}
	i, err := strconv.Atoi(name)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("without a header (data.csv.header: false) a column is a 0-based index, got %q", name)
	}
	return i, nil
}

// pairVocab lists the specials, then the tokens of one side of the rows
// seen at least minCount times, sorted.
func pairVocab(pairs []pair, rows []int, side func(pair) []string, minCount int) []string {
	count := map[string]int{}
	for _, r := range rows {
		for _, t := range side(pairs[r]) {
			count[t]++
		}
	}
	var vocab []string
	for t, c := range count {
		if c >= minCount && !slices.Contains(seq2seqSpecials, t) {
			vocab = append(vocab, t)
		}
	}
	slices.Sort(vocab)
	return append(slices.Clone(seq2seqSpecials), vocab...)
}
