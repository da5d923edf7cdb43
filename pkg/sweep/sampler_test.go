package sweep

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// syntheticSpace is the space of the known objective below.
var syntheticSpace = []Param{
	{Path: "lr", Kind: "log_uniform", Lo: 1e-5, Hi: 1},
	{Path: "x", Kind: "uniform", Lo: 0, Hi: 1},
	{Path: "units", Kind: "int_uniform", Lo: 1, Hi: 64},
	{Path: "batch", Kind: "choice", Choices: []any{16, 32, 64, 128}},
}

// objective has its minimum 0 at lr = 10^-2.5, x = 0.3, units = 40,
// batch = 32: a bowl in log lr, quadratic in x and units, a penalty per
// wrong choice.
func objective(v map[string]any) float64 {
	lr, x, units := v["lr"].(float64), v["x"].(float64), v["units"].(float64)
	f := math.Pow(math.Log10(lr)+2.5, 2) + 4*math.Pow(x-0.3, 2) + math.Pow((units-40)/20, 2)
	if fmt.Sprint(v["batch"]) != "32" {
		f += 0.5
	}
	return f
}

// search runs n trials of a method on the objective and returns the best.
func search(method string, seed uint64, n int) float64 {
	spec := &Spec{Method: method, Trials: n, Seed: seed, Space: syntheticSpace, TPE: TPE{Startup: 3, Gamma: 0.25, Candidates: 24}}
	s := Samplers[method](spec)
	var done []Observation
	best := math.Inf(1)
	for i := range n {
		v := s.Suggest(i, done, trialRNG(seed, i))
		f := objective(v)
		best = min(best, f)
		done = append(done, Observation{Values: v, Loss: f})
	}
	return best
}

// TestTPEBeatsRandomOnAKnownFunction: over a recorded seed set, TPE's
// best after 12 trials is at least as good as random search's on
// average, and better on most seeds.
func TestTPEBeatsRandomOnAKnownFunction(t *testing.T) {
	const trials = 12
	var tpeSum, randSum float64
	wins := 0
	seeds := []uint64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	for _, seed := range seeds {
		tb, rb := search("tpe", seed, trials), search("random", seed, trials)
		tpeSum, randSum = tpeSum+tb, randSum+rb
		if tb <= rb {
			wins++
		}
	}
	t.Logf("mean best after %d trials over %d seeds: tpe %.4f, random %.4f; tpe at least as good on %d seeds", trials, len(seeds), tpeSum/20, randSum/20, wins)
	if tpeSum > randSum || wins < len(seeds)/2 {
		t.Errorf("tpe mean best %.4f, random %.4f; tpe at least as good on %d of %d seeds", tpeSum/20, randSum/20, wins, len(seeds))
	}
}

// TestSamplersStayInRange: every value of every sampler lies in its
// parameter's range, integers are integers and choices are choices.
func TestSamplersStayInRange(t *testing.T) {
	for _, method := range methodNames() {
		t.Run(method, func(t *testing.T) {
			space := syntheticSpace
			if method == "grid" {
				space = []Param{{Path: "units", Kind: "int_uniform", Lo: 1, Hi: 3}, {Path: "batch", Kind: "choice", Choices: []any{16, 32, 64, 128}}}
			}
			spec := &Spec{Method: method, Trials: 12, Seed: 3, Space: space, TPE: TPE{Startup: 3, Gamma: 0.25, Candidates: 24}}
			s := Samplers[method](spec)
			var done []Observation
			for i := range 12 {
				v := s.Suggest(i, done, trialRNG(3, i))
				for _, p := range space {
					x := v[p.Path]
					if p.Kind == "choice" {
						if p.choiceIndex(x) < 0 {
							t.Fatalf("trial %d: %s = %v is not a choice", i, p.Path, x)
						}
						continue
					}
					f := x.(float64)
					if f < p.Lo || f > p.Hi || (p.Kind == "int_uniform" && f != math.Trunc(f)) {
						t.Fatalf("trial %d: %s = %v outside %s [%g, %g]", i, p.Path, f, p.Kind, p.Lo, p.Hi)
					}
				}
				done = append(done, Observation{Values: v, Loss: float64(i % 5)})
			}
		})
	}
}

// TestGridEnumeratesEveryPoint: grid's trials are the whole product, once
// each.
func TestGridEnumeratesEveryPoint(t *testing.T) {
	space := []Param{{Path: "a", Kind: "int_uniform", Lo: 1, Hi: 3}, {Path: "b", Kind: "choice", Choices: []any{"x", "y"}}}
	g := grid{space: space}
	var got []string
	for i := range gridSize(space) {
		v := g.Suggest(i, nil, nil)
		got = append(got, fmt.Sprintf("%v %v", v["a"], v["b"]))
	}
	want := []string{"1 x", "1 y", "2 x", "2 y", "3 x", "3 y"}
	if !slices.Equal(got, want) {
		t.Fatalf("grid points %v, want %v", got, want)
	}
}

// TestParzenIsADensity: the truncated mixture integrates to 1 over its
// range, and its samples stay inside it.
func TestParzenIsADensity(t *testing.T) {
	p := newParzen([]float64{0.1, 0.15, 0.9}, 0, 1)
	const n = 20000
	sum := 0.0
	for i := range n {
		x := (float64(i) + 0.5) / n
		sum += math.Exp(p.logPDF(x)) / n
	}
	if math.Abs(sum-1) > 1e-3 {
		t.Errorf("integral %v, want 1", sum)
	}
	rng := trialRNG(1, 0)
	for range 1000 {
		if x := p.sample(rng); x < 0 || x > 1 {
			t.Fatalf("sample %v outside [0, 1]", x)
		}
	}
}
