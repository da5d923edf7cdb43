package data

import (
	"slices"
	"strconv"
	"strings"
	"testing"
)

const textConfig = `
name: t
data:
  source: text:corpus.txt
  task: language_model
  text: {tokens: char, sequence_length: 3, stride: 1, encoding: index}
  split: {train: 0.6, val: 0.2, test: 0.2}
`

// TestTextWindows: sequences of sequence_length tokens, the next token as
// target, never crossing the contiguous train/val/test blocks, and a
// vocabulary built on the training block only.
func TestTextWindows(t *testing.T) {
	corpus := "abcabcabcabcxyzxyzxy" // 20 chars: train 12 (abc...), val 4, test 4
	ds, rep := mustLoad(t, textConfig, map[string]string{"corpus.txt": corpus})
	if !slices.Equal(ds.Classes, []string{Unknown, "a", "b", "c"}) {
		t.Fatalf("vocabulary %v: must come from the training block only", ds.Classes)
	}
	if !slices.Equal(ds.Input, []int{3}) || len(ds.Target) != 0 {
		t.Fatalf("input %v target %v", ds.Input, ds.Target)
	}
	// train: 12 tokens -> 9 windows; val and test: 4 tokens -> 1 window.
	if ds.Train.N != 9 || ds.Val.N != 1 || ds.Test.N != 1 {
		t.Fatalf("windows %d/%d/%d", ds.Train.N, ds.Val.N, ds.Test.N)
	}
	if !slices.Equal(ds.Train.X[:3], []float32{1, 2, 3}) || ds.Train.Y[0] != 1 {
		t.Errorf("first window %v -> %v", ds.Train.X[:3], ds.Train.Y[0])
	}
	if !slices.Equal(ds.Val.X, []float32{0, 0, 0}) || ds.Val.Y[0] != 0 {
		t.Errorf("val window %v -> %v: unseen tokens must be <unk>", ds.Val.X, ds.Val.Y)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "unknown tokens: val 4, test 4") {
		t.Errorf("notes %q", rep.Notes)
	}
	// One-hot: [T, V].
	ds, _ = mustLoad(t, strings.Replace(textConfig, "encoding: index", "encoding: onehot", 1), map[string]string{"corpus.txt": corpus})
	if !slices.Equal(ds.Input, []int{3, 4}) || !slices.Equal(ds.Train.X[:12], []float32{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1}) {
		t.Errorf("onehot input %v X %v", ds.Input, ds.Train.X[:12])
	}
}

// TestTextWords: whitespace tokens, lines recorded, min_count, and
// whitespace written quoted in the vocabulary.
func TestTextWords(t *testing.T) {
	corpus := "the cat sat\non the mat\nthe cat ran\nthe end the end the end\n"
	cfg := strings.Replace(textConfig, "tokens: char, sequence_length: 3", "tokens: word, sequence_length: 2, min_count: 2", 1)
	cfg = strings.Replace(cfg, "{train: 0.6, val: 0.2, test: 0.2}", "{train: 1, val: 0, test: 0}", 1)
	ds, _ := mustLoad(t, cfg, map[string]string{"corpus.txt": corpus})
	if !slices.Equal(ds.Classes, []string{Unknown, "cat", "end", "the"}) {
		t.Errorf("vocabulary %v", ds.Classes)
	}
	if ds.Train.Lines[0] != 1 || ds.Train.Lines[len(ds.Train.Lines)-1] != 4 {
		t.Errorf("lines %v", ds.Train.Lines)
	}
	if got := TokenName("\n"); got != `"\n"` {
		t.Errorf("TokenName(newline) = %s", got)
	}
	if s, err := strconv.Unquote(TokenName(" ")); err != nil || s != " " {
		t.Errorf("TokenName(space) does not unquote: %q %v", s, err)
	}
}

// TestTextBadInput: a corpus shorter than one sequence, an empty corpus and
// invalid UTF-8 are refused clearly.
func TestTextBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"shorter than one sequence", "abcd", []string{"corpus.txt", "shorter than one sequence (sequence_length 3 + 1"}},
		{"val too short", "abcabcabcabcab", []string{"corpus.txt", "the val part of the corpus", "shorter than one sequence"}},
		{"empty", "", []string{"corpus.txt", "holds no tokens"}},
		{"invalid UTF-8", "good line\nbad \xff here\n", []string{"corpus.txt:2", "invalid UTF-8 at byte 14"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := load(t, textConfig, map[string]string{"corpus.txt": tc.text})
			wantBadData(t, err, tc.want...)
		})
	}
	_, _, err := load(t, strings.Replace(textConfig, "task: language_model", "task: classification", 1), nil)
	wantBadData(t, err, "data.task", "a text source feeds language_model")
	_, _, err = load(t, textConfig+"  preprocess: {scale: minmax}\n", nil)
	wantBadData(t, err, "data.preprocess.scale", "does not apply to tokens")
	_, _, err = load(t, strings.Replace(textConfig, "split: {", "split: {method: random, ", 1), nil)
	wantBadData(t, err, "data.split.method", "would put the future into training")
}

// TestTextTargetsAll: with text.targets: all the windows are those of
// targets: last, and each position's target is the token after it (the
// window shifted by one, its last target the token targets: last has);
// targets: last describes its data as before the key existed.
func TestTextTargetsAll(t *testing.T) {
	corpus := "abcabcabcabcxyzxyzxy"
	for _, enc := range []string{"index", "onehot"} {
		t.Run(enc, func(t *testing.T) {
			cfg := strings.Replace(textConfig, "encoding: index", "encoding: "+enc, 1)
			last, _ := mustLoad(t, cfg, map[string]string{"corpus.txt": corpus})
			all, rep := mustLoad(t, strings.Replace(cfg, "encoding: "+enc, "encoding: "+enc+", targets: all", 1), map[string]string{"corpus.txt": corpus})
			if !slices.Equal(all.Target, []int{3}) || !all.Text.AllPositions() || last.Text.AllPositions() || last.Text.Targets != "" {
				t.Fatalf("target shape %v, text %+v; targets: last text %+v", all.Target, all.Text, last.Text)
			}
			if !slices.Equal(all.ModelOutput(), []int{3, 4}) || !slices.Equal(last.ModelOutput(), []int{4}) {
				t.Errorf("model outputs %v and %v", all.ModelOutput(), last.ModelOutput())
			}
			for p, s := range all.Splits() {
				l := last.Splits()[p]
				if s.N != l.N || !slices.Equal(s.X, l.X) || !slices.Equal(s.Lines, l.Lines) || len(s.Y) != 3*s.N {
					t.Fatalf("%s: %d windows with %d targets, targets: last has %d windows", s.Name, s.N, len(s.Y), l.N)
				}
				for i := range s.N {
					if s.Y[3*i+2] != l.Y[i] {
						t.Errorf("%s window %d: last target %v, targets: last says %v", s.Name, i, s.Y[3*i+2], l.Y[i])
					}
				}
			}
			// train "abcabc...": window i starts at token i; its targets are tokens i+1..i+3.
			if !slices.Equal(all.Train.Y[:6], []float32{2, 3, 1, 3, 1, 2}) {
				t.Errorf("train targets %v", all.Train.Y[:6])
			}
			if !strings.Contains(strings.Join(rep.Notes, "\n"), "every position's target is the token after it") {
				t.Errorf("notes %q", rep.Notes)
			}
		})
	}
}

// TestTokenizeAndTokenText: a prompt is cut as the corpus was (lower-cased
// when it was), and vocabulary names read back as their tokens.
func TestTokenizeAndTokenText(t *testing.T) {
	m := &TextMeta{Tokens: "char", Lowercase: true}
	if got := m.Tokenize("Ab\r\n c"); !slices.Equal(got, []string{"a", "b", "\n", " ", "c"}) {
		t.Errorf("char tokens %q", got)
	}
	m = &TextMeta{Tokens: "word"}
	if got := m.Tokenize(" The cat\tsat "); !slices.Equal(got, []string{"The", "cat", "sat"}) {
		t.Errorf("word tokens %q", got)
	}
	for _, tok := range []string{"a", " ", "\n", "\t", `"`, `"so"`, Unknown, "é"} {
		if back := TokenText(TokenName(tok)); back != tok {
			t.Errorf("TokenText(TokenName(%q)) = %q", tok, back)
		}
	}
}
