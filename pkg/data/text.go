package data

import (
	"bytes"
	"os"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dltrain/dltrain/pkg/config"
)

// Unknown is the vocabulary entry (index 0) that every token not in the
// training vocabulary maps to.
const Unknown = "<unk>"

// TextMeta records how a corpus became sequences. The vocabulary is the
// dataset's Classes: index 0 is Unknown, then the training tokens in
// sorted order, each written as TokenName does.
type TextMeta struct {
	Tokens         string `json:"tokens"` // char or word
	Lowercase      bool   `json:"lowercase"`
	SequenceLength int    `json:"sequence_length"`
	Stride         int    `json:"stride"`
	MinCount       int    `json:"min_count"`
	Encoding       string `json:"encoding"` // onehot or index
	// Column is the table column texts are read from (data.text_column),
	// "" for a corpus; its samples are padded ids and its vocabulary is
	// Vocab (the tokens as they are, id = index), not Classes
	// (text_table.go).
	Column string   `json:"column,omitempty"`
	Vocab  []string `json:"vocab,omitempty"`
}

// maxTextValues bounds the size of a one-hot encoded corpus.
const maxTextValues = 1 << 30

// textSource reads a plain-text corpus (text:PATH) for language modelling.
var textSource = sourceKind{
	tasks:   []string{"language_model"},
	options: []string{"text.tokens", "text.lowercase", "text.sequence_length", "text.stride", "text.min_count", "text.encoding"},
	digest:  func(ref string, _ config.Data) ([]SourceFile, error) { return fileDigests([]string{ref}) },
	load:    loadText,
	check: func(e *config.Experiment, _ string) config.Problems {
		ps := orderedCheck(e)
		for _, k := range []string{"data.clean.missing", "data.clean.fill", "data.clean.duplicates", "data.clean.constant", "data.preprocess.per_channel", "data.shape"} {
			if e.Changed(k) {
				ps = append(ps, e.Problem(k, "does not apply to a text corpus"))
			}
		}
		if e.Changed("data.preprocess.scale") && e.Data.Preprocess.Scale != "none" {
			ps = append(ps, e.Problem("data.preprocess.scale", "does not apply to tokens (one-hot vectors or token ids); remove it"))
		}
		return ps
	},
}

// token is one token of a corpus and the line it starts on.
type token struct {
	text string
	line int
}

// tokenize cuts text into characters or whitespace-separated words.
func tokenize(text string, kind string) []token {
	var out []token
	line := 1
	if kind == "char" {
		for _, r := range text {
			out = append(out, token{string(r), line})
			if r == '\n' {
				line++
			}
		}
		return out
	}
	start := -1
	for i, r := range text {
		space := unicode.IsSpace(r)
		if !space && start < 0 {
			start = i
		}
		if space && start >= 0 {
			out = append(out, token{text[start:i], line})
			start = -1
		}
		if r == '\n' {
			line++
		}
	}
	if start >= 0 {
		out = append(out, token{text[start:], line})
	}
	return out
}

// loadText reads a corpus, splits its tokens into contiguous train, val and
// test blocks (in that order, so that no later text is trained on),
// builds the vocabulary on the training block, and cuts each block into
// sequences of sequence_length tokens whose target is the next token.
func loadText(exp *config.Experiment, path string, rep *Report) (*Dataset, error) {
	d := exp.Data
	opt := d.Text
	toks, err := readCorpus(path, opt)
	if err != nil {
		return nil, err
	}
	n := len(toks)
	nTest, nVal := counts(n, d.Split)
	bounds := [3]int{n - nTest - nVal, n - nTest, n}
	rep.add("read %d %s tokens on %d lines from %s", n, opt.Tokens, toks[n-1].line, d.Source)
	vocab := buildVocab(toks[:bounds[0]], opt.MinCount)
	index := make(map[string]int, len(vocab))
	for i, v := range vocab {
		index[v] = i
	}
	ids := make([]int, n)
	unknown := [3]int{}
	for i, t := range toks {
		ids[i] = index[t.text] // 0, Unknown, when absent
		if ids[i] == 0 {
			unknown[blockOf(i, bounds)]++
		}
	}
	T, V := opt.SequenceLength, len(vocab)
	meta := Meta{Task: d.Task, Source: d.Source, Split: "time", Target: []int{}, Classes: vocabNames(vocab), Targets: []string{"next token"},
		Text: &TextMeta{Tokens: opt.Tokens, Lowercase: opt.Lowercase, SequenceLength: T, Stride: opt.Stride, MinCount: opt.MinCount, Encoding: opt.Encoding}}
	meta.Input = []int{T}
	if opt.Encoding == "onehot" {
		meta.Input = []int{T, V}
	}
	width := prod(meta.Input)
	windows := 0
	for p := range bounds {
		lo := 0
		if p > 0 {
			lo = bounds[p-1]
		}
		if k := bounds[p] - lo - T; k > 0 {
			windows += (k + opt.Stride - 1) / opt.Stride
		}
	}
	if int64(windows)*int64(width) > maxTextValues {
		return nil, badFile(path, "%d sequences of %d values (%d tokens × vocabulary %d) need more than %d values; use data.text.encoding: index or a larger data.text.stride",
			windows, width, T, V, maxTextValues)
	}
	ds := &Dataset{Meta: meta}
	for p, name := range splitNames {
		lo := 0
		if p > 0 {
			lo = bounds[p-1]
		}
		sp := &Split{Name: name}
		for s := lo; s+T < bounds[p]; s += opt.Stride {
			row := make([]float32, width)
			for i, id := range ids[s : s+T] {
				if opt.Encoding == "onehot" {
					row[i*V+id] = 1
				} else {
					row[i] = float32(id)
				}
			}
			sp.X = append(sp.X, row...)
			sp.Y = append(sp.Y, float32(ids[s+T]))
			sp.Lines = append(sp.Lines, toks[s+T].line)
			sp.N++
		}
		switch p {
		case 0:
			ds.Train = sp
		case 1:
			ds.Val = sp
		default:
			ds.Test = sp
		}
	}
	if ds.Train.N == 0 {
		return nil, badFile(path, "the corpus has %d tokens; its training part (%d tokens) is shorter than one sequence (sequence_length %d + 1 target token); lower data.text.sequence_length or add text",
			n, bounds[0], T)
	}
	for p, frac := range []float64{d.Split.Val, d.Split.Test} {
		if frac > 0 && ds.Splits()[p+1].N == 0 {
			return nil, badFile(path, "the %s part of the corpus (%d tokens) is shorter than one sequence (sequence_length %d + 1); add text, lower data.text.sequence_length or set data.split.%s: 0",
				splitNames[p+1], bounds[p+1]-bounds[p], T, splitNames[p+1])
		}
	}
	rep.add("split the tokens in text order: train tokens 1–%d (lines %d–%d), val %d tokens, test %d tokens; no sequence crosses a boundary",
		bounds[0], toks[0].line, toks[bounds[0]-1].line, nVal, nTest)
	rep.add("vocabulary: %d tokens seen at least %d time(s) in the training part, plus %s; unknown tokens: val %d, test %d",
		V-1, opt.MinCount, Unknown, unknown[1], unknown[2])
	rep.add("sequences of %d tokens, stride %d, %s encoded: train %d, val %d, test %d; the target is the next token",
		T, opt.Stride, opt.Encoding, ds.Train.N, ds.Val.N, ds.Test.N)
	return ds, nil
}

// TokenName is how a token is written in the vocabulary (the dataset's
// class names): as itself when it is printable without spaces, otherwise
// Go-quoted (" " and "\n" for a space and a line end), which no token of
// either tokenizer can be mistaken for. strconv.Unquote gives the token
// back.
func TokenName(t string) string {
	for _, r := range t {
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) {
			return strconv.QuoteToGraphic(t)
		}
	}
	return t
}

// readCorpus reads a UTF-8 corpus (a byte order mark and CRLF line ends
// accepted) and cuts it into tokens.
func readCorpus(path string, opt config.Text) ([]token, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, badFile(path, "cannot read: %v", unwrapPath(err))
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(raw) {
		at := 0
		for at < len(raw) {
			r, size := utf8.DecodeRune(raw[at:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			at += size
		}
		return nil, badf(path, bytes.Count(raw[:at], []byte("\n"))+1, 0, "", "invalid UTF-8 at byte %d; expected UTF-8 text", at)
	}
	text := strings.ReplaceAll(string(raw), "\r\n", "\n")
	if opt.Lowercase {
		text = strings.ToLower(text)
	}
	toks := tokenize(text, opt.Tokens)
	if len(toks) == 0 {
		return nil, badFile(path, "the file holds no tokens; expected text")
	}
	return toks, nil
}

func blockOf(i int, bounds [3]int) int {
	for p, b := range bounds {
		if i < b {
			return p
		}
	}
	return 2
}

// buildVocab lists Unknown, then the tokens seen at least minCount times,
// sorted.
func buildVocab(toks []token, minCount int) []string {
	count := map[string]int{}
	for _, t := range toks {
		count[t.text]++
	}
	vocab := make([]string, 0, len(count))
	for t, c := range count {
		if c >= minCount && t != Unknown {
			vocab = append(vocab, t)
		}
	}
	slices.Sort(vocab)
	return append([]string{Unknown}, vocab...)
}

// vocabNames writes the tokens of a vocabulary as TokenName does.
func vocabNames(vocab []string) []string {
	out := make([]string, len(vocab))
	for i, t := range vocab {
		out[i] = TokenName(t)
	}
	return out
}
