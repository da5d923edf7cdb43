package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSeq2SeqBadInputExits2: the four mistakes of issue 13's acceptance
// for seq2seq (a missing column, an empty target, heads that do not
// divide dim, a sequence longer than a learned position table) each exit
// 2 before training, naming the key and the file and line, with no stack
// trace and no run left behind.
func TestSeq2SeqBadInputExits2(t *testing.T) {
	const good = "date\tiso\n1 may 2001\t2001-05-01\nthe first of may 2001\t2001-05-01\n3 may 2001\t2001-05-03\n"
	const cfg = `name: s2s
data:
  source: tsv:pairs.tsv
  task: seq2seq
  source_column: date
  target_column: iso
  text: {tokens: char}
model:
  kind: seq2seq
  dim: 16
  heads: 2
train: {epochs: 1}
`
	for _, tc := range []struct {
		name, pairs, from, to string
		want                  []string
	}{
		{"missing column", good, "source_column: date", "source_column: when",
			[]string{"pairs.tsv:1", `data.source_column: no column "when"; the header has "date", "iso"`}},
		{"empty target", strings.Replace(good, "\t2001-05-03", "\t", 1), "", "",
			[]string{"pairs.tsv:4:2", `data.target_column: empty target text in column "iso"`}},
		{"heads", good, "heads: 2", "heads: 3",
			[]string{"s2s.yaml:11:", "model.heads: 3 heads do not divide model.dim 16"}},
		{"learned table", good, "heads: 2", "heads: 2\n  positional: learned\n  max_length: 12",
			[]string{"model.max_length: the learned position table holds 12 positions, but the longest source (", "pairs.tsv:3) has 21 tokens"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, dir, "pairs.tsv", tc.pairs)
			text := strings.Replace(cfg, tc.from, tc.to, 1)
			out := filepath.Join(dir, "runs")
			code, _, stderr := runCLI(t, "train", "--config", writeFile(t, dir, "s2s.yaml", text), "--out", out)
			if code != 2 {
				t.Fatalf("exit %d, want 2\n%s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not hold %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "epoch 1") {
				t.Errorf("stderr:\n%s", stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a run directory was created (%v)", err)
			}
		})
	}
}
