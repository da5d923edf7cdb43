package sweep

import "sort"

// bracket is one of Hyperband's brackets: a successive-halving run whose
// rung i holds Rungs[i].Trials trials, each trained to Rungs[i].Epochs.
type bracket struct {
	S     int // the bracket's index s, s_max down to 0
	First int // its first trial (0-based); its trials follow on
	Rungs []hbRung
}

// hbRung is one rung of a bracket.
type hbRung struct {
	Trials int // n_i
	Epochs int // r_i
}

// brackets is Hyperband's table (Li et al., "Hyperband: A Novel
// Bandit-Based Approach to Hyperparameter Optimization", JMLR 2018,
// algorithm 1), with the resource counted in epochs: R = maxEpochs,
// η = eta, the smallest budget minEpochs. s_max = ⌊log_η(R/r)⌋; bracket s
// starts n = ⌈(s_max+1)/(s+1)·η^s⌉ trials at R·η^-s epochs, and rung i
// keeps n_i = ⌊n·η^-i⌋ trials at R·η^(i-s) epochs.
func brackets(maxEpochs, minEpochs, eta int) []bracket {
	sMax := 0
	for p := eta; p*minEpochs <= maxEpochs; p *= eta {
		sMax++
	}
	var out []bracket
	first := 0
	for s := sMax; s >= 0; s-- {
		pow := 1
		for range s {
			pow *= eta
		}
		n := ((sMax+1)*pow + s) / (s + 1) // ⌈(s_max+1)·η^s/(s+1)⌉
		b := bracket{S: s, First: first}
		for i := 0; i <= s; i++ {
			div := 1 // η^(s-i)
			for range s - i {
				div *= eta
			}
			ni := n
			for range i {
				ni /= eta
			}
			b.Rungs = append(b.Rungs, hbRung{Trials: ni, Epochs: max(maxEpochs/div, minEpochs)})
		}
		out = append(out, b)
		first += n
	}
	return out
}

// hyperbandTrials is how many trials Hyperband's brackets start in all.
func hyperbandTrials(bs []bracket) int {
	n := 0
	for _, b := range bs {
		n += b.Rungs[0].Trials
	}
	return n
}

// bracketOf is the bracket a trial belongs to: trials are dealt to the
// brackets in order, s_max's first, so every worker agrees.
func bracketOf(bs []bracket, trial int) *bracket {
	for i := range bs {
		if trial < bs[i].First+bs[i].Rungs[0].Trials {
			return &bs[i]
		}
	}
	return &bs[len(bs)-1]
}

// hbBrackets is the spec's Hyperband table.
func (s *Spec) hbBrackets() []bracket {
	return brackets(s.EarlyStop.MaxEpochs, s.EarlyStop.MinEpochs, s.EarlyStop.Reduction)
}

// hbBudget is the epochs a trial trains to in rung k of its bracket; 0
// (all of train.epochs) at max_epochs.
func (s *Spec) hbBudget(trial, k int) int {
	b := bracketOf(s.hbBrackets(), trial)
	e := b.Rungs[min(k, len(b.Rungs)-1)].Epochs
	if e >= s.Epochs {
		return 0
	}
	return e
}

// hbPromotion is the successive-halving promotion to make now, if any:
// once every trial of a bracket's rung i has its result, the best
// ⌊n_i/η⌋ of them (those with a finite metric) resume their checkpoints
// to rung i+1. Rungs are synchronous within a bracket, as in the paper;
// brackets run side by side.
func (s *state) hbPromotion() (t *trialState, rung int, ok bool) {
	for _, b := range s.spec.hbBrackets() {
		for k := len(b.Rungs) - 2; k >= 0; k-- {
			var at []*trialState
			for id := b.First; id < b.First+b.Rungs[0].Trials && id < len(s.trials); id++ {
				if t := s.trials[id]; len(t.Results) > k {
					at = append(at, t)
				}
			}
			if len(at) < b.Rungs[k].Trials {
				continue // the rung is not complete yet
			}
			sort.SliceStable(at, func(i, j int) bool {
				return s.loss(&at[i].Results[k]) < s.loss(&at[j].Results[k])
			})
			for _, t := range at[:b.Rungs[k].Trials/s.spec.EarlyStop.Reduction] {
				if r := t.last(); t.Pending == nil && len(t.Results) == k+1 && r.Status == "paused" && r.Value != nil {
					return t, k + 1, true
				}
			}
		}
	}
	return nil, 0, false
}
