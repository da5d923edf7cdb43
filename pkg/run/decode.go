package run

import (
	"fmt"
	"math"
	"slices"

	"github.com/dltrain/dltrain/pkg/data"
	"github.com/dltrain/dltrain/pkg/eval"
	"github.com/dltrain/dltrain/pkg/models"
	"github.com/dltrain/dltrain/pkg/train"
)

// sequencesOf is what a seq2seq model is built for, from the data's
// description; nil for other data.
func sequencesOf(meta data.Meta) *models.Sequences {
	m := meta.Seq2Seq
	if m == nil {
		return nil
	}
	return &models.Sequences{SourceLength: m.SourceLength, TargetLength: m.TargetLength,
		SourceVocab: len(m.SourceVocab), TargetVocab: len(m.TargetVocab),
		LongestSource: m.LongestSource, LongestTarget: m.LongestTarget}
}

// Decoder turns source sequences into target sequences with a seq2seq
// model's evaluation graph, one target position per pass: greedy (beam
// 1: the most likely token at each step) or beam search. Decoding is
// deterministic: the same weights and sources give the same tokens (ties
// go to the lower token id, then to the earlier hypothesis).
type Decoder struct {
	Session *train.Session
	// Source and Target are the model's sequence lengths S and T; Vocab
	// the target vocabulary's size.
	Source, Target, Vocab int
	// Batch is the most rows run at once (a beam takes Beam rows per
	// source).
	Batch int
	// Beam is the beam width (<= 1: greedy).
	Beam int
	// LengthPenalty α ranks beam hypotheses by their summed
	// log-probability / length^α, the length counting the end of
	// sequence (0: by the sum alone).
	LengthPenalty float64
	// MaxLength is the most tokens decoded, the end of sequence included
	// (0 or above Target: Target).
	MaxLength int
}

// hypothesis is one beam's tokens (without BOS) and their summed
// log-probability.
type hypothesis struct {
	tokens []int
	logp   float64
}

// Decode returns the target ids decoded for each source (SourceLength
// ids each, padded), without BOS and EOS.
func (d *Decoder) Decode(sources [][]float32) ([][]int, error) {
	beam := max(d.Beam, 1)
	chunk := max(1, d.Batch/beam)
	out := make([][]int, 0, len(sources))
	for lo := 0; lo < len(sources); lo += chunk {
		got, err := d.decodeChunk(sources[lo:min(lo+chunk, len(sources))], beam)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	return out, nil
}

// decodeChunk decodes a few sources at once, beam rows each.
func (d *Decoder) decodeChunk(sources [][]float32, beam int) ([][]int, error) {
	S, T, V := d.Source, d.Target, d.Vocab
	maxLen := d.MaxLength
	if maxLen <= 0 || maxLen > T {
		maxLen = T
	}
	rows := len(sources) * beam
	split := &data.Split{Name: "decode", N: rows, X: make([]float32, rows*(S+T)), Y: make([]float32, rows*T)} // Y: padding, which the loss ignores
	idx := make([]int, rows)
	for i := range idx {
		idx[i] = i
	}
	logits := make([]float64, rows*T*V)
	live := make([][]hypothesis, len(sources))
	done := make([][]hypothesis, len(sources))
	for i := range live {
		live[i] = []hypothesis{{}}
	}
	logp := make([]float64, V)
	for t := range maxLen {
		for i, src := range sources {
			for b := range beam {
				row := split.X[(i*beam+b)*(S+T) : (i*beam+b+1)*(S+T)]
				copy(row, src)
				clear(row[S:])
				row[S] = data.BOSID
				if b < len(live[i]) {
					for j, tok := range live[i][b].tokens {
						row[S+1+j] = float32(tok)
					}
				}
			}
		}
		if _, err := d.Session.Predict(split, idx, logits); err != nil {
			return nil, fmt.Errorf("decoding step %d: %w", t+1, err)
		}
		last := t == maxLen-1
		for i := range sources {
			if len(live[i]) == 0 {
				continue
			}
			var cands []candidate
			for b, h := range live[i] {
				r := i*beam + b
				logSoftmax(logp, logits[(r*T+t)*V:(r*T+t+1)*V])
				for tok, lp := range logp {
					if tok == data.PadID || tok == data.BOSID {
						continue // never produced: padding and the start token
					}
					cands = append(cands, candidate{beam: b, token: tok, logp: h.logp + lp})
				}
			}
			slices.SortStableFunc(cands, func(a, b candidate) int { // best first; ties: earlier hypothesis, lower id
				switch {
				case a.logp > b.logp:
					return -1
				case a.logp < b.logp:
					return 1
				case a.beam != b.beam:
					return a.beam - b.beam
				}
				return a.token - b.token
			})
			var next []hypothesis
			for _, c := range cands {
				if len(next) == beam {
					break
				}
				h := hypothesis{tokens: append(slices.Clone(live[i][c.beam].tokens), c.token), logp: c.logp}
				if c.token == data.EOSID {
					done[i] = append(done[i], h)
					continue
				}
				next = append(next, h)
			}
			switch {
			case last:
				done[i] = append(done[i], next...) // unfinished at the length limit: ranked with the rest
				next = nil
			case len(done[i]) >= beam:
				next = nil // beam hypotheses have ended
			}
			live[i] = next
		}
	}
	out := make([][]int, len(sources))
	for i, hs := range done {
		best := -1
		for j, h := range hs {
			if best < 0 || d.score(h) > d.score(hs[best]) {
				best = j
			}
		}
		if best >= 0 {
			toks := hs[best].tokens
			if n := len(toks); n > 0 && toks[n-1] == data.EOSID {
				toks = toks[:n-1]
			}
			out[i] = toks
		}
	}
	return out, nil
}

// candidate is one extension of a live hypothesis by one token.
type candidate struct {
	beam, token int
	logp        float64
}

// score ranks a finished hypothesis: its log-probability over its
// length (EOS included) to the power α.
func (d *Decoder) score(h hypothesis) float64 {
	if d.LengthPenalty == 0 || len(h.tokens) == 0 {
		return h.logp
	}
	return h.logp / math.Pow(float64(len(h.tokens)), d.LengthPenalty)
}

// logSoftmax writes log(softmax(z)) into dst.
func logSoftmax(dst, z []float64) {
	m := math.Inf(-1)
	for _, v := range z {
		m = max(m, v)
	}
	var sum float64
	for _, v := range z {
		sum += math.Exp(v - m)
	}
	lse := m + math.Log(sum)
	for i, v := range z {
		dst[i] = v - lse
	}
}

// newDecoder is the decoder of a built seq2seq setup, with the run's
// eval section.
func newDecoder(s *setup, beam int) (*Decoder, error) {
	m, ok := s.model.(*models.Seq2Seq)
	if !ok {
		return nil, fmt.Errorf("decoding needs a seq2seq model, not %s", s.exp.Model.Kind)
	}
	sq := m.Sequences()
	return &Decoder{Session: s.session, Source: sq.SourceLength, Target: sq.TargetLength, Vocab: sq.TargetVocab,
		Batch: max(s.exp.Train.BatchSize, 256), Beam: beam, LengthPenalty: s.exp.Eval.LengthPenalty, MaxLength: s.exp.Eval.MaxLength}, nil
}

// scoreDecodings adds to a seq2seq report the exact match and BLEU of
// greedy decoding on split, and of beam search when eval.beam is above
// 1.
func scoreDecodings(s *setup, split *data.Split, r *eval.Report) error {
	if r.Seq2Seq == nil {
		return nil
	}
	S, T := s.ds.Seq2Seq.SourceLength, s.ds.Seq2Seq.TargetLength
	sources := make([][]float32, split.N)
	refs := make([][]int, split.N)
	for i := range sources {
		sources[i] = split.X[i*(S+T) : i*(S+T)+S]
		refs[i] = referenceIDs(split.Y[i*T : (i+1)*T])
	}
	beams := []int{1}
	if s.exp.Eval.Beam > 1 {
		beams = append(beams, s.exp.Eval.Beam)
	}
	for _, k := range beams {
		d, err := newDecoder(s, k)
		if err != nil {
			return err
		}
		got, err := d.Decode(sources)
		if err != nil {
			return err
		}
		dec := &eval.Decoding{Beam: k, LengthPenalty: d.LengthPenalty, MaxLength: min(T, max(d.MaxLength, 0))}
		if dec.MaxLength == 0 {
			dec.MaxLength = T
		}
		if k == 1 {
			dec.LengthPenalty = 0 // greedy ranks nothing
		}
		dec.ExactMatch, dec.BLEU = eval.ScoreDecoding(got, refs)
		if k == 1 {
			r.Seq2Seq.Greedy = dec
		} else {
			r.Seq2Seq.Beam = dec
		}
	}
	return nil
}

// referenceIDs are a target's ids up to its EOS, an unknown token as −1
// (which matches nothing: the model cannot be credited for a token its
// vocabulary lacks).
func referenceIDs(y []float32) []int {
	var out []int
	for _, v := range y {
		id := int(v)
		if id == data.EOSID || id == data.PadID {
			break
		}
		if id == data.UnknownID {
			id = -1
		}
		out = append(out, id)
	}
	return out
}
