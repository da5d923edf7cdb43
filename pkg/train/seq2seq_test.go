package train

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/models"
)

// sequencesOf is what a seq2seq model is built for (as the run package
// builds it); nil for other data.
func sequencesOf(meta data.Meta) *models.Sequences {
	m := meta.Seq2Seq
	if m == nil {
		return nil
	}
	return &models.Sequences{SourceLength: m.SourceLength, TargetLength: m.TargetLength,
		SourceVocab: len(m.SourceVocab), TargetVocab: len(m.TargetVocab),
		LongestSource: m.LongestSource, LongestTarget: m.LongestTarget}
}

// TestSeq2SeqStepDoesNotAllocate: a training step of the encoder-decoder
// (padded sources masking the encoder's keys and the decoder's memory,
// causal decoder self-attention, dropout everywhere, the loss ignoring
// padding) allocates nothing once warm, for the full batches and the
// partial last one.
func TestSeq2SeqStepDoesNotAllocate(t *testing.T) {
	skipAllocationTest(t)
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "seq2seq", "dates.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	pairs := filepath.Join(t.TempDir(), "pairs.tsv")
	head := b[:bytes.LastIndexByte(b[:4000], '\n')+1] // the header and about a hundred pairs
	if err := os.WriteFile(pairs, head, 0o644); err != nil {
		t.Fatal(err)
	}
	l := newTestLoop(t, `
name: s2s
seed: 2
data:
  source: tsv:`+pairs+`
  task: seq2seq
  source_column: date
  target_column: iso
  text: {tokens: char}
  split: {train: 0.8, val: 0.1, test: 0.1}
model: {kind: seq2seq, dim: 16, heads: 2, ff: 32, encoder_layers: 1, decoder_layers: 2, dropout: 0.1, positional: learned}
train: {epochs: 1, batch_size: 16, optimizer: {kind: adam, lr: 0.001}}
`)
	l.NoPrefetch = true
	if n := stepAllocations(t, l); n != 0 {
		t.Errorf("%v allocations per step, want 0", n)
	}
}
