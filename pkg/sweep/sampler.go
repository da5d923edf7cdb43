package sweep

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
)

// Observation is a finished (or stopped) trial as a sampler sees it.
type Observation struct {
	Values map[string]any
	Loss   float64 // the metric, negated when larger is better: smaller is better
}

// Sampler suggests the values of a new trial.
type Sampler interface {
	// Suggest returns the values of trial (0-based) given the trials
	// observed so far. rng is the trial's own stream.
	Suggest(trial int, done []Observation, rng *rand.Rand) map[string]any
}

// Samplers are the methods of a sweep, by name.
var Samplers = map[string]func(s *Spec) Sampler{
	"grid":   func(s *Spec) Sampler { return grid{space: s.Space} },
	"random": func(s *Spec) Sampler { return random{space: s.Space} },
	"tpe":    func(s *Spec) Sampler { return &tpe{space: s.Space, opt: s.TPE} },
}

var (
	_ Sampler = grid{}
	_ Sampler = random{}
	_ Sampler = (*tpe)(nil)
)

func methodNames() []string {
	out := make([]string, 0, len(Samplers))
	for k := range Samplers {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// trialRNG is trial's own random stream: its suggestion does not depend
// on which worker draws it or when.
func trialRNG(seed uint64, trial int) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x5eed0000+uint64(trial)))
}

// random draws every parameter independently from its range.
type random struct{ space []Param }

func (r random) Suggest(_ int, _ []Observation, rng *rand.Rand) map[string]any {
	out := map[string]any{}
	for _, p := range r.space {
		out[p.Path] = p.draw(rng)
	}
	return out
}

// draw is one value from the parameter's prior.
func (p Param) draw(rng *rand.Rand) any {
	switch p.Kind {
	case "uniform":
		return p.Lo + rng.Float64()*(p.Hi-p.Lo)
	case "log_uniform":
		return math.Exp(math.Log(p.Lo) + rng.Float64()*(math.Log(p.Hi)-math.Log(p.Lo)))
	case "int_uniform":
		return float64(int(p.Lo) + rng.IntN(int(p.Hi-p.Lo)+1))
	}
	return p.Choices[rng.IntN(len(p.Choices))]
}

// grid enumerates every combination, the last parameter fastest.
type grid struct{ space []Param }

func (g grid) Suggest(trial int, _ []Observation, _ *rand.Rand) map[string]any {
	out := map[string]any{}
	for i := len(g.space) - 1; i >= 0; i-- {
		p := g.space[i]
		n := p.size()
		k := trial % n
		trial /= n
		if p.Kind == "choice" {
			out[p.Path] = p.Choices[k]
		} else {
			out[p.Path] = p.Lo + float64(k)
		}
	}
	return out
}

// choiceIndex is the index of v among the choices (compared as JSON: a
// journal's 32 is the file's 32), or -1.
func (p Param) choiceIndex(v any) int {
	b, _ := json.Marshal(v)
	for i, c := range p.Choices {
		if cb, _ := json.Marshal(c); string(cb) == string(b) {
			return i
		}
	}
	return -1
}
