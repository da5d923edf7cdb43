package eval

// Seq2Seq scores a sequence-to-sequence model on a split: token accuracy
// with teacher forcing (every target position predicted from the true
// tokens before it), and, when decoded, exact match and BLEU of the
// decoded sequences.
type Seq2Seq struct {
	N int `json:"samples"`
	// Tokens are the target positions scored (each pair's tokens and its
	// end of sequence; padding is not).
	Tokens        int     `json:"tokens"`
	TokenAccuracy float64 `json:"token_accuracy"`
	// Greedy is greedy decoding's score; Beam beam search's, when
	// eval.beam is above 1.
	Greedy *Decoding `json:"greedy,omitempty"`
	Beam   *Decoding `json:"beam,omitempty"`
}

// Decoding scores sequences decoded without the true target.
type Decoding struct {
	Beam          int     `json:"beam"`           // 1: greedy
	LengthPenalty float64 `json:"length_penalty"` // beam search's ranking exponent
	MaxLength     int     `json:"max_length"`     // most tokens decoded, end of sequence included
	// ExactMatch is the fraction of samples whose decoded sequence is
	// the reference, token for token.
	ExactMatch float64 `json:"exact_match"`
	BLEU       BLEU    `json:"bleu"`
}

// TokenAccuracy counts the positions of target (ids, ignore marking
// padding) whose highest logit in logits (width classes per position) is
// the target; ties go to the lowest id.
func TokenAccuracy(logits []float64, target []float32, classes int, ignore int) (correct, total int) {
	pred := Argmax(logits, classes)
	for i, y := range target {
		if int(y) == ignore {
			continue
		}
		total++
		if pred[i] == int(y) {
			correct++
		}
	}
	return correct, total
}

// ScoreDecoding is a decoding's exact match and BLEU against the
// references.
func ScoreDecoding(decoded, references [][]int) (exact float64, bleu BLEU) {
	same := 0
	for i, d := range decoded {
		if equalInts(d, references[i]) {
			same++
		}
	}
	if len(decoded) > 0 {
		exact = float64(same) / float64(len(decoded))
	}
	return exact, CorpusBLEU(decoded, references)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
