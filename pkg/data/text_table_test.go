package data

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// textTableCSV has each row's split fixed (data.split.method: column), so
// that the vocabulary's training rows are known.
const textTableCSV = `label,text,part
pos,"Good film, good!",train
neg,Bad film.,train
pos,NA,train
neg,"A good, long, good, long film",train
pos,Good zebra!,val
neg,unseen words here,test
`

func textTableConfig(extra string) string {
	return "name: t\ndata: {source: csv:t.csv, label: label, text_column: text, split: {method: column, column: part}" + extra + "}\n"
}

// TestTextColumnDataset: word tokens (punctuation its own token,
// lowercased), the vocabulary built on the training rows alone (<pad> 0,
// <unk> 1, then sorted), ids padded at the end to the longest training
// text, unseen tokens read as <unk>, and a text "NA" read as text.
func TestTextColumnDataset(t *testing.T) {
	ds, rep := mustLoad(t, textTableConfig(", text: {tokens: word, lowercase: true}"), map[string]string{"t.csv": textTableCSV})
	wantVocab := []string{"<pad>", "<unk>", "!", ",", ".", "a", "bad", "film", "good", "long", "na"}
	if !slices.Equal(ds.Text.Vocab, wantVocab) {
		t.Fatalf("vocabulary %q, want %q", ds.Text.Vocab, wantVocab)
	}
	if !ds.Padded() || ds.Text.Column != "text" || ds.Text.SequenceLength != 9 || !slices.Equal(ds.Input, []int{9}) {
		t.Fatalf("text %+v, input %v; want column text, 9 ids (the longest training text)", ds.Text, ds.Input)
	}
	if !slices.Equal(ds.Classes, []string{"neg", "pos"}) {
		t.Fatalf("classes %v", ds.Classes)
	}
	id := func(tok string) float32 { return float32(slices.Index(wantVocab, tok)) }
	// The training rows keep the file's order: "Good film, good!" is first.
	want := []float32{id("good"), id("film"), id(","), id("good"), id("!"), 0, 0, 0, 0}
	if got := ds.Train.X[:9]; !slices.Equal(got, want) {
		t.Errorf("first training text %v, want %v", got, want)
	}
	if got, want := ds.Train.X[18:19], []float32{id("na")}; !slices.Equal(got, want) {
		t.Errorf("the text NA is %v, want %v", got, want)
	}
	if got, want := ds.Val.X[:4], []float32{id("good"), UnknownID, id("!"), PadID}; !slices.Equal(got, want) {
		t.Errorf("val text %v, want %v (zebra unseen in training)", got, want)
	}
	if got, want := ds.Test.X[:4], []float32{UnknownID, UnknownID, UnknownID, PadID}; !slices.Equal(got, want) {
		t.Errorf("test text %v, want %v", got, want)
	}
	if s := strings.Join(rep.Notes, "\n"); !strings.Contains(s, "unknown tokens: val 1, test 3") || !strings.Contains(s, "sequence length 9: the longest training text") {
		t.Errorf("report does not say the unknown tokens and the length:\n%s", s)
	}
}

// TestTextColumnLengthAndChars: a set sequence_length cuts longer texts
// (the report counts them); char tokens keep case without lowercase; a
// regression label reads numbers.
func TestTextColumnLengthAndChars(t *testing.T) {
	csv := "y,text,part\n1.5,abcab,train\n-2,AB,train\n0,cab,test\n"
	ds, rep := mustLoad(t, "name: t\ndata: {source: csv:t.csv, task: regression, label: y, text_column: text, text: {tokens: char, sequence_length: 3}, split: {method: column, column: part}}\n",
		map[string]string{"t.csv": csv})
	if !slices.Equal(ds.Text.Vocab, []string{"<pad>", "<unk>", "A", "B", "a", "b", "c"}) {
		t.Fatalf("vocabulary %q", ds.Text.Vocab)
	}
	if !slices.Equal(ds.Train.X, []float32{4, 5, 6, 2, 3, 0}) || !slices.Equal(ds.Train.Y, []float32{1.5, -2}) {
		t.Fatalf("train x %v y %v", ds.Train.X, ds.Train.Y)
	}
	if s := strings.Join(rep.Notes, "\n"); !strings.Contains(s, "cut (longer): train 1, val 0, test 0") {
		t.Errorf("report does not count the cut text:\n%s", s)
	}
}

// TestTextColumnBadInput: a missing text column, an empty text, and keys
// that do not go with a text column are errors naming the file, line or
// key; a dropped empty text is reported.
func TestTextColumnBadInput(t *testing.T) {
	files := map[string]string{"t.csv": "label,text,part\npos,good,train\nneg,,train\npos,bad,test\n"}
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"no such column", "name: t\ndata: {source: csv:t.csv, label: label, text_column: body}\n",
			[]string{"t.csv", `text (data.text_column) column "body" does not exist; the columns are: label, text, part`}},
		{"empty text", textTableConfig(""), []string{"t.csv:3:", `missing or non-finite value ""`}},
		{"text keys without a text column", "name: t\ndata: {source: csv:t.csv, label: label, text: {tokens: word}}\n",
			[]string{"data.text.tokens: applies to a table only with data.text_column"}},
		{"filled", textTableConfig(", clean: {missing: median}"), []string{"data.clean.missing: a text column's empty cells can be dropped or stop the run"}},
		{"features", textTableConfig(", features: [text]"), []string{"data.features: does not apply to a text column"}},
		{"task", "name: t\ndata: {source: csv:t.csv, task: reconstruction, text_column: text}\n", []string{"data.task: a text column feeds classification or regression, not reconstruction"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := load(t, c.yaml, files)
			wantBadData(t, err, c.want...)
		})
	}
	ds, rep := mustLoad(t, textTableConfig(", clean: {missing: drop}"), files)
	if ds.Train.N != 1 || !strings.Contains(strings.Join(rep.Notes, "\n"), "dropped 1 row") {
		t.Errorf("train %d rows, report %q; want the empty text dropped and said", ds.Train.N, rep.Notes)
	}
}

// TestTextColumnPredictInputs: predict reads the run's text column by
// name, in any column order, tokenized and padded as in training, with a
// note counting unknown tokens; a file without the column is an error
// naming it.
func TestTextColumnPredictInputs(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"t.csv": textTableCSV,
		"new.csv": "id,text\n7,Good film!\n8,zebra crossing good good good good good good good good good\n",
		"bad.csv": "id,body\n1,good\n"})
	exp, err := experiment(t, dir, textTableConfig(", text: {tokens: word, lowercase: true}"))
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := Load(exp)
	if err != nil {
		t.Fatal(err)
	}
	in, err := ReadInputs(exp, &ds.Meta, filepath.Join(dir, "new.csv"))
	if err != nil {
		t.Fatal(err)
	}
	good, film := float32(slices.Index(ds.Text.Vocab, "good")), float32(slices.Index(ds.Text.Vocab, "film"))
	if in.N != 2 || !slices.Equal(in.X[:4], []float32{good, film, 2, PadID}) || !slices.Equal(in.Refs, []string{"line 2", "line 3"}) {
		t.Fatalf("inputs %d %v %v", in.N, in.X, in.Refs)
	}
	if len(in.Notes) != 1 || !strings.Contains(in.Notes[0], "2 tokens not in the training vocabulary read as <unk>; 1 texts longer than 9 tokens cut") {
		t.Errorf("notes %q", in.Notes)
	}
	_, err = ReadInputs(exp, &ds.Meta, filepath.Join(dir, "bad.csv"))
	wantBadData(t, err, "bad.csv:1", `no text column "text"`)
}
