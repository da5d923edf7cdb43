package eval

import "math"

// BLEU is corpus-level BLEU-4 (Papineni, Roukos, Ward and Zhu 2002) of
// candidate token sequences against one reference each: the geometric
// mean of the modified (clipped) n-gram precisions for n = 1..4, each
// summed over the whole corpus before dividing, times the brevity
// penalty exp(1 − r/c) when the candidates' total length c is not above
// the references' r. There is no smoothing: a corpus with no matching
// n-gram for some n scores 0. Tokens are compared as ids, and a
// negative id never matches (an unknown reference token).
type BLEU struct {
	Score float64 `json:"score"`
	// Precisions are the modified n-gram precisions, n = 1..4.
	Precisions [4]float64 `json:"precisions"`
	// BrevityPenalty is exp(1 − r/c) for c <= r, else 1 (0 when c is 0).
	BrevityPenalty float64 `json:"brevity_penalty"`
	// CandidateLength and ReferenceLength are c and r, in tokens.
	CandidateLength int `json:"candidate_length"`
	ReferenceLength int `json:"reference_length"`
}

// ngram is up to four token ids.
type ngram [4]int

// CorpusBLEU scores candidates against references (one per candidate).
func CorpusBLEU(candidates, references [][]int) BLEU {
	var match, total [4]int
	var b BLEU
	for i, cand := range candidates {
		ref := references[i]
		b.CandidateLength += len(cand)
		b.ReferenceLength += len(ref)
		for n := 1; n <= 4; n++ {
			refCounts := ngramCounts(ref, n)
			for g, c := range ngramCounts(cand, n) {
				match[n-1] += min(c, refCounts[g])
				total[n-1] += c
			}
		}
	}
	logSum := 0.0
	for n := range 4 {
		if total[n] > 0 {
			b.Precisions[n] = float64(match[n]) / float64(total[n])
		}
		logSum += math.Log(b.Precisions[n]) / 4
	}
	switch c, r := b.CandidateLength, b.ReferenceLength; {
	case c == 0:
		b.BrevityPenalty = 0
	case c > r:
		b.BrevityPenalty = 1
	default:
		b.BrevityPenalty = math.Exp(1 - float64(r)/float64(c))
	}
	if b.BrevityPenalty > 0 && !math.IsInf(logSum, -1) {
		b.Score = b.BrevityPenalty * math.Exp(logSum)
	}
	return b
}

// ngramCounts counts the n-grams of s, leaving out those holding a
// negative id (which match nothing).
func ngramCounts(s []int, n int) map[ngram]int {
	out := map[ngram]int{}
	for i := 0; i+n <= len(s); i++ {
		var g ngram
		ok := true
		for j := range n {
			g[j] = s[i+j]
			ok = ok && s[i+j] >= 0
		}
		for j := n; j < 4; j++ {
			g[j] = -1
		}
		if ok {
			out[g]++
		}
	}
	return out
}
