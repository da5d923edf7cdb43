package sweep

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// state is the sweep as its journal tells it.
type state struct {
	spec   *Spec
	trials []*trialState // by trial number
}

// trialState is one trial's claims and results.
type trialState struct {
	ID      int
	Values  map[string]any
	Results []Record // one per rung reached, in order
	Pending *Record  // the claim being worked on (or orphaned), if any
	Worker  string
}

// replay builds the state from the journal's records.
func replay(recs []Record) (*state, error) {
	if len(recs) == 0 || recs[0].Event != "sweep" || recs[0].Spec == nil {
		return nil, fmt.Errorf("%w: the first record is not the sweep's", ErrBadJournal)
	}
	st := &state{spec: recs[0].Spec}
	for i, r := range recs[1:] {
		if r.Trial < 0 || r.Trial > len(st.trials) {
			return nil, fmt.Errorf("%w: record %d names trial %d of %d", ErrBadJournal, i+2, r.Trial, len(st.trials))
		}
		if r.Trial == len(st.trials) {
			if r.Event != "claim" {
				return nil, fmt.Errorf("%w: record %d: a %s of trial %d before its claim", ErrBadJournal, i+2, r.Event, r.Trial)
			}
			st.trials = append(st.trials, &trialState{ID: r.Trial, Values: r.Values})
		}
		t := st.trials[r.Trial]
		switch r.Event {
		case "claim":
			rec := r
			t.Pending, t.Worker = &rec, r.Worker
		case "result":
			if t.Pending == nil || t.Pending.Rung != r.Rung {
				return nil, fmt.Errorf("%w: record %d: a result of trial %d rung %d that was not claimed", ErrBadJournal, i+2, r.Trial, r.Rung)
			}
			t.Pending = nil
			t.Results = append(t.Results, r)
		default:
			return nil, fmt.Errorf("%w: record %d: unknown event %q", ErrBadJournal, i+2, r.Event)
		}
	}
	return st, nil
}

// last is the trial's newest result, or nil.
func (t *trialState) last() *Record {
	if len(t.Results) == 0 {
		return nil
	}
	return &t.Results[len(t.Results)-1]
}

// loss is the trial's best metric so far as a loss (smaller is better);
// +Inf when there is none.
func (s *state) loss(r *Record) float64 {
	if r == nil || r.Value == nil {
		return math.Inf(1)
	}
	if s.spec.Max {
		return -*r.Value
	}
	return *r.Value
}

// observations are the trials with a result, for the samplers.
func (s *state) observations() []Observation {
	var out []Observation
	for _, t := range s.trials {
		if r := t.last(); r != nil {
			out = append(out, Observation{Values: t.Values, Loss: s.loss(r)})
		}
	}
	return out
}

// rungBudget is the epochs a trial trains to in ASHA's rung k: min_epochs ×
// reduction^k, 0 (all of train.epochs) at the top rung.
func (s *Spec) rungBudget(k int) int {
	b := s.EarlyStop.MinEpochs
	for range k {
		b *= s.EarlyStop.Reduction
		if b >= s.Epochs {
			return 0
		}
	}
	if b >= s.Epochs {
		return 0
	}
	return b
}

// promotion is the ASHA promotion to make now, if any (Li et al.,
// "A System for Massively Parallel Hyperparameter Tuning", 2020): from the
// highest rung down, a trial in the top 1/reduction of the results at its
// rung that is paused there and not being worked on goes up one rung.
func (s *state) promotion() (t *trialState, rung int, ok bool) {
	top := 0
	for _, t := range s.trials {
		top = max(top, len(t.Results))
	}
	for k := top - 1; k >= 0; k-- {
		var at []*trialState
		for _, t := range s.trials {
			if len(t.Results) > k {
				at = append(at, t)
			}
		}
		sort.SliceStable(at, func(i, j int) bool {
			return s.loss(&at[i].Results[k]) < s.loss(&at[j].Results[k])
		})
		for _, t := range at[:len(at)/s.spec.EarlyStop.Reduction] {
			if r := t.last(); t.Pending == nil && len(t.Results) == k+1 && r.Status == "paused" && r.Value != nil {
				return t, k + 1, true
			}
		}
	}
	return s.finishing()
}

// finishing is the promotion that ends a sweep whose trials have all
// started but none of which trained all its epochs (too few trials for
// 1/reduction of a rung to reach the top): the best trial of the highest
// rung goes up, one rung at a time, so the winner is a whole run.
func (s *state) finishing() (*trialState, int, bool) {
	if len(s.trials) < s.spec.Trials {
		return nil, 0, false
	}
	var best *trialState
	for _, t := range s.trials {
		r := t.last()
		if t.Pending != nil || (r != nil && r.Status == "completed") {
			return nil, 0, false // one is complete, or may complete
		}
		if r == nil || r.Status != "paused" || r.Value == nil {
			continue
		}
		if best == nil || len(t.Results) > len(best.Results) ||
			(len(t.Results) == len(best.Results) && s.loss(r) < s.loss(best.last())) {
			best = t
		}
	}
	if best == nil {
		return nil, 0, false
	}
	return best, len(best.Results), true
}

// medianPrune is the median stopping rule (Golovin et al., "Google
// Vizier", 2017): after min_epochs, a trial stops when its best so far is
// worse than the median of the other trials' best at the same epoch. At
// least medianMinTrials other trials must have reached that epoch.
func (s *state) medianPrune(self int) func(epoch int, best float64) bool {
	type curve []float64
	var others []curve
	for _, t := range s.trials {
		if t.ID == self || t.last() == nil {
			continue
		}
		var c curve
		for _, v := range t.last().Curve {
			c = append(c, value(v))
		}
		others = append(others, c)
	}
	sign := 1.0
	if s.spec.Max {
		sign = -1
	}
	return func(epoch int, best float64) bool {
		if epoch < s.spec.EarlyStop.MinEpochs || math.IsNaN(best) {
			return false
		}
		var bests []float64
		for _, c := range others {
			if len(c) < epoch {
				continue
			}
			b := math.Inf(1)
			for _, v := range c[:epoch] {
				if !math.IsNaN(v) {
					b = min(b, sign*v)
				}
			}
			bests = append(bests, b)
		}
		if len(bests) < medianMinTrials {
			return false
		}
		slices.Sort(bests)
		median := bests[len(bests)/2]
		if len(bests)%2 == 0 {
			median = (bests[len(bests)/2-1] + median) / 2
		}
		return sign*best > median
	}
}

// medianMinTrials is how many other trials must have reached an epoch
// before the median rule stops a trial there.
const medianMinTrials = 3

// finished reports whether no work is left: every trial started, none
// pending, nothing to promote.
func (s *state) finished() bool {
	if len(s.trials) < s.spec.Trials {
		return false
	}
	for _, t := range s.trials {
		if t.Pending != nil {
			return false
		}
	}
	switch s.spec.EarlyStop.Kind {
	case "asha":
		_, _, ok := s.promotion()
		return !ok
	case "hyperband":
		_, _, ok := s.hbPromotion()
		return !ok
	}
	return true
}
