package eval

import (
	"math"
	"testing"
)

// TestCorpusBLEU compares CorpusBLEU with values worked out by hand from
// Papineni et al.'s definition (clipped n-gram counts summed over the
// corpus, geometric mean of p1..p4, brevity penalty exp(1 − r/c) when
// c <= r, no smoothing).
func TestCorpusBLEU(t *testing.T) {
	for _, c := range []struct {
		name       string
		cand, ref  [][]int
		want       float64
		precisions [4]float64
		bp         float64
	}{
		{"identical", [][]int{{1, 2, 3, 4, 5}}, [][]int{{1, 2, 3, 4, 5}}, 1, [4]float64{1, 1, 1, 1}, 1},
		// p4 = 0/1: without smoothing the score is 0.
		{"no 4-gram matches", [][]int{{1, 2, 3, 4}}, [][]int{{1, 2, 3, 5, 6}}, 0, [4]float64{3. / 4, 2. / 3, 1. / 2, 0}, math.Exp(1 - 5./4)},
		// Corpus sums: p1 = (6+2)/(6+4) (the four 1s clipped to the
		// reference's two), p2 = 5/8, p3 = 4/6, p4 = 3/4; c = 10, r = 11:
		// BLEU = exp(1 − 11/10) · (0.8 · 0.625 · 2/3 · 0.75)^(1/4) = e^−0.1 · 0.25^(1/4).
		{"two sentences, clipping and brevity", [][]int{{1, 2, 3, 4, 5, 6}, {1, 1, 1, 1}}, [][]int{{1, 2, 3, 4, 5, 6, 7}, {1, 2, 1, 3}},
			math.Exp(-0.1) * math.Pow(0.25, 0.25), [4]float64{0.8, 0.625, 4. / 6, 0.75}, math.Exp(-0.1)},
		// Longer than the reference: no penalty; (5/6 · 4/5 · 3/4 · 2/3)^(1/4) = (1/3)^(1/4).
		{"longer candidate", [][]int{{1, 2, 3, 4, 5, 6}}, [][]int{{1, 2, 3, 4, 5}}, math.Pow(1./3, 0.25), [4]float64{5. / 6, 4. / 5, 3. / 4, 2. / 3}, 1},
		// An unknown reference token (negative id) matches nothing, not even a candidate's <unk>.
		{"unknown reference token", [][]int{{1, 2, 3, 4, 5}}, [][]int{{1, 2, -1, 4, 5}}, 0, [4]float64{4. / 5, 2. / 4, 0, 0}, 1},
		{"empty candidate", [][]int{{}}, [][]int{{1, 2}}, 0, [4]float64{}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := CorpusBLEU(c.cand, c.ref)
			if math.Abs(b.Score-c.want) > 1e-12 {
				t.Errorf("BLEU %.12f, want %.12f", b.Score, c.want)
			}
			for n := range 4 {
				if math.Abs(b.Precisions[n]-c.precisions[n]) > 1e-12 {
					t.Errorf("p%d = %v, want %v", n+1, b.Precisions[n], c.precisions[n])
				}
			}
			if math.Abs(b.BrevityPenalty-c.bp) > 1e-12 {
				t.Errorf("brevity penalty %v, want %v", b.BrevityPenalty, c.bp)
			}
		})
	}
}
